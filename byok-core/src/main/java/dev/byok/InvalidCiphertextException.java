package dev.byok;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The input is not an authentic byok envelope for the given key and context: it was modified,
 * truncated, extended, reordered, is not an envelope at all, or is decrypted with the wrong key or
 * the wrong encryption context. Never retryable; no plaintext from an unauthenticated segment has
 * been released when this is thrown.
 */
public final class InvalidCiphertextException extends ByokException {
  private static final long serialVersionUID = 1L;

  /** Why the input was rejected. */
  public enum Reason {
    /** Empty input, or it does not start with the envelope magic. */
    NOT_AN_ENVELOPE,
    /** A format version or algorithm suite this library does not know. */
    UNSUPPORTED_VERSION,
    /** A header field is out of its documented bounds or inconsistent. */
    MALFORMED_HEADER,
    /** The input ends before the header or the payload is complete. */
    TRUNCATED,
    /** Bytes follow the final segment. */
    TRAILING_DATA,
    /** The header's encryption context is not the one the caller required. */
    CONTEXT_MISMATCH,
    /**
     * The data key does not match the header's key commitment (wrong key, or a tampered header).
     */
    KEY_COMMITMENT_MISMATCH,
    /** A segment failed AES-GCM authentication (modified, reordered, spliced, or wrong key). */
    AUTHENTICATION_FAILED,
    /**
     * The KMS rejected a wrapped data key: it was modified, or the encryption context or key does
     * not match the one it was wrapped with.
     */
    WRAPPED_KEY_REJECTED
  }

  /** Why the envelope was rejected. */
  private final Reason reason;

  /**
   * Creates the exception.
   *
   * @param reason why the input was rejected
   * @param message details, without key material
   * @param cause the underlying failure, or {@code null}
   */
  public InvalidCiphertextException(Reason reason, String message, @Nullable Throwable cause) {
    super(Objects.requireNonNull(reason, "reason") + ": " + message, cause);
    this.reason = reason;
  }

  /**
   * Creates the exception without a cause.
   *
   * @param reason why the input was rejected
   * @param message details, without key material
   */
  public InvalidCiphertextException(Reason reason, String message) {
    this(reason, message, null);
  }

  /** {@return why the input was rejected} */
  public Reason reason() {
    return reason;
  }
}
