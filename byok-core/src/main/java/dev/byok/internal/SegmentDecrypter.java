package dev.byok.internal;

import dev.byok.InvalidCiphertextException;
import dev.byok.InvalidCiphertextException.Reason;
import java.nio.ByteBuffer;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;

/**
 * Decrypts one segment or throws a typed {@link InvalidCiphertextException}. On failure it tells
 * truncation (the segment authenticates as non-final) and appended data (it authenticates as final)
 * apart from other tampering; the trial output is wiped and never released.
 */
public final class SegmentDecrypter {
  private final SegmentCipher cipher;

  public SegmentDecrypter(SegmentCipher cipher) {
    this.cipher = cipher;
  }

  /** {@return plaintext length written to {@code out}} */
  public int decrypt(
      long segment, boolean last, byte[] in, int off, int len, byte[] out, int outOff) {
    if (len < SegmentLayout.TAG_LENGTH
        || (last && segment > 0 && len == SegmentLayout.TAG_LENGTH)) {
      // a final segment after the first carries at least one plaintext byte (format.md section 5)
      throw new InvalidCiphertextException(
          Reason.TRUNCATED,
          "final segment " + segment + " has " + len + " bytes, no more than a GCM tag");
    }
    try {
      return cipher.decrypt(segment, last, in, off, len, out, outOff);
    } catch (AEADBadTagException e) {
      throw diagnose(segment, last, in, off, len, e);
    }
  }

  /**
   * Decrypts the remaining bytes of {@code in} (one segment) straight into {@code out}, heap or
   * direct; both positions advance. On failure {@code out} is wiped where it was written, its
   * position is unchanged, and the typed reason is diagnosed as for arrays.
   *
   * @return plaintext length written to {@code out}
   */
  public int decrypt(long segment, boolean last, ByteBuffer in, ByteBuffer out) {
    int len = in.remaining();
    if (len < SegmentLayout.TAG_LENGTH
        || (last && segment > 0 && len == SegmentLayout.TAG_LENGTH)) {
      throw new InvalidCiphertextException(
          Reason.TRUNCATED,
          "final segment " + segment + " has " + len + " bytes, no more than a GCM tag");
    }
    try {
      return cipher.decrypt(segment, last, in, out);
    } catch (AEADBadTagException e) {
      byte[] copy = new byte[len]; // failure path only: the diagnosis works on arrays
      in.duplicate().get(copy);
      return throwDiagnosed(segment, last, copy, e);
    }
  }

  private int throwDiagnosed(long segment, boolean last, byte[] in, AEADBadTagException e) {
    throw diagnose(segment, last, in, 0, in.length, e);
  }

  /**
   * Whether segment {@code segment} authenticates with the given final flag; the trial output is
   * wiped and never released.
   */
  public boolean authenticates(long segment, boolean last, byte[] in, int off, int len) {
    if (len < SegmentLayout.TAG_LENGTH) {
      return false;
    }
    byte[] scratch = new byte[len - SegmentLayout.TAG_LENGTH];
    try {
      cipher.decrypt(segment, last, in, off, len, scratch, 0);
      return true;
    } catch (AEADBadTagException e) {
      return false;
    } finally {
      Arrays.fill(scratch, (byte) 0);
    }
  }

  /**
   * A decrypter with the same key and nonce prefix and a cipher of its own, for another thread
   * working on other segments of the same blob; close it too.
   *
   * @return the sibling
   */
  public SegmentDecrypter sibling() {
    return new SegmentDecrypter(cipher.sibling());
  }

  /** Releases the cipher, re-keyed, so no blob key schedule outlives the reader (idempotent). */
  public void close() {
    cipher.close();
  }

  private InvalidCiphertextException diagnose(
      long segment, boolean last, byte[] in, int off, int len, AEADBadTagException cause) {
    byte[] scratch = new byte[len];
    try {
      cipher.decrypt(segment, !last, in, off, len, scratch, 0);
      return last
          ? new InvalidCiphertextException(
              Reason.TRUNCATED,
              "input ends after segment " + segment + ", which is not the final segment",
              cause)
          : new InvalidCiphertextException(
              Reason.TRAILING_DATA, "bytes follow the final segment " + segment, cause);
    } catch (AEADBadTagException stillBad) {
      return new InvalidCiphertextException(
          Reason.AUTHENTICATION_FAILED,
          "segment "
              + segment
              + " failed authentication: the data was modified, reordered or cut,"
              + " or the key is wrong",
          cause);
    } finally {
      Arrays.fill(scratch, (byte) 0);
    }
  }
}
