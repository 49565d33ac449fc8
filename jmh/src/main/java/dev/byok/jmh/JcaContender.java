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
 *
 * <p>Two variants of where each segment goes: {@code jca} reuses one segment-sized output array
 * (cache-resident, handed to the sink per segment, as a stream hands its segment buffer on; the
 * floor of the stream rows), {@code jca-dram} writes the whole blob into one separate blob-sized
 * array (DRAM-resident, handed to the sink once; issue 13's definition of the floor, and the floor
 * of the NIO rows, which also write the whole blob into a separate buffer).
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
  private final boolean dram;
  private byte[] blobOut = new byte[0];

  JcaContender(int segmentSize, boolean dram) throws GeneralSecurityException {
    this.segmentSize = segmentSize;
    this.dram = dram;
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
    byte[] dst = out;
    int pos = 0;
    if (dram) {
      int segments = (plaintext.length + chunk - 1) / chunk;
      dst = blobOut = sized(blobOut, plaintext.length + segments * (IV + TAG));
    }
    for (int off = 0; off < plaintext.length; off += chunk) {
      ByteBuffer.wrap(iv).putLong(4, counter++); // fresh for every segment, across invocations too
      System.arraycopy(iv, 0, dst, pos, IV);
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG * 8, iv));
      int n =
          cipher.doFinal(plaintext, off, Math.min(chunk, plaintext.length - off), dst, pos + IV);
      if (dram) {
        pos += IV + n;
      } else {
        sink.write(out, 0, IV + n);
      }
    }
    if (dram) {
      sink.write(dst, 0, pos);
    }
  }

  private static byte[] sized(byte[] current, int length) {
    return current.length == length ? current : new byte[length];
  }

  @Override
  public void decrypt(byte[] ciphertext, OutputStream sink)
      throws IOException, GeneralSecurityException {
    byte[] dst = out;
    int pos = 0;
    if (dram) {
      int segments = (ciphertext.length + segmentSize - 1) / segmentSize;
      dst = blobOut = sized(blobOut, ciphertext.length - segments * (IV + TAG));
    }
    for (int off = 0; off < ciphertext.length; off += segmentSize) {
      int len = Math.min(segmentSize, ciphertext.length - off);
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG * 8, ciphertext, off, IV));
      int n = cipher.doFinal(ciphertext, off + IV, len - IV, dst, pos);
      if (dram) {
        pos += n;
      } else {
        sink.write(out, 0, n);
      }
    }
    if (dram) {
      sink.write(dst, 0, pos);
    }
  }
}
