package dev.byok;

import org.jspecify.annotations.Nullable;

/**
 * The caller's configuration is wrong: an unknown provider, a key outside the allow-list, a key of
 * the wrong type or usage, a malformed key id or ARN, a request the KMS rejects as invalid. Fix the
 * configuration; retrying will not help.
 */
public final class ByokConfigurationException extends ByokException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what is wrong, naming the bad value
   * @param cause the provider's exception, or {@code null}
   */
  public ByokConfigurationException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }

  /**
   * Creates the exception without a cause.
   *
   * @param message what is wrong, naming the bad value
   */
  public ByokConfigurationException(String message) {
    super(message);
  }
}
