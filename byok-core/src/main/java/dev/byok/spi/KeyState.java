package dev.byok.spi;

/** The lifecycle state of a KEK as the KMS reports it (AWS KMS {@code KeyState}). */
public enum KeyState {
  /** Being created. */
  CREATING,
  /** Usable. */
  ENABLED,
  /** Disabled by its owner. */
  DISABLED,
  /** Scheduled for deletion; see {@link KeyDescription#deletionDate()}. */
  PENDING_DELETION,
  /** Waiting for imported key material. */
  PENDING_IMPORT,
  /** A multi-Region replica waiting for deletion. */
  PENDING_REPLICA_DELETION,
  /** Not available (e.g. its custom key store is disconnected). */
  UNAVAILABLE,
  /** Being updated. */
  UPDATING,
  /** A state this version of byok does not know. */
  UNKNOWN;

  /** {@return whether the key can wrap and unwrap in this state} */
  public boolean usable() {
    return this == ENABLED;
  }
}
