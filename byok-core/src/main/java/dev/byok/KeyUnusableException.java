package dev.byok;

import dev.byok.spi.KeyState;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The KMS said, authoritatively, that a customer key cannot be used: it is disabled, pending
 * deletion or import, unavailable, gone, or access to it was denied. A host should lock the data
 * that depends on the key until it is usable again. Not retryable in the short term. Cached data
 * keys unwrapped with this key are purged when this is seen.
 */
public final class KeyUnusableException extends ByokException {
  private static final long serialVersionUID = 1L;

  /** Why the key cannot be used. */
  public enum Reason {
    /** The key is disabled. */
    DISABLED,
    /** The key is scheduled for deletion. */
    PENDING_DELETION,
    /** The key's material has not been imported (or it expired). */
    PENDING_IMPORT,
    /** The key is not available, e.g. its custom key store is disconnected. */
    UNAVAILABLE,
    /** No such key (deleted, or wrong account/region). */
    NOT_FOUND,
    /** The caller's credentials may not use the key (key policy, IAM, grants). */
    ACCESS_DENIED,
    /** The byok monitor has locked the key after a confirmed denial. */
    LOCKED;

    /**
     * The reason a key in {@code state} cannot be used, for providers that learn the state
     * (DescribeKey, an invalid-state error).
     *
     * @param state the key's state; for a usable or unknown state the answer is {@link
     *     #UNAVAILABLE}
     * @return DISABLED, PENDING_DELETION (also for a replica pending deletion), PENDING_IMPORT, or
     *     UNAVAILABLE
     */
    public static Reason of(KeyState state) {
      return switch (Objects.requireNonNull(state, "state")) {
        case DISABLED -> DISABLED;
        case PENDING_DELETION, PENDING_REPLICA_DELETION -> PENDING_DELETION;
        case PENDING_IMPORT -> PENDING_IMPORT;
        default -> UNAVAILABLE;
      };
    }
  }

  /** Why the key cannot be used. */
  private final Reason reason;

  /** The key as the caller named it or the KMS resolved it; never key material. */
  private final String keyId;

  /**
   * Creates the exception.
   *
   * @param reason why
   * @param keyId the key as the caller named it or the KMS resolved it (no secret)
   * @param message detail
   * @param cause the provider's exception, or {@code null}
   */
  public KeyUnusableException(
      Reason reason, String keyId, String message, @Nullable Throwable cause) {
    super(Objects.requireNonNull(reason, "reason") + " " + keyId + ": " + message, cause);
    this.reason = reason;
    this.keyId = Objects.requireNonNull(keyId, "keyId");
  }

  /** {@return why the key cannot be used} */
  public Reason reason() {
    return reason;
  }

  /** {@return the key concerned} */
  public String keyId() {
    return keyId;
  }
}
