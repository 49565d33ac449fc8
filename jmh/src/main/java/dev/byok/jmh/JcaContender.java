package dev.byok.jmh;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The floor: raw JCA AES-256-GCM, one {@code init} + {@code doFinal} per segment, arrays in and
 * out, no framing beyond a fresh 12-byte IV stored in front of each segment. A stored segment
 * ({@code IV || ciphertext || tag}) is exactly the segment size, like byok's and Tink's, so the
 * number of GCM calls matches theirs.
 */
final class JcaContender implements Contender {
  private static final int IV = 12;
  private static final int TAG = 16;

  private final int segmentSize;
  private final SecretKeySpec key;
  private final Cipher cipher;
  private final byte[] iv = new byte[IV];
  private long counter;
  private final byte[] out;

  JcaContender(int segmentSize) throws GeneralSecurityException {
    this.segmentSize = segmentSize;
    byte[] k = new byte[32];
    SecureRandom random = new SecureRandom();
    random.nextBytes(k);
    random.nextBytes(iv); // random 4-byte prefix; the last 8 bytes become a counter
    this.key = new SecretKeySpec(k, "AES");
    this.cipher = Cipher.getInstance("AES/GCM/NoPadding");
    this.out = new byte[segmentSize];
  }

  @Override
  public void encrypt(byte[] plaintext, OutputStream sink)
      throws IOException, GeneralSecurityException {
    int chunk = segmentSize - IV - TAG;
    for (int off = 0; off < plaintext.length; off += chunk) {
      ByteBuffer.wrap(iv).putLong(4, counter++); // fresh for every segment, across invocations too
      System.arraycopy(iv, 0, out, 0, IV);
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG * 8, iv));
      int n = cipher.doFinal(plaintext, off, Math.min(chunk, plaintext.length - off), out, IV);
      sink.write(out, 0, IV + n);
    }
  }

  @Override
  public void decrypt(byte[] ciphertext, OutputStream sink)
      throws IOException, GeneralSecurityException {
    for (int off = 0; off < ciphertext.length; off += segmentSize) {
      int len = Math.min(segmentSize, ciphertext.length - off);
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG * 8, ciphertext, off, IV));
      int n = cipher.doFinal(ciphertext, off + IV, len - IV, out, 0);
      sink.write(out, 0, n);
    }
  }
}
