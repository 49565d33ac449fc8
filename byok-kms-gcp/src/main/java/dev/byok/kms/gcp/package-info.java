/**
 * A {@link dev.byok.spi.KeyProvider} for Google Cloud KMS over the official Java client ({@code
 * KeyManagementServiceClient}): {@link dev.byok.kms.gcp.GcpKmsProvider}. No Google type escapes
 * this package's public signatures except the caller-supplied client and settings.
 *
 * <p>Nothing in this package is {@code null} unless marked {@code @Nullable}.
 */
@NullMarked
package dev.byok.kms.gcp;

import org.jspecify.annotations.NullMarked;
