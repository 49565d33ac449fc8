package dev.byok.internal;

import dev.byok.BlobTooLargeException;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.LongConsumer;
import org.jspecify.annotations.Nullable;

/**
 * Push-mode encryption: buffers at most one plaintext segment, writes each segment when the next
 * plaintext byte arrives (only then is it known not to be the last), and the final one on {@link
 * #close()}. Bytes are not copied when they need not be: a write that completes a segment encrypts
 * its part straight from the caller's array behind the buffered head, and segments larger than
 * {@value #SEAL_AS_WRITTEN_ABOVE} bytes are encrypted as they are written, from the second segment
 * on, on the bet that more follows (a lost bet costs re-encrypting the final segment).
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

  /**
   * Segments with a larger capacity than this are, from the second segment on, encrypted as they
   * are written rather than copied into the plaintext buffer first (the copy halved the speed of 1
   * MiB segments). Smaller segments are completed straight from the caller's array instead.
   */
  static final int SEAL_AS_WRITTEN_ABOVE = 64 * 1024;

  /**
   * Only a write of at least this many bytes starts sealing a segment as written; smaller writes
   * are gathered in the plaintext buffer (one JCA call per small write would cost more than the
   * copy).
   */
  static final int SEAL_WRITES_FROM = 16 * 1024;

  private final OutputStream out;
  private final SegmentCipher cipher;
  private final SegmentLayout layout;
  private byte[] plain;
  private byte @Nullable [] ct; // allocated by the first segment written
  private int pos; // plaintext bytes of the current segment so far
  private int plainDirty; // plain[0, plainDirty) may hold plaintext not yet wiped
  private boolean writing; // inside write(byte[], int, int): a close() from there is a failure
  private boolean sealing; // the current segment is being encrypted as it is written
  private int ctFill; // while sealing: its ciphertext bytes in ct so far
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
    } catch (Throwable e) {
      failure = e;
      throw e;
    }
  }

  @Override
  public void write(int b) throws IOException {
    if (pos < plain.length
        && pos < layout.plaintextCapacity(segment)
        && !sealing
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
    writing = true;
    try {
      while (len > 0) {
        int cap = layout.plaintextCapacity(segment);
        if (pos == cap) {
          completeSegment(); // a byte follows the full segment: it is not the last
          continue;
        }
        int room = cap - pos;
        if (sealing) {
          int n = Math.min(len, room);
          ctFill += cipher.sealUpdate(b, off, n, ct(), ctFill);
          pos += n;
          off += n;
          len -= n;
          continue;
        }
        if (len > room) {
          // this call completes the segment and has bytes after it: not the last segment, and
          // its tail is encrypted straight from the caller's array behind the buffered head
          emit(b, off, room);
          pos = 0;
          off += room;
          len -= room;
          continue;
        }
        if (segment > 0 && cap > SEAL_AS_WRITTEN_ABOVE && len >= SEAL_WRITES_FROM) {
          beginSealing();
          continue;
        }
        if (pos + len > plain.length) {
          grow(pos + len);
        }
        System.arraycopy(b, off, plain, pos, len);
        pos += len;
        plainDirty = Math.max(plainDirty, pos);
        len = 0;
      }
    } catch (Throwable e) { // undeclared checked ones too: a sink may throw anything
      failure = e;
      throw e;
    } finally {
      writing = false;
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

  private byte[] ct() {
    byte[] ct = this.ct;
    if (ct == null || ct.length < layout.segmentSize()) {
      ct = new byte[layout.segmentSize()];
      this.ct = ct;
    }
    return ct;
  }

  /**
   * Switches the current segment (not the first, larger than {@value #SEAL_AS_WRITTEN_ABOVE} bytes)
   * to being encrypted as it is written, on the bet that it is not the last: its buffered head is
   * encrypted now and wiped, and each later write goes from the caller's array straight to
   * ciphertext. {@link #close()} redoes the segment as the last one if the bet loses.
   */
  private void beginSealing() {
    cipher.sealBegin(segment);
    sealing = true;
    ctFill = cipher.sealUpdate(plain, 0, pos, ct(), 0);
    // no earlier segment's plaintext stays in a buffer that sealed segments no longer overwrite
    Arrays.fill(plain, 0, plainDirty, (byte) 0);
    plainDirty = 0;
  }

  /** Writes the full current segment as one that is not the last. */
  private void completeSegment() throws IOException {
    if (sealing) {
      checkSegmentLimit(false);
      byte[] ct = ct();
      int n = ctFill + cipher.sealFinish(ct, ctFill);
      sealing = false;
      ctFill = 0;
      out.write(ct, 0, n);
      segment++;
      plaintextBytes += pos;
    } else {
      emit(plain, 0, 0);
    }
    pos = 0;
  }

  /**
   * Encrypts the buffered head {@code plain[0, pos)} followed by {@code src[off, off+len)} as one
   * segment that is not the last, and writes it.
   */
  private void emit(byte[] src, int off, int len) throws IOException {
    checkSegmentLimit(false);
    byte[] ct = ct();
    int n =
        pos == 0
            ? cipher.encrypt(segment, false, src, off, len, ct, 0)
            : cipher.encrypt(segment, false, plain, 0, pos, src, off, len, ct, 0);
    out.write(ct, 0, n);
    segment++;
    plaintextBytes += pos + len;
  }

  /** Encrypts and writes the final segment, {@code plain[0, pos)}. */
  private void emitLast() throws IOException {
    checkSegmentLimit(true);
    byte[] ct = this.ct;
    if (ct == null || ct.length < pos + SegmentLayout.TAG_LENGTH) {
      // a blob whose first segment is its last needs only that segment's length
      ct = new byte[segment == 0 ? pos + SegmentLayout.TAG_LENGTH : layout.segmentSize()];
      this.ct = ct;
    }
    int n = cipher.encrypt(segment, true, plain, 0, pos, ct, 0);
    out.write(ct, 0, n);
    segment++;
    plaintextBytes += pos;
  }

  private void checkSegmentLimit(boolean last) throws BlobTooLargeException {
    if (segment >= layout.maxSegments() - (last ? 0 : 1)) {
      throw layout.tooLarge();
    }
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
    } catch (Throwable e) {
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
    if (writing && failure == null) {
      // called back from inside a write of ours (a sink's error handler): that write never ended
      failure = new IOException("close() was called while a write was in progress");
    }
    if (failure != null) {
      first =
          new IOException(
              "an earlier write failed; no final segment written, output is not a valid envelope",
              failure);
    } else {
      try {
        if (sealing) {
          // the bet lost: this segment is the last. Its not-last ciphertext is never written;
          // the plaintext comes back from it and is encrypted again under the last nonce.
          byte[] ct = ct();
          int n = ctFill + cipher.sealFinish(ct, ctFill);
          sealing = false;
          if (plain.length < pos) {
            grow(pos);
          }
          cipher.recoverSealed(segment, ct, 0, n - SegmentLayout.TAG_LENGTH, plain, 0);
          plainDirty = Math.max(plainDirty, pos);
        }
        emitLast();
        onComplete.accept(plaintextBytes);
      } catch (Throwable e) {
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
    } else if (first != null) {
      throw new IOException("the final segment could not be written", first);
    }
  }
}
