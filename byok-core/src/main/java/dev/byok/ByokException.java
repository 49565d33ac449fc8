package dev.byok;

import org.jspecify.annotations.Nullable;

/**
 * Root of every exception byok throws. Unchecked; the leaves say what the caller should do, and
 * {@link #retryable()} says whether trying the same call again may succeed.
 *
 * <p>Messages never contain key material.
 */
public class ByokException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message what went wrong, without key material
   * @param cause the underlying failure, or {@code null}
   */
  public ByokException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }

  /**
   * Creates an exception without a cause.
   *
   * @param message what went wrong, without key material
   */
  public ByokException(String message) {
    super(message);
  }

  /**
   * Whether repeating the same operation later may succeed (for example after a KMS outage).
   * Corrupt input and misconfiguration are never retryable.
   *
   * @return {@code false} unless a subclass says otherwise
   */
  public boolean retryable() {
    return false;
  }
}
