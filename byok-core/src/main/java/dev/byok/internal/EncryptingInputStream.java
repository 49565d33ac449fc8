package dev.byok.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.LongConsumer;
import org.jspecify.annotations.Nullable;

/**
 * Pull-mode encryption: reading yields the envelope of the plaintext read from {@code source}. It
 * reads one plaintext byte ahead to know whether a segment is the last. Upload APIs that take an
 * {@code InputStream} use this; its length is known in advance from the plaintext length.
 *
 * <p>Every failure of {@code read} is an {@link IOException} (a failure of the source as it is, a
 * failure of the cipher wrapped); a failure is sticky, so a caller can never read past it into an
 * envelope that looks complete. Not thread-safe.
 */
public final class EncryptingInputStream extends InputStream {
  private final InputStream source;
  private final SegmentCipher cipher;
  private final SegmentLayout layout;
  private byte lookAhead; // the plaintext byte read beyond the last segment produced
  private boolean hasLookAhead;
  private final byte[] ct;
  private int ctPos;
  private int ctLim;
  private long segment;
  private boolean finished;
  private boolean closed;
  private long plaintextBytes;
  private final LongConsumer onComplete;
  private @Nullable IOException failure;

  /**
   * Creates an encrypting input stream over {@code source}.
   *
   * @param onComplete called with the plaintext length once the final segment is produced
   */
  public EncryptingInputStream(
      InputStream source,
      SegmentCipher cipher,
      SegmentLayout layout,
      byte[] header,
      LongConsumer onComplete) {
    this.source = Objects.requireNonNull(source, "source");
    this.onComplete = onComplete;
    this.cipher = cipher;
    this.layout = layout;
    this.ct = new byte[Math.max(layout.segmentSize(), header.length)];
    System.arraycopy(header, 0, ct, 0, header.length);
    this.ctLim = header.length;
  }

  @Override
  public int read() throws IOException {
    if (ctPos < ctLim && !closed && failure == null) {
      return ct[ctPos++] & 0xff;
    }
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (failure != null) {
      throw new IOException("an earlier read failed; the envelope is incomplete", failure);
    }
    if (closed) {
      throw new IOException("stream closed");
    }
    if (len == 0) {
      return 0;
    }
    try {
      return readEnvelope(b, off, len);
    } catch (IOException e) {
      failure = e;
      throw e;
    } catch (RuntimeException e) {
      failure = new IOException("encryption failed: " + e.getMessage(), e);
      throw failure;
    } catch (Error e) {
      failure = new IOException("encryption failed: " + e, e);
      throw e;
    } catch (Throwable e) { // an undeclared checked exception of the source
      failure = new IOException("the source failed: " + e, e);
      throw failure;
    }
  }

  private int readEnvelope(byte[] b, int off, int len) throws IOException {
    if (ctPos == ctLim) {
      if (finished) {
        return -1;
      }
      int cap = layout.plaintextCapacity(segment);
      if (len >= cap + SegmentLayout.TAG_LENGTH) {
        return nextSegment(b, off); // straight into the caller's buffer
      }
      int n = nextSegment(ct, 0); // on failure ctPos == ctLim still: nothing stale to read again
      ctPos = 0;
      ctLim = n;
    }
    int n = Math.min(len, ctLim - ctPos);
    System.arraycopy(ct, ctPos, b, off, n);
    ctPos += n;
    return n;
  }

  /**
   * Reads the next segment's plaintext (and one byte beyond it) into {@code dst} and encrypts it
   * there in place: one buffer, half the memory traffic of reading into a plaintext buffer and
   * encrypting out of it. {@code dst} has room for a whole segment, tag included.
   */
  private int nextSegment(byte[] dst, int dstOff) throws IOException {
    int cap = layout.plaintextCapacity(segment);
    int fill = 0;
    try {
      if (hasLookAhead) {
        dst[dstOff] = lookAhead;
        fill = 1;
      }
      fill += Io.readUpTo(source, dst, dstOff + fill, cap + 1 - fill);
      boolean last = fill <= cap;
      int len = last ? fill : cap;
      if (!last && segment >= layout.maxSegments() - 1) {
        throw layout.tooLarge();
      }
      hasLookAhead = !last;
      lookAhead = last ? 0 : dst[dstOff + cap]; // the tag overwrites it in dst
      int n = cipher.encrypt(segment, last, dst, dstOff, len, dst, dstOff);
      segment++;
      plaintextBytes += len;
      if (last) {
        finished = true;
        cipher.close(); // no more segments: the key schedule goes now, not when the caller closes
        onComplete.accept(plaintextBytes);
      }
      return n;
    } catch (Throwable e) { // undeclared checked ones too: a source may throw anything
      // plaintext read into dst and not yet encrypted must not stay there
      Arrays.fill(dst, dstOff, dstOff + Math.min(cap + 1, dst.length - dstOff), (byte) 0);
      lookAhead = 0;
      throw e;
    }
  }

  @Override
  public int available() {
    return closed || failure != null ? 0 : ctLim - ctPos;
  }

  /** Closes the source. Idempotent. */
  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      lookAhead = 0;
      cipher.close();
      source.close();
    }
  }
}
