package dev.byok.monitor;

import dev.byok.EncryptionContext;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.WrappedKey;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * A small random value wrapped once under a key, with the digest of the value: decrypting it again
 * is a real cryptographic test that the key still works. Holds no plaintext.
 *
 * <p>Immutable and thread-safe (the arrays are never handed out).
 */
final class Canary {
  static final EncryptionContext CONTEXT = EncryptionContext.of("byok-canary", "v1");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String keyArn;
  private final byte[] wrapped;
  private final byte[] digest;

  private Canary(String keyArn, byte[] wrapped, byte[] digest) {
    this.keyArn = keyArn;
    this.wrapped = wrapped;
    this.digest = digest;
  }

  /**
   * Wraps a fresh random value under a key (one KMS Encrypt).
   *
   * @param provider the key's provider
   * @param keyId the key as configured, or a key ARN
   * @return the canary, bound to the ARN the KMS answered with
   */
  static Canary make(KeyProvider provider, String keyId) {
    byte[] value = new byte[32];
    RANDOM.nextBytes(value);
    try {
      WrappedKey w = provider.encrypt(keyId, value, CONTEXT);
      return new Canary(w.keyArn(), w.ciphertext(), sha256(value));
    } finally {
      Arrays.fill(value, (byte) 0);
    }
  }

  /**
   * Decrypts the canary (one KMS Decrypt by key ARN).
   *
   * @param provider the key's provider
   * @return whether it decrypted to the value it was made from
   * @throws dev.byok.ByokException as the provider classifies a failure
   */
  boolean check(KeyProvider provider) {
    byte[] value = provider.decrypt(keyArn, wrapped, CONTEXT);
    try {
      return MessageDigest.isEqual(sha256(value), digest);
    } finally {
      Arrays.fill(value, (byte) 0);
    }
  }

  /** {@return the key ARN the canary is wrapped under} */
  String keyArn() {
    return keyArn;
  }

  private static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
