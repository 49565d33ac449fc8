package dev.byok.internal;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.LongConsumer;
import org.jspecify.annotations.Nullable;

/**
 * Push-mode encryption of one blob with its segments sealed on an {@link Executor}: each full
 * segment is copied into one of at most {@code parallelism} slots (the caller may reuse its array
 * as soon as {@code write} returns), sealed by a task, and written to the sink in segment order by
 * the thread that calls {@code write}, {@code flush} or {@code close} (never by a pool thread, so a
 * failing sink surfaces in those calls). When every slot is in flight, {@code write} waits for the
 * oldest one. The final segment is sealed on {@link #close()} by the calling thread, after every
 * other segment has been written. Memory: at most {@code parallelism} slots of two segment buffers
 * each.
 *
 * <p>The output is byte for byte what {@link EncryptingOutputStream} writes for the same header,
 * key and nonce prefix: every slot seals with a {@link SegmentCipher#sibling()} of the blob's
 * cipher (its own key copy, closed with the stream).
 *
 * <p>Failures are sticky, as in {@link EncryptingOutputStream}: after a failed write, flush, task,
 * an executor's rejection ({@link IOException}) or an interrupt while waiting ({@link
 * InterruptedIOException}, interrupt status kept) every later write and flush throws, and {@code
 * close()} writes no final segment, so the output never passes for a complete envelope. A task
 * still running when the stream fails or closes is abandoned: it wipes its own slot when it ends
 * and nothing it produces is written.
 *
 * <p>Not thread-safe; the executor's threads only run sealing.
 */
public final class ParallelEncryptingOutputStream extends OutputStream {
  private final OutputStream out;
  private final SegmentCipher cipher;
  private final SegmentLayout layout;
  private final Executor executor;
  private final int parallelism;
  private final LongConsumer onComplete;
  private final List<EncryptSlot> slots = new ArrayList<>();
  private final ArrayDeque<EncryptSlot> idle = new ArrayDeque<>();
  private final ArrayDeque<EncryptSlot> inFlight = new ArrayDeque<>(); // in segment order
  private @Nullable EncryptSlot current; // being filled by the caller
  private int pos;
  private long segment; // index of the segment in current
  private long plaintextBytes;
  private boolean closed;
  private @Nullable Throwable failure;

  /**
   * Creates the stream and writes {@code header} to {@code out}.
   *
   * @param cipher the blob's cipher; the stream owns it and closes it
   * @param parallelism most segments in flight, {@code >= 2}
   * @param onComplete called with the plaintext length once the final segment is written
   * @throws IOException if writing the header fails
   */
  public ParallelEncryptingOutputStream(
      OutputStream out,
      SegmentCipher cipher,
      SegmentLayout layout,
      byte[] header,
      Executor executor,
      int parallelism,
      LongConsumer onComplete)
      throws IOException {
    if (parallelism < 1) {
      cipher.close();
      throw new IllegalArgumentException("parallelism must be >= 1, was " + parallelism);
    }
    this.out = Objects.requireNonNull(out, "out");
    this.cipher = cipher;
    this.layout = layout;
    this.executor = Objects.requireNonNull(executor, "executor");
    this.parallelism = parallelism;
    this.onComplete = onComplete;
    try {
      out.write(header);
    } catch (IOException | RuntimeException e) {
      failure = e;
      cipher.close();
      throw e;
    }
  }

  @Override
  public void write(int b) throws IOException {
    EncryptSlot s = current;
    if (s != null
        && pos < s.plain.length
        && pos < layout.plaintextCapacity(segment)
        && !closed
        && failure == null) {
      s.plain[pos++] = (byte) b;
      plaintextBytes++;
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
        EncryptSlot s = current;
        if (s != null && pos == cap) {
          submit(s, pos); // more bytes follow: it is not the last segment
          current = null;
          pos = 0;
          segment++;
          writeDone(false);
          continue;
        }
        if (s == null) {
          s = takeSlot();
          current = s;
        }
        int n = Math.min(len, cap - pos);
        s.ensurePlain(pos + n, layout);
        System.arraycopy(b, off, s.plain, pos, n);
        pos += n;
        off += n;
        len -= n;
        plaintextBytes += n;
      }
    } catch (IOException | RuntimeException | Error e) {
      fail(e);
      throw e;
    }
  }

  /** A free slot: a new one while fewer than {@code parallelism} exist, else the oldest's. */
  private EncryptSlot takeSlot() throws IOException {
    EncryptSlot s = idle.poll();
    if (s != null) {
      return s;
    }
    if (slots.size() < parallelism) {
      s = new EncryptSlot(slots.isEmpty() ? cipher : cipher.sibling());
      slots.add(s);
      return s;
    }
    writeOldest(true);
    return Objects.requireNonNull(idle.poll(), "a slot was freed");
  }

  private void submit(EncryptSlot s, int len) throws IOException {
    if (segment >= layout.maxSegments() - 1) {
      throw layout.tooLarge();
    }
    s.prepare(segment, len, false, layout);
    inFlight.add(s);
    try {
      executor.execute(s);
    } catch (RuntimeException e) { // RejectedExecutionException and the like
      inFlight.removeLast();
      s.state.set(EncryptSlot.IDLE);
      throw new IOException("the executor rejected a segment task", e);
    }
  }

  /** Writes the sealed segments at the head of the queue; with {@code block}, waits for one. */
  private void writeDone(boolean block) throws IOException {
    if (block) {
      writeOldest(true);
    }
    while (!inFlight.isEmpty() && writeOldest(false)) {
      // wrote one that was done
    }
  }

  /**
   * Writes the oldest in-flight segment if it is sealed (with {@code wait}, once it is).
   *
   * @return whether one was written
   */
  private boolean writeOldest(boolean wait) throws IOException {
    EncryptSlot s = Objects.requireNonNull(inFlight.peek(), "a segment in flight");
    if (wait) {
      try {
        s.done.acquire();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for a segment to be sealed");
      }
    } else if (!s.done.tryAcquire()) {
      return false;
    }
    inFlight.remove();
    s.state.set(EncryptSlot.IDLE);
    Throwable t = s.error;
    if (t != null) {
      s.error = null;
      throw new IOException("sealing segment " + s.segment + " failed", t);
    }
    out.write(s.ct, 0, s.ctLength);
    idle.add(s);
    return true;
  }

  private void ensureUsable() throws IOException {
    if (failure != null) {
      throw new IOException("an earlier write failed; the ciphertext is incomplete", failure);
    }
    if (closed) {
      throw new IOException("stream closed");
    }
  }

  private void fail(Throwable e) {
    if (failure == null) {
      failure = e;
    }
  }

  /**
   * Writes every segment sealed so far (waiting for those in flight) and flushes the sink; a
   * partial segment stays buffered (it cannot be written yet).
   */
  @Override
  public void flush() throws IOException {
    ensureUsable();
    try {
      while (!inFlight.isEmpty()) {
        writeOldest(true);
      }
      out.flush();
    } catch (IOException | RuntimeException | Error e) {
      fail(e);
      throw e;
    }
  }

  /**
   * Writes the segments in flight, then the final segment, and closes the sink. Idempotent. If an
   * earlier call failed, no final segment is written, the tasks in flight are abandoned, the sink
   * is still closed and an {@link IOException} says so.
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
        while (!inFlight.isEmpty()) {
          writeOldest(true);
        }
        EncryptSlot s = current != null ? current : takeSlot();
        if (segment >= layout.maxSegments()) {
          throw layout.tooLarge();
        }
        s.prepare(segment, pos, true, layout);
        s.run(); // the final segment, on this thread
        s.done.acquireUninterruptibly(); // released by run() just now
        Throwable t = s.error;
        if (t != null) {
          throw new IOException("sealing the final segment failed", t);
        }
        out.write(s.ct, 0, s.ctLength);
        onComplete.accept(plaintextBytes);
      } catch (IOException | RuntimeException | Error e) {
        first = e;
        fail(e);
      }
    }
    release();
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

  /** Wipes idle slots, abandons running ones (they wipe themselves) and closes every cipher. */
  private void release() {
    for (EncryptSlot s : slots) {
      s.abandonOrWipe();
    }
    cipher.close();
    current = null;
  }

  /** Test seam: the slots' ciphers, the blob's own one first. */
  List<SegmentCipher> slotCiphers() {
    List<SegmentCipher> all = new ArrayList<>();
    for (EncryptSlot s : slots) {
      all.add(s.cipher);
    }
    return all;
  }
}
