package dev.byok.spi;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A data key wrapped under a KEK, with the resolved identifier of the KEK the KMS used and, where
 * the KMS reports it, the id of the key material (it changes when the key rotates in place).
 *
 * <p>Immutable and thread-safe. Wrapped bytes are ciphertext, but only their length is shown.
 */
public final class WrappedKey {
  private final String keyArn;
  private final byte[] ciphertext;
  private final @Nullable String keyMaterialId;

  /**
   * Creates the value.
   *
   * @param keyArn resolved KEK identifier (never an alias)
   * @param ciphertext the wrapped key; copied
   * @param keyMaterialId the key material id, or {@code null} if the KMS does not report one
   */
  public WrappedKey(String keyArn, byte[] ciphertext, @Nullable String keyMaterialId) {
    this.keyArn = Objects.requireNonNull(keyArn, "keyArn");
    this.ciphertext = Objects.requireNonNull(ciphertext, "ciphertext").clone();
    this.keyMaterialId = keyMaterialId;
    if (ciphertext.length == 0) {
      throw new IllegalArgumentException("wrapped key ciphertext must not be empty");
    }
  }

  /** {@return the resolved KEK identifier} */
  public String keyArn() {
    return keyArn;
  }

  /** {@return a copy of the wrapped key} */
  public byte[] ciphertext() {
    return ciphertext.clone();
  }

  /** {@return the key material id, or {@code null}} */
  public @Nullable String keyMaterialId() {
    return keyMaterialId;
  }

  @Override
  public String toString() {
    return "WrappedKey["
        + keyArn
        + ", "
        + ciphertext.length
        + " bytes"
        + (keyMaterialId == null ? "" : ", material " + keyMaterialId)
        + "]";
  }
}
