package dev.byok.internal;

import dev.byok.InvalidCiphertextException;
import dev.byok.InvalidCiphertextException.Reason;
import dev.byok.InvalidCiphertextIOException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * Random-access decryption: a read at any plaintext position fetches and authenticates only the
 * segments that cover it. {@link #size()} is the plaintext size, verified by authenticating the
 * final segment (so a truncated or extended source is detected before the size is trusted). Reading
 * the source never loops without progress: a short source is an {@link InvalidCiphertextException},
 * not a spin.
 *
 * <p>Any failure of {@link #read}, {@link #size()} or the source is sticky: every later call but
 * {@link #close()} throws again, so a reader cannot step past a failing segment.
 *
 * <p>With an executor and a parallelism {@code k >= 2}, a reader moving forward gets <em>read-ahead
 * </em>: after each segment it needs, the channel reads the ciphertext of the next {@code k}
 * segments from the source (on the calling thread: the source is never touched by another thread)
 * and decrypts them on the executor, each with its own cipher, so a sequential reader is served
 * from segments already authenticated while the next ones decrypt. A read elsewhere drops the
 * read-ahead (its tasks are abandoned and wipe their buffers). A segment whose read-ahead
 * decryption failed is read and decrypted again on the calling thread, which raises the same typed
 * error as without read-ahead. Memory is O(k × segment).
 *
 * <p>Not thread-safe: one channel per reader.
 */
public final class DecryptingChannel implements SeekableByteChannel {

  private final SeekableByteChannel source;
  private final SegmentDecrypter decrypter;
  private final SegmentLayout layout;
  private final long payloadOffset;
  private final long plaintextSize;
  private final long finalSegment;
  private final ByteBuffer ct;
  private byte @Nullable [] plain; // allocated by the first read that is not a whole segment
  private long cachedSegment = -1;
  private int cachedLength;
  private boolean sizeVerified;
  private long position;
  private boolean open = true;
  private @Nullable Throwable failure; // sticky: after it every call but close() fails
  // read-ahead (executor != null): consecutive segments in flight or done, in order
  private final @Nullable Executor executor;
  private final int parallelism;
  private final ArrayDeque<DecryptSlot> ahead = new ArrayDeque<>();
  private final ArrayDeque<DecryptSlot> idle = new ArrayDeque<>();
  private final List<DecryptSlot> slots = new ArrayList<>();

  public DecryptingChannel(
      SeekableByteChannel source,
      SegmentDecrypter decrypter,
      SegmentLayout layout,
      long payloadOffset)
      throws IOException {
    this(source, decrypter, layout, payloadOffset, null, 1);
  }

  /**
   * A channel that decrypts up to {@code parallelism} segments ahead of a sequential reader on
   * {@code executor}; {@code executor == null} or {@code parallelism == 1}: none.
   */
  public DecryptingChannel(
      SeekableByteChannel source,
      SegmentDecrypter decrypter,
      SegmentLayout layout,
      long payloadOffset,
      @Nullable Executor executor,
      int parallelism)
      throws IOException {
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be >= 1, was " + parallelism);
    }
    this.executor = parallelism > 1 ? executor : null;
    this.parallelism = parallelism;
    this.source = Objects.requireNonNull(source, "source");
    this.decrypter = decrypter;
    this.layout = layout;
    this.payloadOffset = payloadOffset;
    long payloadLength = source.size() - payloadOffset;
    long p = layout.checkedPlaintextLength(payloadLength);
    this.plaintextSize = p;
    this.finalSegment = layout.segmentCount(p) - 1;
    // the longest segment of this blob: segment 0, or a full later one
    long longest =
        Math.min(layout.segmentSize(), payloadLength - SegmentLayout.PAYLOAD_HEADER_LENGTH);
    this.ct = ByteBuffer.allocate((int) longest);
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    ensureUsable();
    try {
      return readPlain(dst);
    } catch (InvalidCiphertextException e) {
      failure = e;
      throw new InvalidCiphertextIOException(e);
    } catch (IOException | RuntimeException | Error e) {
      failure = e;
      throw e;
    }
  }

  private int readPlain(ByteBuffer dst) throws IOException {
    if (!dst.hasRemaining()) {
      return 0;
    }
    if (position >= plaintextSize) {
      verifySize();
      return -1;
    }
    int total = 0;
    while (dst.hasRemaining() && position < plaintextSize) {
      long seg = layout.segmentOf(position);
      long segStart = layout.plaintextOffset(seg);
      long segLength =
          seg == finalSegment ? plaintextSize - segStart : layout.plaintextCapacity(seg);
      boolean wholeSegment = position == segStart && seg != cachedSegment && dst.hasArray();
      if (wholeSegment && dst.remaining() >= segLength) {
        // a whole segment into the caller's array: authenticated in place, no second copy
        int n = fetch(seg, dst.array(), dst.arrayOffset() + dst.position());
        dst.position(dst.position() + n);
        position += n;
        total += n;
        continue;
      }
      if (wholeSegment && total > 0) {
        break; // a short read keeps the caller's next read aligned on a segment, so it goes direct
        // too
      }
      load(seg);
      int inSeg = (int) (position - segStart);
      int n = Math.min(dst.remaining(), cachedLength - inSeg);
      dst.put(plain, inSeg, n);
      position += n;
      total += n;
    }
    return total;
  }

  private void verifySize() throws IOException {
    if (!sizeVerified) {
      load(finalSegment);
    }
  }

  private void load(long seg) throws IOException {
    if (seg == cachedSegment) {
      return;
    }
    cachedSegment = -1;
    if (plain == null) {
      plain = new byte[(int) Math.min(layout.maxPlaintextSegment(), plaintextSize)];
    }
    cachedLength = fetch(seg, plain, 0);
    cachedSegment = seg;
  }

  /**
   * Segment {@code seg}'s plaintext into {@code out}: from the read-ahead when it holds that
   * segment, else decrypted here; then the read-ahead is topped up with the segments after it.
   */
  private int fetch(long seg, byte[] out, int outOff) throws IOException {
    if (executor == null) {
      return decrypt(seg, out, outOff);
    }
    DecryptSlot s = ahead.peekFirst();
    int n;
    if (s != null && s.segment == seg) {
      ahead.removeFirst();
      try {
        s.done.acquire();
      } catch (InterruptedException e) {
        ahead.addFirst(s); // still in flight: close() abandons it
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for a segment to decrypt");
      }
      s.state.set(DecryptSlot.IDLE);
      if (s.error == null) {
        n = s.plainLength;
        System.arraycopy(s.plain, 0, out, outOff, n);
        if (seg == finalSegment) {
          sizeVerified = true;
        }
      } else {
        n = -1; // again on this thread: the same typed error, diagnosed against the source
      }
      s.wipe();
      idle.add(s);
      if (n < 0) {
        n = decrypt(seg, out, outOff);
      }
    } else {
      dropAhead(); // a read elsewhere: what was read ahead is of no use
      n = decrypt(seg, out, outOff);
    }
    readAhead(seg + 1);
    return n;
  }

  /**
   * Reads the ciphertext of segments {@code from, from+1, ...} (those not already ahead) and hands
   * them to the executor until {@code parallelism} are ahead. A segment whose ciphertext cannot be
   * read is left for the reader to fetch itself, which reports the failure when it gets there.
   */
  private void readAhead(long from) throws IOException {
    Executor ex = Objects.requireNonNull(executor);
    DecryptSlot last = ahead.peekLast();
    long next = last == null ? from : last.segment + 1;
    while (ahead.size() < parallelism && next <= finalSegment) {
      DecryptSlot s = idle.poll();
      if (s == null) {
        s = new DecryptSlot(decrypter.sibling());
        s.ct = new byte[ct.capacity()];
        s.plain = new byte[(int) Math.min(layout.maxPlaintextSegment(), plaintextSize)];
        slots.add(s);
      }
      boolean isLast = next == finalSegment;
      long start = layout.ciphertextOffset(next);
      long end = isLast ? source.size() - payloadOffset : layout.ciphertextOffset(next + 1);
      long len = end - start;
      if (len < SegmentLayout.TAG_LENGTH
          || len > s.ct.length
          || !Io.readFully(source, payloadOffset + start, ByteBuffer.wrap(s.ct, 0, (int) len))) {
        idle.add(s); // the reader meets this segment's problem itself, in order
        return;
      }
      s.segment = next;
      s.length = (int) len;
      s.last = isLast;
      s.error = null;
      s.state.set(DecryptSlot.QUEUED);
      ahead.addLast(s);
      try {
        ex.execute(s);
      } catch (RuntimeException e) { // RejectedExecutionException and the like
        ahead.removeLast();
        s.state.set(DecryptSlot.IDLE);
        idle.add(s);
        throw new IOException("the executor rejected a segment task", e);
      }
      next++;
    }
  }

  /**
   * Drops the read-ahead after a read elsewhere: waits for the segments in flight (at most {@code
   * parallelism}, each one segment's decryption) so that their slots can be reused, and wipes them.
   */
  private void dropAhead() throws InterruptedIOException {
    while (!ahead.isEmpty()) {
      DecryptSlot s = ahead.peekFirst();
      try {
        s.done.acquire();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // the slots left in flight are abandoned by close()
        throw new InterruptedIOException("interrupted while dropping the read-ahead");
      }
      ahead.removeFirst();
      s.state.set(DecryptSlot.IDLE);
      s.wipe();
      idle.add(s);
    }
  }

  /** Test seam: the read-ahead slots' decrypters. */
  List<SegmentDecrypter> slotDecrypters() {
    List<SegmentDecrypter> all = new ArrayList<>();
    for (DecryptSlot s : slots) {
      all.add(s.decrypter);
    }
    return all;
  }

  /**
   * Reads segment {@code seg}'s ciphertext and decrypts it into {@code out}; returns its plaintext
   * length.
   */
  private int decrypt(long seg, byte[] out, int outOff) throws IOException {
    boolean last = seg == finalSegment;
    long start = layout.ciphertextOffset(seg);
    long end = last ? source.size() - payloadOffset : layout.ciphertextOffset(seg + 1);
    int len = (int) (end - start);
    if (len < 0 || len > ct.capacity()) {
      throw new InvalidCiphertextException(Reason.TRUNCATED, "source changed size while reading");
    }
    ct.clear().limit(len);
    if (!Io.readFully(source, payloadOffset + start, ct)) {
      throw new InvalidCiphertextException(Reason.TRUNCATED, "source ends inside segment " + seg);
    }
    int n;
    try {
      n = decrypter.decrypt(seg, last, ct.array(), 0, len, out, outOff);
    } catch (InvalidCiphertextException e) {
      if (last && seg > 0 && e.reason() == Reason.AUTHENTICATION_FAILED && previousIsFinal(seg)) {
        // what a sequential reader finds first: the blob ended one segment earlier
        throw new InvalidCiphertextException(
            Reason.TRAILING_DATA, "bytes follow the final segment " + (seg - 1), e);
      }
      throw e;
    }
    if (last) {
      sizeVerified = true;
    }
    return n;
  }

  /** Whether segment {@code seg - 1} authenticates as a final segment (diagnosis only). */
  private boolean previousIsFinal(long seg) throws IOException {
    long start = layout.ciphertextOffset(seg - 1);
    int len = (int) (layout.ciphertextOffset(seg) - start);
    ct.clear().limit(len);
    if (!Io.readFully(source, payloadOffset + start, ct)) {
      return false;
    }
    return decrypter.authenticates(seg - 1, true, ct.array(), 0, len);
  }

  @Override
  public long position() throws IOException {
    ensureUsable();
    return position;
  }

  @Override
  public SeekableByteChannel position(long newPosition) throws IOException {
    ensureUsable();
    if (newPosition < 0) {
      throw new IllegalArgumentException("position must be >= 0, was " + newPosition);
    }
    position = newPosition;
    return this;
  }

  /** The plaintext size, after authenticating the final segment. */
  @Override
  public long size() throws IOException {
    ensureUsable();
    try {
      verifySize();
    } catch (InvalidCiphertextException e) {
      failure = e;
      throw new InvalidCiphertextIOException(e);
    } catch (IOException | RuntimeException | Error e) {
      failure = e;
      throw e;
    }
    return plaintextSize;
  }

  @Override
  public int write(ByteBuffer src) {
    throw new NonWritableChannelException();
  }

  @Override
  public SeekableByteChannel truncate(long size) {
    throw new NonWritableChannelException();
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  /** Closes the source and wipes cached plaintext. Idempotent. */
  @Override
  public void close() throws IOException {
    if (open) {
      open = false;
      if (plain != null) {
        Arrays.fill(plain, (byte) 0);
      }
      cachedSegment = -1;
      for (DecryptSlot s : slots) {
        s.abandonOrWipe(); // closes each slot's decrypter; a running task wipes its own slot
      }
      ahead.clear();
      idle.clear();
      decrypter.close();
      source.close();
    }
  }

  /**
   * Throws if the channel is closed, or if an earlier call failed (sticky failure): an {@link
   * InvalidCiphertextIOException} again after a ciphertext failure, else an {@link IOException}
   * carrying the first failure.
   */
  private void ensureUsable() throws IOException {
    if (!open) {
      throw new ClosedChannelException();
    }
    Throwable f = failure;
    if (f instanceof InvalidCiphertextException) {
      throw new InvalidCiphertextIOException((InvalidCiphertextException) f);
    }
    if (f != null) {
      throw new IOException("an earlier read failed; the channel cannot go on", f);
    }
  }
}
