package dev.byok.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Key derivation: HKDF-SHA256 (RFC 5869, on {@link javax.crypto.Mac}) for the per-blob payload key,
 * and the HMAC-SHA256 key commitment over the immutable header.
 *
 * <p>Stateless and thread-safe: each call uses its own {@link Mac}.
 */
public final class Kdf {
  private static final String HMAC_SHA256 = "HmacSHA256";
  private static final byte[] COMMIT_INFO =
      "byok/v1 key commitment".getBytes(StandardCharsets.US_ASCII);

  /** Length in bytes of a key commitment (one HMAC-SHA256 tag). */
  public static final int COMMITMENT_LENGTH = 32;

  /** HashLen of RFC 5869 for SHA-256. */
  static final int HASH_LENGTH = 32;

  /** The longest HKDF-SHA256 output RFC 5869 allows: {@code 255 * HashLen}. */
  public static final int MAX_HKDF_LENGTH = 255 * HASH_LENGTH;

  private Kdf() {}

  /**
   * HKDF-SHA256 (RFC 5869): {@code HKDF-Expand(HKDF-Extract(salt, ikm), info, length)}.
   *
   * <p>An empty salt is the RFC's default salt ({@code HashLen} zero bytes). The pseudorandom key
   * and every intermediate block are zeroed before returning; the caller owns (and should zero) the
   * result.
   *
   * @param ikm input keying material, any length (may be empty)
   * @param salt the extract salt, any length (empty means {@code HashLen} zero bytes)
   * @param info context information, any length
   * @param length output length in bytes, from 1 to {@link #MAX_HKDF_LENGTH}
   * @return {@code length} bytes of output keying material
   * @throws IllegalArgumentException if {@code length} is not in {@code [1, 255 * 32]}
   */
  public static byte[] hkdfSha256(byte[] ikm, byte[] salt, byte[] info, int length) {
    if (length < 1 || length > MAX_HKDF_LENGTH) {
      throw new IllegalArgumentException(
          "HKDF-SHA256 output length must be 1.." + MAX_HKDF_LENGTH + " bytes, was " + length);
    }
    Mac mac = hmacSha256();
    byte[] prk = new byte[HASH_LENGTH];
    byte[] t = new byte[HASH_LENGTH];
    byte[] okm = new byte[length];
    boolean done = false;
    try {
      // Extract: PRK = HMAC-Hash(salt, IKM); an absent salt is HashLen zero bytes
      mac.init(new SecretKeySpec(salt.length == 0 ? new byte[HASH_LENGTH] : salt, HMAC_SHA256));
      mac.update(ikm);
      mac.doFinal(prk, 0);
      // Expand: T(i) = HMAC-Hash(PRK, T(i-1) | info | i), OKM = first L octets of T(1) | T(2) ...
      mac.init(new SecretKeySpec(prk, HMAC_SHA256));
      int written = 0;
      for (int i = 1; written < length; i++) {
        if (i > 1) {
          mac.update(t);
        }
        mac.update(info);
        mac.update((byte) i);
        mac.doFinal(t, 0);
        int n = Math.min(HASH_LENGTH, length - written);
        System.arraycopy(t, 0, okm, written, n);
        written += n;
      }
      done = true;
      return okm;
    } catch (GeneralSecurityException e) { // incl. ShortBufferException, impossible here
      throw new IllegalStateException("HKDF-SHA256 failed", e);
    } finally {
      Arrays.fill(prk, (byte) 0);
      Arrays.fill(t, (byte) 0);
      mac.reset();
      if (!done) {
        Arrays.fill(okm, (byte) 0);
      }
    }
  }

  /**
   * The key commitment: {@code HMAC-SHA256(HKDF-SHA256(dek, salt="", info="byok/v1 key
   * commitment"), header[off, off+len))}.
   *
   * @param dek the data key
   * @param header the buffer holding the committed header bytes
   * @param off offset of the committed bytes in {@code header}
   * @param len number of committed bytes
   * @return the {@link #COMMITMENT_LENGTH}-byte commitment
   */
  public static byte[] commitment(byte[] dek, byte[] header, int off, int len) {
    byte[] commitKey = hkdfSha256(dek, new byte[0], COMMIT_INFO, HASH_LENGTH);
    try {
      Mac mac = hmacSha256();
      mac.init(new SecretKeySpec(commitKey, HMAC_SHA256));
      mac.update(header, off, len);
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 failed", e);
    } finally {
      Arrays.fill(commitKey, (byte) 0);
    }
  }

  /**
   * Constant-time comparison.
   *
   * @param a one value
   * @param b the other value
   * @return whether {@code a} and {@code b} have the same length and content
   */
  public static boolean equal(byte[] a, byte[] b) {
    return MessageDigest.isEqual(a, b);
  }

  private static Mac hmacSha256() {
    try {
      return Mac.getInstance(HMAC_SHA256);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is not available", e);
    }
  }
}
