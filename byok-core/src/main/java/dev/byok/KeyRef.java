package dev.byok;

import java.util.Objects;

/**
 * A reference to a customer key (a key-encryption key, KEK) in a named provider, written as a
 * URI-like string {@code <providerId>://<keyId>}: for example {@code
 * aws-kms://arn:aws:kms:eu-west-1:111122223333:key/1234abcd-...}, {@code aws-kms://alias/snapshots}
 * or {@code fake-kms://alias/test}. The key id is whatever the provider accepts (ARN, alias, key
 * id). A value, passed explicitly; there is no global registry.
 *
 * <p>Immutable and thread-safe.
 */
public final class KeyRef {
  private static final String SEPARATOR = "://";

  private final String providerId;
  private final String keyId;

  private KeyRef(String providerId, String keyId) {
    this.providerId = providerId;
    this.keyId = keyId;
  }

  /**
   * Creates a reference.
   *
   * @param providerId the provider, {@code [a-z0-9._-]{1,64}}
   * @param keyId the key within the provider; 1 to {@value KeySlot#MAX_KEY_ARN_BYTES} characters
   * @return the reference
   * @throws IllegalArgumentException naming the bad value
   */
  public static KeyRef of(String providerId, String keyId) {
    Objects.requireNonNull(providerId, "providerId");
    Objects.requireNonNull(keyId, "keyId");
    KeySlot.checkProviderId(providerId);
    if (keyId.isEmpty() || keyId.length() > KeySlot.MAX_KEY_ARN_BYTES) {
      throw new IllegalArgumentException(
          "keyId must be 1.." + KeySlot.MAX_KEY_ARN_BYTES + " characters, was " + keyId.length());
    }
    return new KeyRef(providerId, keyId);
  }

  /**
   * Parses {@code <providerId>://<keyId>}.
   *
   * @param ref the string form
   * @return the reference
   * @throws IllegalArgumentException naming the string if it has no {@code ://} or a bad part
   */
  public static KeyRef parse(String ref) {
    Objects.requireNonNull(ref, "ref");
    int i = ref.indexOf(SEPARATOR);
    if (i <= 0) {
      throw new IllegalArgumentException(
          "key reference '"
              + ref
              + "' must look like <provider>://<key id>, e.g. aws-kms://alias/app");
    }
    return of(ref.substring(0, i), ref.substring(i + SEPARATOR.length()));
  }

  /** {@return the provider id (the scheme)} */
  public String providerId() {
    return providerId;
  }

  /** {@return the key id within the provider} */
  public String keyId() {
    return keyId;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KeyRef
        && ((KeyRef) o).providerId.equals(providerId)
        && ((KeyRef) o).keyId.equals(keyId);
  }

  @Override
  public int hashCode() {
    return providerId.hashCode() * 31 + keyId.hashCode();
  }

  /** {@return the string form {@code <providerId>://<keyId>}} */
  @Override
  public String toString() {
    return providerId + SEPARATOR + keyId;
  }
}
