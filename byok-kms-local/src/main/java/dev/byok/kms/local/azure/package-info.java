/**
 * A loopback HTTPS server speaking the Azure Key Vault keys REST API: {@link
 * dev.byok.kms.local.azure.AzureKeyVaultServer}, so the official Azure client can be tested with no
 * Azure subscription.
 *
 * <p>Nothing in this package is {@code null} unless marked {@code @Nullable}.
 */
@NullMarked
package dev.byok.kms.local.azure;

import org.jspecify.annotations.NullMarked;
