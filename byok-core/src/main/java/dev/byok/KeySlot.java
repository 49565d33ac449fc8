package dev.byok;

import dev.byok.internal.Utf8;
import java.util.Arrays;
import java.util.Objects;

/**
 * One wrapping of a blob's data key: which provider wrapped it, under which KMS key (the resolved
 * key ARN, never an alias), and the wrapped bytes the KMS returned. A blob carries one or more
 * slots for the same data key (for example a multi-region replica, or old and new key during a
 * migration). Slots are the mutable part of a header: rewrap replaces them without touching the
 * payload.
 *
 * <p>Immutable and thread-safe. The wrapped key is ciphertext, not secret, but {@link #toString()}
 * shows only its length.
 */
public final class KeySlot {
  /** Longest provider id, in bytes. */
  public static final int MAX_PROVIDER_ID_BYTES = 64;

  /** Longest key ARN, in UTF-8 bytes (the AWS ARN limit). */
  public static final int MAX_KEY_ARN_BYTES = 2048;

  /** Longest wrapped key, in bytes (the AWS KMS ciphertext blob limit). */
  public static final int MAX_WRAPPED_KEY_BYTES = 6144;

  private final String providerId;
  private final String keyArn;
  private final byte[] wrappedKey;

  private KeySlot(String providerId, String keyArn, byte[] wrappedKey) {
    this.providerId = providerId;
    this.keyArn = keyArn;
    this.wrappedKey = wrappedKey;
  }

  /**
   * Creates a slot.
   *
   * @param providerId the provider that can unwrap it: 1 to {@value #MAX_PROVIDER_ID_BYTES}
   *     characters from {@code [a-z0-9._-]}, for example {@code aws-kms}
   * @param keyArn the resolved key identifier: 1 to {@value #MAX_KEY_ARN_BYTES} UTF-8 bytes
   * @param wrappedKey the wrapped data key: 1 to {@value #MAX_WRAPPED_KEY_BYTES} bytes; copied
   * @return the slot
   * @throws IllegalArgumentException naming the bad value
   */
  public static KeySlot of(String providerId, String keyArn, byte[] wrappedKey) {
    Objects.requireNonNull(providerId, "providerId");
    Objects.requireNonNull(keyArn, "keyArn");
    Objects.requireNonNull(wrappedKey, "wrappedKey");
    checkProviderId(providerId);
    int arnBytes;
    try {
      arnBytes = Utf8.encodeStrict(keyArn).length;
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "keyArn '" + Escaping.forDisplay(keyArn) + "' is not well-formed UTF-16", e);
    }
    if (arnBytes == 0 || arnBytes > MAX_KEY_ARN_BYTES) {
      throw new IllegalArgumentException(
          "keyArn must be 1.." + MAX_KEY_ARN_BYTES + " UTF-8 bytes, was " + arnBytes);
    }
    if (wrappedKey.length == 0 || wrappedKey.length > MAX_WRAPPED_KEY_BYTES) {
      throw new IllegalArgumentException(
          "wrappedKey must be 1.." + MAX_WRAPPED_KEY_BYTES + " bytes, was " + wrappedKey.length);
    }
    String bad = KeyArns.problem(keyArn);
    if (bad != null) {
      throw new IllegalArgumentException(bad);
    }
    return new KeySlot(providerId, keyArn, wrappedKey.clone());
  }

  /**
   * A slot parsed from a header, whose fields the parser has already bounded: the ARN was decoded
   * from 1..{@value #MAX_KEY_ARN_BYTES} bytes of well-formed UTF-8 and {@code wrappedKey} is a
   * fresh array of 1..{@value #MAX_WRAPPED_KEY_BYTES} bytes that nobody else holds, so neither is
   * encoded or copied again.
   */
  static KeySlot parsed(String providerId, String keyArn, byte[] wrappedKey) {
    checkProviderId(providerId);
    String bad = KeyArns.problem(keyArn);
    if (bad != null) {
      throw new IllegalArgumentException(bad);
    }
    return new KeySlot(providerId, keyArn, wrappedKey);
  }

  static void checkProviderId(String id) {
    if (id.isEmpty() || id.length() > MAX_PROVIDER_ID_BYTES) {
      throw new IllegalArgumentException(
          "providerId must be 1.." + MAX_PROVIDER_ID_BYTES + " characters, was " + id.length());
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
      if (!ok) {
        throw new IllegalArgumentException(
            "providerId '"
                + Escaping.forDisplay(id)
                + "' has character "
                + String.format("U+%04X", (int) c)
                + "; allowed are [a-z0-9._-]");
      }
    }
  }

  /** {@return the id of the provider that wrapped the data key} */
  public String providerId() {
    return providerId;
  }

  /** {@return the resolved key identifier (an ARN for AWS KMS)} */
  public String keyArn() {
    return keyArn;
  }

  /** {@return a copy of the wrapped data key} */
  public byte[] wrappedKey() {
    return wrappedKey.clone();
  }

  /** {@return the wrapped key's length in bytes} */
  public int wrappedKeyLength() {
    return wrappedKey.length;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof KeySlot)) {
      return false;
    }
    KeySlot s = (KeySlot) o;
    return providerId.equals(s.providerId)
        && keyArn.equals(s.keyArn)
        && Arrays.equals(wrappedKey, s.wrappedKey);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * providerId.hashCode() + keyArn.hashCode()) + Arrays.hashCode(wrappedKey);
  }

  @Override
  public String toString() {
    return "KeySlot[" + providerId + ", " + keyArn + ", wrapped " + wrappedKey.length + " bytes]";
  }
}
