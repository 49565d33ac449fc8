package dev.byok.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.LongConsumer;
import org.jspecify.annotations.Nullable;

/**
 * Pull-mode encryption: reading yields the envelope of the plaintext read from {@code source}. It
 * reads one plaintext byte ahead to know whether a segment is the last. How a segment is produced
 * is chosen by the read that starts it: a read that holds the whole segment gets it encrypted in
 * place in the caller's array; a read of at least {@value #STREAM_MIN} bytes, smaller than a
 * segment, starts <em>streaming</em> it from the segment buffer straight into the caller's arrays,
 * read by read (no copy out of a ciphertext buffer; every later read of that segment is streamed
 * too, a tiny one and the tag through a spill array); a smaller read gets the segment encrypted in
 * place in the segment buffer and copied out. Upload APIs that take an {@code InputStream} use
 * this; its length is known in advance from the plaintext length.
 *
 * <p>Every failure of {@code read} is an {@link IOException} (a failure of the source as it is, a
 * failure of the cipher wrapped); a failure is sticky, so a caller can never read past it into an
 * envelope that looks complete. Not thread-safe.
 */
public final class EncryptingInputStream extends InputStream {
  /**
   * Reads at least this long, smaller than a segment, start streaming the segment into the caller's
   * arrays instead of encrypting it in place and copying it out.
   */
  static final int STREAM_MIN = 4096;

  /** Most plaintext encrypted into the spill array at once (reads too small to stream into). */
  private static final int SPILL_PLAIN = 4096;

  private final InputStream source;
  private final SegmentCipher cipher;
  private final SegmentLayout layout;
  private byte lookAhead; // the plaintext byte read beyond the last segment produced
  private boolean hasLookAhead;
  // the segment buffer: the header first, then each segment's plaintext, read ahead by one byte
  private final byte[] ct;
  private boolean plainInCt; // ct holds plaintext that is not overwritten by its ciphertext
  // ciphertext ready to be read: in ct (the header, a segment encrypted in place) or in spill
  private byte[] ready;
  private int readyPos;
  private int readyLim;
  // a segment streamed out: its plaintext is ct[plainPos, plainLim), sealed by the cipher straight
  // into the caller's arrays; held = plaintext bytes fed whose ciphertext the cipher still holds
  private boolean streaming;
  private boolean streamingLast;
  private int plainPos;
  private int plainLim;
  private int held;
  private byte[] spill = new byte[0];
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
    this.ready = ct;
    this.readyLim = header.length;
  }

  @Override
  public int read() throws IOException {
    if (readyPos < readyLim && !closed && failure == null) {
      return ready[readyPos++] & 0xff;
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
    } finally {
      if (failure != null) {
        // a failed stream never goes on: no plaintext stays behind, the key schedule goes now
        wipePlaintext();
        lookAhead = 0;
        cipher.close();
      }
    }
  }

  private int readEnvelope(byte[] b, int off, int len) throws IOException {
    if (readyPos < readyLim) {
      return serve(b, off, len);
    }
    if (streaming) {
      return stream(b, off, len);
    }
    if (finished) {
      return -1;
    }
    int cap = layout.plaintextCapacity(segment);
    if (len >= cap + SegmentLayout.TAG_LENGTH) {
      return nextSegment(b, off); // straight into the caller's buffer
    }
    if (len >= STREAM_MIN) {
      beginStreaming();
      return stream(b, off, len);
    }
    if (plainInCt) {
      wipePlaintext(); // a streamed segment's plaintext; this one is encrypted in place over it
    }
    int n = nextSegment(ct, 0); // on failure nothing is ready: nothing stale to read again
    ready = ct;
    readyPos = 0;
    readyLim = n;
    return serve(b, off, len);
  }

  private int serve(byte[] b, int off, int len) {
    int n = Math.min(len, readyLim - readyPos);
    System.arraycopy(ready, readyPos, b, off, n);
    readyPos += n;
    return n;
  }

  /**
   * Reads the next segment's plaintext (and one byte beyond it) into {@code dst} and encrypts it
   * there in place: one buffer, half the memory traffic of reading into a plaintext buffer and
   * encrypting out of it. {@code dst} has room for a whole segment, tag included.
   */
  private int nextSegment(byte[] dst, int dstOff) throws IOException {
    int len = readPlaintext(dst, dstOff);
    boolean last = !hasLookAhead;
    plaintextBytes += len;
    try {
      int n = cipher.encrypt(segment, last, dst, dstOff, len, dst, dstOff);
      segmentDone(last);
      return n;
    } catch (Throwable e) {
      // the plaintext, and the look-ahead byte after it
      Arrays.fill(dst, dstOff, Math.min(dst.length, dstOff + len + 1), (byte) 0);
      throw e;
    }
  }

  /**
   * Reads segment {@code segment}'s plaintext into {@code dst} (and one byte beyond it, kept as the
   * look-ahead, which tells whether the segment is the last); returns its length. On failure the
   * bytes read are zeroed.
   */
  private int readPlaintext(byte[] dst, int dstOff) throws IOException {
    int cap = layout.plaintextCapacity(segment);
    int fill = 0;
    try {
      if (hasLookAhead) {
        dst[dstOff] = lookAhead;
        fill = 1;
      }
      fill += Io.readUpTo(source, dst, dstOff + fill, cap + 1 - fill);
      boolean last = fill <= cap;
      if (!last && segment >= layout.maxSegments() - 1) {
        throw layout.tooLarge();
      }
      hasLookAhead = !last;
      lookAhead = last ? 0 : dst[dstOff + cap];
      return last ? fill : cap;
    } catch (Throwable e) { // undeclared checked ones too: a source may throw anything
      // plaintext read into dst and not yet encrypted must not stay there
      Arrays.fill(dst, dstOff, dstOff + Math.min(cap + 1, dst.length - dstOff), (byte) 0);
      lookAhead = 0;
      throw e;
    }
  }

  /**
   * Counts a segment produced; after the last, lets the key schedule go now, not when the caller
   * closes, and zeroes a streamed segment's plaintext.
   */
  private void segmentDone(boolean last) {
    segment++;
    if (last) {
      finished = true;
      cipher.close();
      wipePlaintext();
      onComplete.accept(plaintextBytes);
    }
  }

  /**
   * Reads the next segment's plaintext into {@code ct} and begins sealing it; its ciphertext then
   * goes straight into the caller's arrays ({@link #stream}), with no copy out of {@code ct}.
   */
  private void beginStreaming() throws IOException {
    plainInCt = true;
    int len = readPlaintext(ct, 0);
    streamingLast = !hasLookAhead;
    cipher.sealBegin(segment, streamingLast);
    streaming = true;
    plainPos = 0;
    plainLim = len;
    held = 0;
    plaintextBytes += len;
  }

  /**
   * Produces the next ciphertext of the streamed segment into {@code b[off, off+len)}: at most
   * {@code len - held} plaintext bytes at once, so the cipher's output (never more than it was fed)
   * fits; a read too small for that, and the tag, go through the spill array.
   */
  private int stream(byte[] b, int off, int len) {
    while (true) {
      int left = plainLim - plainPos;
      // feed up to a whole number of AES blocks with what the cipher holds: all of it comes out
      // (SunJCE keeps no partial block, and takes its fast path), never more than len bytes
      int room = (len & ~15) - held;
      if (left > 0 && room >= SegmentLayout.TAG_LENGTH) {
        int n = Math.min(left, room);
        int w = cipher.sealUpdate(ct, plainPos, n, b, off);
        plainPos += n;
        held += n - w;
        if (w > 0) {
          return w;
        }
      } else if (left > 0) {
        int n = Math.min(left, SPILL_PLAIN);
        int w = cipher.sealUpdate(ct, plainPos, n, spill(held + n), 0);
        plainPos += n;
        held += n - w;
        if (w > 0) {
          return fromSpill(w, b, off, len);
        }
      } else {
        int w = cipher.sealFinish(spill(held + SegmentLayout.TAG_LENGTH), 0);
        streaming = false;
        segmentDone(streamingLast);
        return fromSpill(w, b, off, len);
      }
    }
  }

  private byte[] spill(int size) {
    if (spill.length < size) {
      // geometric: a provider that holds a whole segment back grows it a few times, not per call
      spill = new byte[Math.max(size, Math.max(2 * spill.length, SPILL_PLAIN + 32))];
    }
    return spill;
  }

  private int fromSpill(int n, byte[] b, int off, int len) {
    ready = spill;
    readyPos = 0;
    readyLim = n;
    return serve(b, off, len);
  }

  /** Zeroes plaintext left in the segment buffer (the look-ahead byte is the caller's to clear). */
  private void wipePlaintext() {
    if (plainInCt) {
      Arrays.fill(ct, (byte) 0);
      plainInCt = false;
      if (ready == ct) {
        readyLim = readyPos; // whatever ct held is gone
      }
    }
  }

  /** Test hook: whether the segment buffer holds nothing but zeros. */
  boolean segmentBufferZeroed() {
    for (byte x : ct) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int available() {
    return closed || failure != null ? 0 : readyLim - readyPos;
  }

  /** Closes the source. Idempotent. */
  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      wipePlaintext();
      lookAhead = 0;
      cipher.close();
      source.close();
    }
  }
}
