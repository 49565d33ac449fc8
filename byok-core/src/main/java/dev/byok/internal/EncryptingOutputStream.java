package dev.byok.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.LongConsumer;
import org.jspecify.annotations.Nullable;

/**
 * Push-mode encryption: buffers at most one plaintext segment, writes each segment when the next
 * plaintext byte arrives (only then is it known not to be the last), and the final one on {@link
 * #close()}. Large writes are encrypted straight from the caller's array.
 *
 * <p>Buffers start small and grow to a segment only as plaintext arrives, so a small blob costs a
 * small blob's memory, not two segments' (the ciphertext buffer of a one-segment blob is exactly
 * its length).
 *
 * <p>If any write or flush fails, the stream is poisoned (sticky failure): every later write and
 * flush throws an {@link IOException} whose cause is the first failure, and {@link #close()} closes
 * the delegate without writing a final segment, so the output can never pass for a complete
 * envelope.
 *
 * <p>Not thread-safe.
 */
public final class EncryptingOutputStream extends OutputStream {
  /** First size of the plaintext buffer; it doubles up to a segment as writes need. */
  static final int INITIAL_BUFFER = 4096;

  private final OutputStream out;
  private final SegmentCipher cipher;
  private final SegmentLayout layout;
  private byte[] plain;
  private byte @Nullable [] ct; // allocated by the first segment written
  private int pos;
  private long segment;
  private boolean closed;
  private @Nullable Throwable failure;
  private long plaintextBytes;
  private final LongConsumer onComplete;

  /**
   * Creates an encrypting output stream over {@code out}.
   *
   * @param onComplete called with the plaintext length once the final segment is written
   */
  public EncryptingOutputStream(
      OutputStream out,
      SegmentCipher cipher,
      SegmentLayout layout,
      byte[] header,
      LongConsumer onComplete)
      throws IOException {
    this.out = Objects.requireNonNull(out, "out");
    this.onComplete = onComplete;
    this.cipher = cipher;
    this.layout = layout;
    this.plain = new byte[Math.min(INITIAL_BUFFER, layout.maxPlaintextSegment())];
    try {
      out.write(header);
    } catch (IOException | RuntimeException e) {
      failure = e;
      throw e;
    }
  }

  @Override
  public void write(int b) throws IOException {
    if (pos < plain.length
        && pos < layout.plaintextCapacity(segment)
        && !closed
        && failure == null) {
      plain[pos++] = (byte) b;
    } else {
      write(new byte[] {(byte) b}, 0, 1);
    }
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    ensureUsable();
    try {
      while (len > 0) {
        int cap = layout.plaintextCapacity(segment);
        if (pos == cap) {
          emit(plain, 0, pos, false);
          pos = 0;
          continue;
        }
        if (pos == 0 && len > cap) {
          emit(b, off, cap, false); // more bytes follow in this very call: not the last segment
          off += cap;
          len -= cap;
          continue;
        }
        int n = Math.min(len, cap - pos);
        if (pos + n > plain.length) {
          grow(pos + n);
        }
        System.arraycopy(b, off, plain, pos, n);
        pos += n;
        off += n;
        len -= n;
      }
    } catch (IOException | RuntimeException | Error e) {
      failure = e;
      throw e;
    }
  }

  /**
   * Grows the plaintext buffer to at least {@code min} bytes (at most a segment), wiping the old
   * one.
   */
  private void grow(int min) {
    int size = Math.min(Math.max(min, plain.length * 2), layout.maxPlaintextSegment());
    byte[] bigger = Arrays.copyOf(plain, size);
    Arrays.fill(plain, (byte) 0);
    plain = bigger;
  }

  private void emit(byte[] src, int off, int len, boolean last) throws IOException {
    if (segment >= layout.maxSegments() - (last ? 0 : 1)) {
      throw layout.tooLarge();
    }
    byte[] ct = this.ct;
    if (ct == null || ct.length < len + SegmentLayout.TAG_LENGTH) {
      // a blob whose first segment is its last needs only that segment's length
      ct = new byte[last && segment == 0 ? len + SegmentLayout.TAG_LENGTH : layout.segmentSize()];
      this.ct = ct;
    }
    int n = cipher.encrypt(segment, last, src, off, len, ct, 0);
    out.write(ct, 0, n);
    segment++;
    plaintextBytes += len;
  }

  private void ensureUsable() throws IOException {
    if (failure != null) {
      throw new IOException("an earlier write failed; the ciphertext is incomplete", failure);
    }
    if (closed) {
      throw new IOException("stream closed");
    }
  }

  /** Flushes the delegate; a partial segment stays buffered (it cannot be written yet). */
  @Override
  public void flush() throws IOException {
    ensureUsable();
    try {
      out.flush();
    } catch (IOException | RuntimeException | Error e) {
      failure = e; // the delegate may have lost buffered segments: never close as complete
      throw e;
    }
  }

  /**
   * Writes the final segment and closes the delegate. Idempotent. If an earlier write failed, no
   * final segment is written, the delegate is still closed, and an {@link IOException} says so.
   */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    Throwable first = null;
    if (failure != null) {
      first =
          new IOException(
              "an earlier write failed; no final segment written, output is not a valid envelope",
              failure);
    } else {
      try {
        emit(plain, 0, pos, true);
        onComplete.accept(plaintextBytes);
      } catch (IOException | RuntimeException | Error e) {
        first = e;
      }
    }
    Arrays.fill(plain, (byte) 0);
    cipher.close(); // the blob key's schedule does not outlive the stream
    try {
      out.close();
    } catch (IOException | RuntimeException | Error e) {
      if (first == null) {
        first = e;
      } else {
        first.addSuppressed(e);
      }
    }
    if (first instanceof IOException) {
      throw (IOException) first;
    } else if (first instanceof RuntimeException) {
      throw (RuntimeException) first;
    } else if (first instanceof Error) {
      throw (Error) first;
    }
  }
}
