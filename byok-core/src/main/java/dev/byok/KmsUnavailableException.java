package dev.byok;

import org.jspecify.annotations.Nullable;

/**
 * The KMS could not be reached or answered with a transient failure (throttling, 5xx, time-out,
 * network, or a host-side credential/clock problem). Retryable; says nothing about the customer's
 * key, so a host should keep serving from cached keys and must not lock.
 */
public final class KmsUnavailableException extends ByokException {
  private static final long serialVersionUID = 1L;

  /** Whether the KMS throttled the call (as opposed to an outage or network failure). */
  private final boolean throttled;

  /**
   * Creates the exception.
   *
   * @param message detail
   * @param throttled whether the KMS throttled the call
   * @param cause the provider's exception, or {@code null}
   */
  public KmsUnavailableException(String message, boolean throttled, @Nullable Throwable cause) {
    super(message, cause);
    this.throttled = throttled;
  }

  /** {@return true: a later attempt may succeed} */
  @Override
  public boolean retryable() {
    return true;
  }

  /** {@return whether the KMS throttled the call (as opposed to an outage or network failure)} */
  public boolean throttled() {
    return throttled;
  }
}
