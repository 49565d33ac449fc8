package dev.byok.internal;

import dev.byok.InvalidCiphertextException;
import dev.byok.InvalidCiphertextException.Reason;
import dev.byok.InvalidCiphertextIOException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * Whole-payload decryption with read-ahead: the thread that calls {@code read} reads up to {@code
 * parallelism} ciphertext segments ahead from the source, each into a slot of its own, and the
 * segments are authenticated and decrypted by tasks on an {@link Executor}; plaintext is handed out
 * strictly in segment order, and a segment's plaintext only once that segment has authenticated.
 * Memory: at most {@code parallelism} slots of two segment buffers each.
 *
 * <p>The framing rules are those of {@link DecryptingInputStream#whole}: it reads a tag plus one
 * byte past each segment to learn whether it is the last one and whether what follows can be a
 * final segment, so truncation, trailing data, reordered segments and tampering fail with the same
 * {@link InvalidCiphertextException} reasons, at the same point of the plaintext: a failure of
 * segment {@code i} (found by a task or by the framing) is reported only after segments {@code
 * 0..i-1} have been handed out.
 *
 * <p>Failures are sticky as in {@link DecryptingInputStream}: {@link InvalidCiphertextIOException}
 * for a bad blob, {@link IOException} for the source or the executor (a rejected task), {@link
 * InterruptedIOException} (interrupt status kept) if the caller is interrupted while it waits for a
 * segment. On close or failure, tasks in flight are abandoned and wipe their own slot when they
 * end.
 *
 * <p>Not thread-safe; the executor's threads only run decryption.
 */
public final class ParallelDecryptingInputStream extends InputStream {
  private final InputStream source;
  private final SegmentDecrypter decrypter;
  private final SegmentLayout layout;
  private final Executor executor;
  private final int parallelism;
  private final List<DecryptSlot> slots = new ArrayList<>();
  private final ArrayDeque<DecryptSlot> idle = new ArrayDeque<>();
  private final ArrayDeque<DecryptSlot> inFlight = new ArrayDeque<>(); // in segment order
  private final byte[] carry = new byte[DecryptingInputStream.LOOK_AHEAD];
  private int carryLength;
  private long nextSegment; // the next segment to read from the source
  private boolean lastRead; // the final segment has been read from the source
  private @Nullable Exception deferred; // found while reading ahead, raised in order
  private @Nullable DecryptSlot head; // the segment being handed out
  private int plainPos;
  private int plainLim;
  private boolean finished;
  private boolean closed;
  private @Nullable InvalidCiphertextException failure;
  private @Nullable Throwable otherFailure;

  /**
   * A stream over {@code source}, positioned at the first segment.
   *
   * @param decrypter the blob's decrypter; the stream owns it and closes it
   * @param parallelism most segments read ahead, {@code >= 1}
   */
  public ParallelDecryptingInputStream(
      InputStream source,
      SegmentDecrypter decrypter,
      SegmentLayout layout,
      Executor executor,
      int parallelism) {
    if (parallelism < 1) {
      decrypter.close();
      throw new IllegalArgumentException("parallelism must be >= 1, was " + parallelism);
    }
    this.source = Objects.requireNonNull(source, "source");
    this.decrypter = decrypter;
    this.layout = layout;
    this.executor = Objects.requireNonNull(executor, "executor");
    this.parallelism = parallelism;
  }

  @Override
  public int read() throws IOException {
    DecryptSlot h = head;
    if (h != null && plainPos < plainLim && !closed && failure == null && otherFailure == null) {
      return h.plain[plainPos++] & 0xff;
    }
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (failure != null) {
      throw new InvalidCiphertextIOException(failure);
    }
    if (otherFailure != null) {
      throw new IOException("an earlier read failed; the stream cannot go on", otherFailure);
    }
    if (closed) {
      throw new IOException("stream closed");
    }
    if (len == 0) {
      return 0;
    }
    try {
      while (true) {
        DecryptSlot h = head;
        if (h != null) {
          if (plainPos < plainLim) {
            int n = Math.min(len, plainLim - plainPos);
            System.arraycopy(h.plain, plainPos, b, off, n);
            plainPos += n;
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
        DecryptSlot next = inFlight.peek();
        if (next == null) {
          Exception e = Objects.requireNonNull(deferred, "nothing in flight, so a deferred error");
          if (e instanceof InvalidCiphertextException) {
            throw (InvalidCiphertextException) e;
          }
          throw (IOException) e;
        }
        try {
          next.done.acquire();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while waiting for a segment to decrypt");
        }
        inFlight.remove();
        next.state.set(DecryptSlot.IDLE);
        Throwable t = next.error;
        if (t != null) {
          next.wipe();
          if (t instanceof InvalidCiphertextException) {
            throw (InvalidCiphertextException) t;
          }
          throw new IOException("decrypting segment " + next.segment + " failed", t);
        }
        head = next;
        plainPos = 0;
        plainLim = next.plainLength;
      }
    } catch (InvalidCiphertextException e) {
      failure = e;
      throw new InvalidCiphertextIOException(e);
    } catch (IOException | RuntimeException | Error e) {
      // the source may have consumed bytes it did not report: going on could misalign segments
      otherFailure = e;
      throw e;
    }
  }

  /** Reads segments from the source and submits them until {@code parallelism} are in flight. */
  private void readAhead() throws IOException {
    while (!lastRead && deferred == null && inFlight.size() < parallelism) {
      DecryptSlot s = idle.poll();
      if (s == null) {
        s = new DecryptSlot(slots.isEmpty() ? decrypter : decrypter.sibling());
        slots.add(s);
      }
      try {
        readSegment(s);
      } catch (InvalidCiphertextException | IOException e) {
        idle.add(s);
        deferred = e; // raised once the segments before it are handed out
        return;
      }
      inFlight.add(s);
      s.state.set(DecryptSlot.QUEUED);
      try {
        executor.execute(s);
      } catch (RuntimeException e) { // RejectedExecutionException and the like
        inFlight.removeLast();
        s.state.set(DecryptSlot.IDLE);
        throw new IOException("the executor rejected a segment task", e);
      }
    }
  }

  /**
   * Reads the next segment's ciphertext into {@code s}, by the rules of {@link
   * DecryptingInputStream}'s whole mode: {@code LOOK_AHEAD} bytes past it tell whether it is the
   * last and whether what follows can be a final segment.
   */
  private void readSegment(DecryptSlot s) throws IOException {
    long segment = nextSegment;
    int expected = layout.ciphertextCapacity(segment);
    int want = expected + DecryptingInputStream.LOOK_AHEAD;
    if (s.ct.length < Math.min(want, DecryptingInputStream.INITIAL_BUFFER)) {
      s.ct = new byte[Math.min(want, DecryptingInputStream.INITIAL_BUFFER)];
    }
    System.arraycopy(carry, 0, s.ct, 0, carryLength);
    int fill = carryLength;
    carryLength = 0;
    while (true) {
      int target = Math.min(want, s.ct.length);
      fill += Io.readUpTo(source, s.ct, fill, target - fill);
      if (fill < target || s.ct.length >= want) {
        break; // the source ended, or the segment and its look-ahead are in
      }
      s.ct = Arrays.copyOf(s.ct, layout.segmentSize() + DecryptingInputStream.LOOK_AHEAD);
    }
    if (fill > expected && fill < want) {
      throw new InvalidCiphertextException(
          Reason.TRUNCATED,
          "the payload ends "
              + (fill - expected)
              + " bytes into segment "
              + (segment + 1)
              + ": a final segment after the first carries more than a tag");
    }
    boolean last = fill <= expected;
    int len = last ? fill : expected;
    if (!last && segment >= layout.maxSegments() - 1) {
      throw new InvalidCiphertextException(
          Reason.TRAILING_DATA,
          "more than "
              + layout.maxSegments()
              + " segments, the cap for "
              + layout.segmentSize()
              + "-byte segments");
    }
    if (!last) {
      carryLength = fill - expected;
      System.arraycopy(s.ct, expected, carry, 0, carryLength);
    }
    int need = Math.max(0, len - SegmentLayout.TAG_LENGTH);
    if (s.plain.length < need) {
      s.wipe();
      s.plain = new byte[last ? need : layout.maxPlaintextSegment()];
    }
    s.segment = segment;
    s.length = len;
    s.last = last;
    s.error = null;
    lastRead = last;
    nextSegment++;
  }

  @Override
  public int available() {
    if (closed || failure != null || otherFailure != null || head == null) {
      return 0;
    }
    return plainLim - plainPos;
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
    for (DecryptSlot s : slots) {
      s.abandonOrWipe();
    }
    decrypter.close();
    Arrays.fill(carry, (byte) 0);
    head = null;
    plainPos = 0;
    plainLim = 0;
  }

  /** Test seam: the slots' decrypters, the blob's own one first. */
  List<SegmentDecrypter> slotDecrypters() {
    List<SegmentDecrypter> all = new ArrayList<>();
    for (DecryptSlot s : slots) {
      all.add(s.decrypter);
    }
    return all;
  }
}
