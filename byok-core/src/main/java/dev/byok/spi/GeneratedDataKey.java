package dev.byok.spi;

import java.util.Arrays;
import java.util.Objects;
import javax.security.auth.Destroyable;
import org.jspecify.annotations.Nullable;

/**
 * A data key fresh from the KMS: the plaintext (secret), its wrapping, and the resolved KEK that
 * wrapped it. The plaintext is readable once through {@link #copyPlaintextKey()} and wiped by
 * {@link #destroy()}; it never appears in {@link #toString()}.
 *
 * <p>Thread-safe.
 */
public final class GeneratedDataKey implements Destroyable {
  private final byte[] plaintext;
  private final WrappedKey wrapped;
  private volatile boolean destroyed;

  /**
   * Creates the value. The plaintext array is copied; the caller should wipe its own.
   *
   * @param plaintextKey the 32-byte data key
   * @param wrapped its wrapping and the resolved KEK
   */
  public GeneratedDataKey(byte[] plaintextKey, WrappedKey wrapped) {
    Objects.requireNonNull(plaintextKey, "plaintextKey");
    if (plaintextKey.length != 32) {
      throw new IllegalArgumentException(
          "plaintextKey must be 32 bytes, was " + plaintextKey.length);
    }
    this.plaintext = plaintextKey.clone();
    this.wrapped = Objects.requireNonNull(wrapped, "wrapped");
  }

  /**
   * {@return a copy of the plaintext data key; the caller wipes it}
   *
   * @throws IllegalStateException if destroyed
   */
  public byte[] copyPlaintextKey() {
    byte[] copy = plaintext.clone();
    if (destroyed) {
      Arrays.fill(copy, (byte) 0);
      throw new IllegalStateException("generated data key was destroyed");
    }
    return copy;
  }

  /** {@return the wrapped key and resolved KEK} */
  public WrappedKey wrapped() {
    return wrapped;
  }

  /** {@return the resolved KEK (never an alias)} */
  public String keyArn() {
    return wrapped.keyArn();
  }

  /** {@return the KMS's id of the key material that wrapped it, or {@code null} if not reported} */
  public @Nullable String keyMaterialId() {
    return wrapped.keyMaterialId();
  }

  @Override
  public void destroy() {
    destroyed = true;
    Arrays.fill(plaintext, (byte) 0);
  }

  @Override
  public boolean isDestroyed() {
    return destroyed;
  }

  @Override
  public String toString() {
    return "GeneratedDataKey[" + wrapped + ", plaintext=<redacted>]";
  }
}
