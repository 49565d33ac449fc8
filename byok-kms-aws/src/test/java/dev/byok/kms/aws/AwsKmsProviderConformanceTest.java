package dev.byok.kms.aws;

import dev.byok.spi.KeyProvider;

/** The conformance suite against AwsKmsProvider, the real SDK client and LocalKmsServer. */
class AwsKmsProviderConformanceTest extends KmsProviderConformance {
  @Override
  KeyProvider provider(LocalKms world) {
    return world.provider;
  }

  @Override
  int attemptsPerCall() {
    return LocalKms.MAX_ATTEMPTS; // the SDK retries transient failures
  }
}
