/**
 * byok's {@link dev.byok.spi.KeyProvider} for Azure Key Vault and Managed HSM, over the official
 * {@code azure-security-keyvault-keys} client on the JDK HttpClient transport.
 *
 * <p>Exports {@code dev.byok.kms.azure} only. {@code AzureKeyVaultProvider.Builder} takes
 * azure-core types (a {@code TokenCredential}, an {@code HttpClient}, {@code RetryOptions}), so
 * azure-core is read transitively.
 */
module dev.byok.kms.azure {
  requires transitive dev.byok.core;
  requires transitive com.azure.core;
  requires com.azure.security.keyvault.keys;
  requires com.azure.core.http.jdk.httpclient;
  requires com.azure.json;
  requires static org.jspecify;

  exports dev.byok.kms.azure;
}
