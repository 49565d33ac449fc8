/**
 * The service-provider interface to a KMS: implement {@link dev.byok.spi.KeyProvider} to plug a key
 * management system into byok. This is the only place byok talks to a KMS.
 *
 * <p>Nothing in this package is {@code null} unless marked {@code @Nullable}.
 */
@NullMarked
package dev.byok.spi;

import org.jspecify.annotations.NullMarked;
