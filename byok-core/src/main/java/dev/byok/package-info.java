/**
 * The byok public API: envelope encryption of streams, channels and files under data keys that a
 * customer-controlled KMS key protects.
 *
 * <p>Entry points: {@link dev.byok.EnvelopeEncryptor} and {@link dev.byok.EnvelopeDecryptor}. Every
 * failure is a {@link dev.byok.ByokException}. Nothing in this package is {@code null} unless
 * marked {@code @Nullable}.
 */
@NullMarked
package dev.byok;

import org.jspecify.annotations.NullMarked;
