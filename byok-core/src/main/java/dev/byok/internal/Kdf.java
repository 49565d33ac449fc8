package dev.byok.internal;

import com.google.crypto.tink.subtle.Hkdf;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Key derivation: HKDF-SHA256 (Tink's implementation) for the per-blob payload key, and the
 * HMAC-SHA256 key commitment over the immutable header.
 */
public final class Kdf {
  private static final byte[] COMMIT_INFO =
      "byok/v1 key commitment".getBytes(StandardCharsets.US_ASCII);
  public static final int COMMITMENT_LENGTH = 32;

  private Kdf() {}

  /** HKDF-SHA256(ikm, salt, info) to {@code length} bytes. */
  public static byte[] hkdfSha256(byte[] ikm, byte[] salt, byte[] info, int length) {
    try {
      return Hkdf.computeHkdf("HMACSHA256", ikm, salt, info, length);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HKDF-SHA256 failed", e);
    }
  }

  /**
   * The key commitment: {@code HMAC-SHA256(HKDF-SHA256(dek, salt="", info="byok/v1 key
   * commitment"), header[off, off+len))}.
   */
  public static byte[] commitment(byte[] dek, byte[] header, int off, int len) {
    byte[] commitKey = hkdfSha256(dek, new byte[0], COMMIT_INFO, 32);
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(commitKey, "HmacSHA256"));
      mac.update(header, off, len);
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 failed", e);
    } finally {
      Arrays.fill(commitKey, (byte) 0);
    }
  }

  /** Constant-time comparison. */
  public static boolean equal(byte[] a, byte[] b) {
    return MessageDigest.isEqual(a, b);
  }
}
