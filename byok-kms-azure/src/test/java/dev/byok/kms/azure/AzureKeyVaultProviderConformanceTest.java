package dev.byok.kms.azure;

import dev.byok.testkit.conformance.KeyProviderConformance;
import dev.byok.testkit.conformance.KmsFixture;

/**
 * byok-testkit's public {@link KeyProviderConformance} against {@link AzureKeyVaultProvider} over
 * the official Key Vault keys client (loopback HTTPS) and the Key Vault test server.
 */
class AzureKeyVaultProviderConformanceTest extends KeyProviderConformance {
  @Override
  protected KmsFixture fixture() {
    return new AzureKmsFixture();
  }
}
