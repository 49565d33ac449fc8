package dev.byok.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.LongConsumer;
import org.jspecify.annotations.Nullable;

/**
 * Pull-mode encryption with read-ahead: the thread that calls {@code read} reads up to {@code
 * parallelism} plaintext segments ahead from the source (one byte more, to know whether a segment
 * is the last), each into a slot of its own; tasks on an {@link Executor} seal them, and the
 * envelope is handed out in segment order. Memory: at most {@code parallelism} slots of two segment
 * buffers each. The output is byte for byte what {@link EncryptingInputStream} yields for the same
 * header, key and nonce prefix.
 *
 * <p>Every failure of {@code read} is an {@link IOException} and sticky, as in {@link
 * EncryptingInputStream}: a failure of the source (raised once the segments before it are handed
 * out), a failed or rejected task, an interrupt while waiting ({@link InterruptedIOException},
 * interrupt status kept), so a caller never reads past it into an envelope that looks complete. On
 * close or failure, tasks in flight are abandoned and wipe their own slot when they end.
 *
 * <p>Not thread-safe; the executor's threads only run sealing.
 */
public final class ParallelEncryptingInputStream extends InputStream {
  private final InputStream source;
  private final SegmentCipher cipher;
  private final SegmentLayout layout;
  private final Executor executor;
  private final int parallelism;
  private final LongConsumer onComplete;
  private final byte[] header;
  private int headerPos;
  private final List<EncryptSlot> slots = new ArrayList<>();
  private final ArrayDeque<EncryptSlot> idle = new ArrayDeque<>();
  private final ArrayDeque<EncryptSlot> inFlight = new ArrayDeque<>(); // in segment order
  private int carry = -1; // the plaintext byte read past the last segment read, or -1
  private long nextSegment;
  private boolean lastRead;
  private long plaintextBytes;
  private @Nullable IOException deferred; // a source failure, raised in order
  private @Nullable EncryptSlot head; // the segment being handed out
  private int ctPos;
  private int ctLim;
  private boolean finished;
  private boolean closed;
  private @Nullable IOException failure;

  /**
   * A stream yielding {@code header} and then the sealed segments of what {@code source} yields.
   *
   * @param cipher the blob's cipher; the stream owns it and closes it
   * @param parallelism most segments read ahead, {@code >= 1}
   * @param onComplete called with the plaintext length once the final segment is sealed
   */
  public ParallelEncryptingInputStream(
      InputStream source,
      SegmentCipher cipher,
      SegmentLayout layout,
      byte[] header,
      Executor executor,
      int parallelism,
      LongConsumer onComplete) {
    if (parallelism < 1) {
      cipher.close();
      throw new IllegalArgumentException("parallelism must be >= 1, was " + parallelism);
    }
    this.source = Objects.requireNonNull(source, "source");
    this.cipher = cipher;
    this.layout = layout;
    this.header = header.clone();
    this.executor = Objects.requireNonNull(executor, "executor");
    this.parallelism = parallelism;
    this.onComplete = onComplete;
  }

  @Override
  public int read() throws IOException {
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
    }
  }

  private int readEnvelope(byte[] b, int off, int len) throws IOException {
    if (headerPos < header.length) {
      int n = Math.min(len, header.length - headerPos);
      System.arraycopy(header, headerPos, b, off, n);
      headerPos += n;
      return n;
    }
    while (true) {
      EncryptSlot h = head;
      if (h != null) {
        if (ctPos < ctLim) {
          int n = Math.min(len, ctLim - ctPos);
          System.arraycopy(h.ct, ctPos, b, off, n);
          ctPos += n;
          return n;
        }
        head = null;
        if (h.last) {
          finished = true;
          release(); // no more segments: the key schedules go now
        } else {
          idle.add(h);
        }
      }
      if (finished) {
        return -1;
      }
      readAhead();
      EncryptSlot next = inFlight.peek();
      if (next == null) {
        throw Objects.requireNonNull(deferred, "nothing in flight, so a deferred error");
      }
      try {
        next.done.acquire();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for a segment to be sealed");
      }
      inFlight.remove();
      next.state.set(EncryptSlot.IDLE);
      Throwable t = next.error;
      if (t != null) {
        throw new IOException("sealing segment " + next.segment + " failed", t);
      }
      head = next;
      ctPos = 0;
      ctLim = next.ctLength;
      if (next.last) {
        onComplete.accept(plaintextBytes); // the final segment is sealed
      }
    }
  }

  /** Reads plaintext segments from the source and submits them until enough are in flight. */
  private void readAhead() throws IOException {
    while (!lastRead && deferred == null && inFlight.size() < parallelism) {
      EncryptSlot s = idle.poll();
      if (s == null) {
        s = new EncryptSlot(slots.isEmpty() ? cipher : cipher.sibling());
        slots.add(s);
      }
      try {
        readSegment(s);
      } catch (IOException e) {
        idle.add(s);
        deferred = e; // raised once the segments before it are handed out
        return;
      }
      inFlight.add(s);
      try {
        executor.execute(s);
      } catch (RuntimeException e) { // RejectedExecutionException and the like
        inFlight.removeLast();
        s.state.set(EncryptSlot.IDLE);
        throw new IOException("the executor rejected a segment task", e);
      }
    }
  }

  /** Reads the next segment's plaintext, and one byte past it, into {@code s}. */
  private void readSegment(EncryptSlot s) throws IOException {
    long segment = nextSegment;
    int cap = layout.plaintextCapacity(segment);
    if (s.plain.length < cap + 1) {
      s.wipe();
      s.plain = new byte[layout.maxPlaintextSegment() + 1];
    }
    int fill = 0;
    if (carry >= 0) {
      s.plain[0] = (byte) carry;
      fill = 1;
      carry = -1;
    }
    fill += Io.readUpTo(source, s.plain, fill, cap + 1 - fill);
    boolean last = fill <= cap;
    int len = last ? fill : cap;
    if (!last && segment >= layout.maxSegments() - 1) {
      throw layout.tooLarge();
    }
    if (!last) {
      carry = s.plain[cap] & 0xff;
      s.plain[cap] = 0;
    }
    s.prepare(segment, len, last, layout); // queued from here on
    lastRead = last;
    plaintextBytes += len;
    nextSegment++;
  }

  @Override
  public int available() {
    if (closed || failure != null) {
      return 0;
    }
    return headerPos < header.length ? header.length - headerPos : head == null ? 0 : ctLim - ctPos;
  }

  /**
   * Closes the source, wipes buffered plaintext, abandons the tasks in flight and closes the
   * ciphers. Idempotent.
   */
  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      release();
      source.close();
    }
  }

  private void release() {
    for (EncryptSlot s : slots) {
      s.abandonOrWipe();
    }
    cipher.close();
    carry = -1;
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
