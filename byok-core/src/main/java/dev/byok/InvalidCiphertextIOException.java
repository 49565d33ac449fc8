package dev.byok;

import java.io.IOException;
import java.util.Objects;

/**
 * How the methods of byok's streams and channels ({@code read}, {@code skip}, {@code size}, ...)
 * report an {@link InvalidCiphertextException}: as an {@link IOException}, the way {@code
 * javax.crypto.CipherInputStream} and Tink's streaming AEAD do, so that every {@code java.io}
 * caller that handles {@code IOException} (for example {@code InputStream.transferTo}, {@code
 * Files.copy}, an HTTP client's upload) also handles a bad blob. The {@link
 * InvalidCiphertextException} is always the {@linkplain #getCause() cause}; {@link #reason()} is
 * its reason.
 *
 * <p>Factory methods that parse the header before returning a stream (for example {@link
 * EnvelopeDecryptor#newDecryptingStream}) and whole-file operations ({@link
 * EnvelopeDecryptor#decryptFile}) throw the {@link InvalidCiphertextException} itself. No plaintext
 * of an unauthenticated segment has been released when either is thrown.
 *
 * <p>Immutable; the message never contains key material.
 */
public final class InvalidCiphertextIOException extends IOException {
  private static final long serialVersionUID = 1L;

  /** The reason of the cause. */
  private final InvalidCiphertextException.Reason reason;

  /**
   * Wraps {@code cause}.
   *
   * @param cause the rejection; its message becomes this exception's message
   */
  public InvalidCiphertextIOException(InvalidCiphertextException cause) {
    super(cause.getMessage(), cause);
    this.reason = cause.reason();
  }

  /** {@return why the input was rejected (the cause's reason)} */
  public InvalidCiphertextException.Reason reason() {
    return reason;
  }

  /** {@return the {@link InvalidCiphertextException} this reports; never {@code null}} */
  @Override
  public synchronized InvalidCiphertextException getCause() {
    return (InvalidCiphertextException) Objects.requireNonNull(super.getCause(), "cause");
  }
}
