/**
 * A {@link dev.byok.spi.KeyProvider} for Azure Key Vault and Managed HSM: {@link
 * dev.byok.kms.azure.AzureKeyVaultProvider}. No Azure type escapes its public signatures except the
 * caller-supplied azure-core configuration (credential, HTTP client, retry options).
 *
 * <p>Nothing in this package is {@code null} unless marked {@code @Nullable}.
 */
@NullMarked
package dev.byok.kms.azure;

import org.jspecify.annotations.NullMarked;
