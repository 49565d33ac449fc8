package dev.byok.kms.aws;

import dev.byok.testkit.conformance.InMemoryKmsFixture;
import dev.byok.testkit.conformance.KeyProviderConformance;
import dev.byok.testkit.conformance.KmsFixture;

/**
 * byok-testkit's public {@link KeyProviderConformance} against {@link AwsKmsProvider} over the real
 * AWS SDK client (standard retries, {@link LocalKms#MAX_ATTEMPTS} attempts) and {@code
 * LocalKmsServer}.
 */
class AwsKmsProviderPublicConformanceTest extends KeyProviderConformance {
  @Override
  protected KmsFixture fixture() {
    LocalKms world = new LocalKms(AwsKmsProvider.PROVIDER_ID);
    return InMemoryKmsFixture.of(world.api(), world.provider, LocalKms.MAX_ATTEMPTS, world);
  }
}
