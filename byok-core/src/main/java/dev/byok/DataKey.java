package dev.byok;

import dev.byok.internal.Hex;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import javax.security.auth.Destroyable;
import org.jspecify.annotations.Nullable;

/**
 * A plaintext data key (DEK): a random 256-bit AES key and its public 16-byte id.
 *
 * <p>Thread-safe. The key material never appears in {@link #toString()}, and {@link #equals} is
 * identity, never a comparison of secret bytes. The one way to read the material is the greppable
 * {@link #copyKeyMaterial()}. {@link #destroy()} overwrites the material with zeros; afterwards
 * every use fails with {@link IllegalStateException}. A {@link DataKeyManager} never hands out the
 * key it caches: each caller gets its own single-use copy, which a purge does not touch and which
 * its user destroys once done.
 */
public final class DataKey implements Destroyable {
  /** Length of a data key id, in bytes. */
  public static final int ID_LENGTH = 16;

  /** Length of the key material, in bytes (AES-256). */
  public static final int KEY_LENGTH = 32;

  private static final SecureRandom RANDOM = new SecureRandom();

  private final byte[] id;
  private final byte[] material;
  private volatile boolean destroyed;

  /**
   * Set for keys nobody caches: whoever uses the key destroys it right after (see {@link
   * #singleUse()}).
   */
  private volatile boolean singleUse;

  /** The last immutable header whose key commitment this key was checked against (public bytes). */
  private volatile byte @Nullable [] verifiedHeader;

  /** For a lease: the cached key it copies, which learns what the lease verified. */
  private @Nullable DataKey origin;

  private DataKey(byte[] id, byte[] material) {
    this.id = id;
    this.material = material;
  }

  /**
   * Generates a fresh random data key locally. Production keys come from the KMS; this is for tests
   * and for providers that generate keys themselves.
   *
   * @return a new key with a random id
   */
  public static DataKey generate() {
    byte[] id = new byte[ID_LENGTH];
    byte[] key = new byte[KEY_LENGTH];
    RANDOM.nextBytes(id);
    RANDOM.nextBytes(key);
    return new DataKey(id, key);
  }

  /**
   * Wraps existing key material. Both arrays are copied; the caller should wipe its copy.
   *
   * @param id the {@value #ID_LENGTH}-byte id
   * @param material the {@value #KEY_LENGTH}-byte key
   * @return the key
   * @throws IllegalArgumentException if a length is wrong
   */
  public static DataKey of(byte[] id, byte[] material) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(material, "material");
    if (id.length != ID_LENGTH) {
      throw new IllegalArgumentException(
          "data key id must be " + ID_LENGTH + " bytes, was " + id.length);
    }
    if (material.length != KEY_LENGTH) {
      throw new IllegalArgumentException(
          "data key material must be " + KEY_LENGTH + " bytes, was " + material.length);
    }
    return new DataKey(id.clone(), material.clone());
  }

  /** {@return a copy of the public id} */
  public byte[] id() {
    return id.clone();
  }

  /** {@return the id as lower-case hex} */
  public String idHex() {
    return Hex.encode(id);
  }

  /**
   * Returns a copy of the secret key material. The caller owns the copy and should overwrite it
   * with zeros when done. This is the only accessor for the material; keep its uses few.
   *
   * @return a fresh copy of the {@value #KEY_LENGTH} key bytes
   * @throws IllegalStateException if the key was destroyed
   */
  public byte[] copyKeyMaterial() {
    byte[] copy = copyOrNull();
    if (copy == null) {
      throw new IllegalStateException("data key " + idHex() + " was destroyed");
    }
    return copy;
  }

  private synchronized byte @Nullable [] copyOrNull() {
    return destroyed ? null : material.clone();
  }

  /**
   * A lease on this key for one user: a private single-use copy that stays usable whatever happens
   * to this key afterwards (purge, eviction, close), until its user destroys it. The copy knows the
   * header this key was verified against. Returns {@code null} if this key is already destroyed.
   */
  @Nullable DataKey lease() {
    byte[] m = copyOrNull();
    if (m == null) {
      return null;
    }
    DataKey copy = new DataKey(id, m); // the id is immutable and never handed out uncopied
    copy.verifiedHeader = verifiedHeader;
    copy.singleUse = true;
    copy.origin = this;
    return copy;
  }

  /**
   * Whether this key's commitment was already checked against exactly these immutable header bytes.
   * Blobs under one data key and context share their immutable header, so a cached key checks its
   * commitment once, not once per blob.
   */
  boolean verifiedFor(byte[] immutableHeader) {
    byte[] v = verifiedHeader;
    return v != null && java.util.Arrays.equals(v, immutableHeader);
  }

  void markVerified(byte[] immutableHeader) {
    byte[] verified = immutableHeader.clone(); // public header bytes, never key material
    verifiedHeader = verified;
    DataKey cached = origin;
    if (cached != null) {
      // same key material: the check holds for the cached key too, so the next lease skips it
      cached.verifiedHeader = verified;
    }
  }

  /** Marks a key that no cache owns, so its one user wipes it after use. */
  void markSingleUse() {
    singleUse = true;
  }

  /**
   * Whether this key is owned by nobody (an uncached unwrap) and must be destroyed after its one
   * use.
   */
  boolean singleUse() {
    return singleUse;
  }

  /** Overwrites the key material with zeros. Idempotent. */
  @Override
  public synchronized void destroy() {
    destroyed = true;
    Arrays.fill(material, (byte) 0);
  }

  @Override
  public boolean isDestroyed() {
    return destroyed;
  }

  /** Test hook: whether every byte of the material is zero (true after {@link #destroy()}). */
  synchronized boolean materialIsZero() {
    int acc = 0;
    for (byte b : material) {
      acc |= b;
    }
    return acc == 0;
  }

  /** Shows the id only; the material is redacted. */
  @Override
  public String toString() {
    return "DataKey[id="
        + idHex()
        + ", material=<redacted>"
        + (destroyed ? ", destroyed" : "")
        + "]";
  }
}
