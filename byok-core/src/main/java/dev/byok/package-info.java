/**
 * The byok public API: envelope encryption of streams, channels and files under data keys that a
 * customer-controlled KMS key protects.
 *
 * <p>Entry point: {@link dev.byok.Byok}, built with a {@link dev.byok.spi.KeyProvider} and the KEKs
 * new blobs are encrypted under. It encrypts ({@link dev.byok.Byok#newEncryptingStream}, {@link
 * dev.byok.Byok#newEncryptingInputStream}, {@link dev.byok.Byok#encryptFile}), decrypts ({@link
 * dev.byok.Byok#newDecryptingStream}, {@link dev.byok.Byok#newDecryptingChannel}, {@link
 * dev.byok.Byok#decryptRange}, {@link dev.byok.Byok#decryptFile}), reads headers without a key
 * ({@link dev.byok.Byok#inspect}) and re-wraps blobs under new KEKs ({@link dev.byok.Byok#rewrap}).
 * Its data keys are generated, cached and retired by a {@link dev.byok.DataKeyManager} within a
 * {@link dev.byok.DataKeyPolicy}.
 *
 * <p>Lower level, for callers that manage data keys themselves (tests, the test kit, tools): {@link
 * dev.byok.EnvelopeEncryptor} encrypts under one given {@link dev.byok.DataKey} and set of {@link
 * dev.byok.KeySlot}s, and {@link dev.byok.EnvelopeDecryptor} decrypts with a {@link
 * dev.byok.DataKeyResolver}. The envelope layout is described by {@link dev.byok.EnvelopeFormat}
 * and {@link dev.byok.EnvelopeHeader}.
 *
 * <p>byok's own failures are unchecked {@link dev.byok.ByokException}s whose subclasses say what to
 * do: {@link dev.byok.InvalidCiphertextException} (the data is not an authentic envelope for this
 * context), {@link dev.byok.KeyUnusableException} (the KMS says the key cannot be used), {@link
 * dev.byok.KmsUnavailableException} (the KMS cannot be reached or throttles; retryable) and {@link
 * dev.byok.ByokConfigurationException}. Failures of the caller's own streams and files, and stream
 * misuse (use after close, a plaintext beyond the format's limit), surface as {@link
 * java.io.IOException}; invalid arguments as {@link IllegalArgumentException} naming the bad value.
 * No exception, log line or {@code toString()} contains key material.
 *
 * <p>Thread-safety is stated on each type: {@code Byok}, the encryptors, decryptors and the data
 * key manager are thread-safe; the streams and channels they make are not. Nothing in this package
 * is {@code null} unless marked {@code @Nullable}.
 */
@NullMarked
package dev.byok;

import org.jspecify.annotations.NullMarked;
