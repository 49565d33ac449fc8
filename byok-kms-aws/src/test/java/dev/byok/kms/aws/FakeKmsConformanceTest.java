package dev.byok.kms.aws;

import dev.byok.spi.KeyProvider;

/** The conformance suite against {@code FakeKms} itself, no wire. */
class FakeKmsConformanceTest extends KmsProviderConformance {
  @Override
  KeyProvider provider(LocalKms world) {
    return world.kms;
  }

  @Override
  int attemptsPerCall() {
    return 1;
  }
}
