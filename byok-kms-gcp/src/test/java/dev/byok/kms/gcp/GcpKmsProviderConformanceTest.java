package dev.byok.kms.gcp;

import dev.byok.testkit.conformance.KeyProviderConformance;
import dev.byok.testkit.conformance.KmsFixture;

/**
 * byok-testkit's public {@link KeyProviderConformance} against {@link GcpKmsProvider} over the
 * official Cloud KMS client (grpc-inprocess) and the Cloud KMS test server. The fixture tells the
 * suite that the client retries {@code UNAVAILABLE} but not {@code RESOURCE_EXHAUSTED}.
 */
class GcpKmsProviderConformanceTest extends KeyProviderConformance {
  @Override
  protected KmsFixture fixture() {
    return new GcpKmsFixture();
  }
}
