package dev.byok.internal;

import dev.byok.BlobTooLargeException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * One-shot envelope encryption and decryption between {@link ByteBuffer}s (heap or direct) and
 * {@link FileChannel}s: segments are encrypted straight from the source buffer and decrypted
 * straight into the destination buffer, with no intermediate copy between heap buffers (direct ones
 * go through heap arrays of the segment cipher, see {@link SegmentCipher}). Channel output uses
 * positional writes (the channel's position is not used or changed), so segments can be written by
 * several threads at once.
 *
 * <p>Stateless; each call uses its own ciphers and scratch buffers, so calls may run concurrently
 * on different buffers.
 */
public final class NioEnvelopes {
  private NioEnvelopes() {}

  /**
   * Encrypts {@code src.remaining()} bytes into {@code dst} at its position: the header, then the
   * segments, straight from {@code src} into {@code dst}. Positions advance only on success.
   *
   * @param header the envelope header, its 40-byte payload header included
   * @return envelope bytes written
   */
  public static int encrypt(
      SegmentCipher cipher, SegmentLayout layout, byte[] header, ByteBuffer src, ByteBuffer dst)
      throws BlobTooLargeException {
    int len = src.remaining();
    long n = segments(layout, len);
    ByteBuffer in = src.duplicate();
    ByteBuffer out = dst.duplicate();
    out.put(header);
    int p = src.position();
    for (long i = 0; i < n; i++) {
      int plen = segmentLength(layout, i, n, len);
      in.limit(p + plen);
      in.position(p);
      cipher.encrypt(i, i == n - 1, in, out);
      p += plen;
    }
    int written = out.position() - dst.position();
    src.position(src.limit());
    dst.position(out.position());
    return written;
  }

  /**
   * Encrypts {@code src.remaining()} bytes into {@code dst} at {@code position} by positional
   * writes. With an executor and {@code parallelism > 1}, all segments but the final one are
   * encrypted and written by tasks on {@code executor}, at most {@code parallelism} at a time (each
   * holds one segment buffer); the final segment is written by the calling thread after every other
   * one has been written, so a failed call never leaves output that authenticates as complete.
   *
   * @param header the envelope header, its 40-byte payload header included
   * @return envelope bytes written
   * @throws IOException if a write fails (first failure; every task has ended when it is thrown),
   *     or {@link InterruptedIOException} if the caller is interrupted while waiting
   */
  public static long encrypt(
      SegmentCipher cipher,
      SegmentLayout layout,
      byte[] header,
      ByteBuffer src,
      FileChannel dst,
      long position,
      @Nullable Executor executor,
      int parallelism)
      throws IOException {
    int len = src.remaining();
    long n = segments(layout, len);
    long payload = position + header.length - SegmentLayout.PAYLOAD_HEADER_LENGTH;
    writeFully(dst, ByteBuffer.wrap(header), position);
    ByteBuffer in = src.duplicate();
    int start = src.position();
    if (executor == null || parallelism <= 1 || n <= 2) {
      ByteBuffer scratch = ByteBuffer.allocateDirect(layout.segmentSize());
      for (long i = 0; i < n; i++) {
        encryptSegment(cipher, layout, in, start, len, i, n, scratch, dst, payload);
      }
    } else {
      encryptParallel(cipher, layout, in, start, len, n, dst, payload, executor, parallelism);
      encryptSegment(cipher, layout, in, start, len, n - 1, n, direct(layout), dst, payload);
    }
    src.position(src.limit());
    return header.length - SegmentLayout.PAYLOAD_HEADER_LENGTH + layout.payloadLength(len);
  }

  private static ByteBuffer direct(SegmentLayout layout) {
    return ByteBuffer.allocateDirect(layout.segmentSize());
  }

  /** One worker's cipher and segment buffer. */
  private static final class Worker {
    final SegmentCipher cipher;
    final ByteBuffer scratch;
    final ByteBuffer in;

    Worker(SegmentCipher cipher, SegmentLayout layout, ByteBuffer src) {
      this.cipher = cipher;
      this.scratch = direct(layout);
      this.in = src.duplicate();
    }
  }

  private static void encryptParallel(
      SegmentCipher cipher,
      SegmentLayout layout,
      ByteBuffer src,
      int start,
      int len,
      long n,
      FileChannel dst,
      long payload,
      Executor executor,
      int parallelism)
      throws IOException {
    int k = (int) Math.min(parallelism, n - 1);
    List<Worker> workers = new ArrayList<>(k);
    for (int w = 0; w < k; w++) {
      workers.add(new Worker(cipher.sibling(), layout, src));
    }
    try {
      runBounded(
          n - 1,
          executor,
          workers,
          (w, i) ->
              encryptSegment(w.cipher, layout, w.in, start, len, i, n, w.scratch, dst, payload));
    } finally {
      for (Worker w : workers) {
        w.cipher.close();
      }
    }
  }

  /** One segment's work on a worker's own state. */
  @FunctionalInterface
  private interface SegmentJob<W> {
    void run(W worker, long segment) throws IOException;
  }

  /**
   * Runs {@code job} for segments {@code 0 .. count-1} on {@code executor}, each with a worker of
   * its own, so at most {@code workers.size()} at once. The first failure stops new segments;
   * returns (or throws it) only once every submitted task has ended.
   */
  private static <W> void runBounded(
      long count, Executor executor, List<W> workers, SegmentJob<W> job) throws IOException {
    int k = workers.size();
    Semaphore slots = new Semaphore(k);
    ArrayBlockingQueue<W> idle = new ArrayBlockingQueue<>(k, false, workers);
    AtomicReference<@Nullable Throwable> failure = new AtomicReference<>();
    boolean interrupted = false;
    try {
      for (long i = 0; i < count && failure.get() == null; i++) {
        try {
          slots.acquire();
        } catch (InterruptedException e) {
          interrupted = true;
          failure.compareAndSet(null, new InterruptedIOException("interrupted while in flight"));
          break;
        }
        W w = idle.poll();
        if (w == null || failure.get() != null) {
          if (w != null) {
            idle.add(w);
          }
          slots.release();
          break;
        }
        long segment = i;
        try {
          executor.execute(
              () -> {
                try {
                  job.run(w, segment);
                } catch (Throwable t) {
                  failure.compareAndSet(null, t);
                } finally {
                  idle.add(w);
                  slots.release();
                }
              });
        } catch (RuntimeException e) { // RejectedExecutionException and the like
          idle.add(w);
          slots.release();
          failure.compareAndSet(null, e);
        }
      }
    } finally {
      slots.acquireUninterruptibly(k); // every task has ended: none touches the data after this
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    Throwable t = failure.get();
    if (t instanceof InterruptedIOException) {
      throw (InterruptedIOException) t;
    } else if (t instanceof IOException) {
      throw new IOException("a segment task failed", t);
    } else if (t instanceof RejectedExecutionException) {
      throw new IOException("the executor rejected a segment task", t);
    } else if (t instanceof RuntimeException) {
      throw (RuntimeException) t;
    } else if (t instanceof Error) {
      throw (Error) t;
    } else if (t != null) {
      throw new IOException(t);
    }
  }

  private static void encryptSegment(
      SegmentCipher cipher,
      SegmentLayout layout,
      ByteBuffer in,
      int start,
      int len,
      long i,
      long n,
      ByteBuffer scratch,
      FileChannel dst,
      long payload)
      throws IOException {
    int plen = segmentLength(layout, i, n, len);
    int from = start + (int) layout.plaintextOffset(i);
    in.limit(from + plen);
    in.position(from);
    scratch.clear();
    cipher.encrypt(i, i == n - 1, in, scratch);
    scratch.flip();
    writeFully(dst, scratch, payload + layout.ciphertextOffset(i));
  }

  private static long segments(SegmentLayout layout, long len) throws BlobTooLargeException {
    long n = layout.segmentCount(len);
    if (n > layout.maxSegments()) {
      throw layout.tooLarge();
    }
    return n;
  }

  private static int segmentLength(SegmentLayout layout, long i, long n, long len) {
    return i < n - 1 ? layout.plaintextCapacity(i) : (int) (len - layout.plaintextOffset(i));
  }

  /**
   * Writes all of {@code b} at {@code position}, however short each write is.
   *
   * @throws IOException if a write fails or the channel accepts no byte {@value Io#MAX_ZERO_READS}
   *     times in a row
   */
  static void writeFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
    long at = position;
    int zeros = 0;
    while (b.hasRemaining()) {
      int w = ch.write(b, at);
      if (w <= 0) {
        if (++zeros > Io.MAX_ZERO_READS) {
          throw new IOException("channel accepted no bytes " + Io.MAX_ZERO_READS + " times");
        }
      } else {
        zeros = 0;
        at += w;
      }
    }
  }

  /**
   * Reads until {@code b} is full, at {@code position}, by positional reads.
   *
   * @return whether it was filled (false: the channel ended first)
   */
  static boolean readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
    long at = position;
    int zeros = 0;
    while (b.hasRemaining()) {
      int r = ch.read(b, at);
      if (r < 0) {
        return false;
      }
      if (r == 0) {
        if (++zeros > Io.MAX_ZERO_READS) {
          throw new IOException("channel returned no bytes " + Io.MAX_ZERO_READS + " times");
        }
      } else {
        zeros = 0;
        at += r;
      }
    }
    return true;
  }

  /**
   * Decrypts the segments of a payload held in {@code envelope} (from {@code payloadOffset}
   * relative to its position to its limit) straight into {@code dst}. Positions advance only on
   * success; on failure every byte written to {@code dst} is zeroed first.
   *
   * @param plaintextLength the plaintext length by the length rule; {@code dst} has room for it
   * @return plaintext bytes written
   */
  public static int decrypt(
      SegmentDecrypter decrypter,
      SegmentLayout layout,
      ByteBuffer envelope,
      int payloadOffset,
      int plaintextLength,
      ByteBuffer dst) {
    long n = layout.segmentCount(plaintextLength);
    ByteBuffer in = envelope.duplicate();
    ByteBuffer out = dst.duplicate();
    int base = envelope.position() + payloadOffset;
    try {
      for (long i = 0; i < n; i++) {
        int from = base + (int) layout.ciphertextOffset(i);
        int clen = segmentLength(layout, i, n, plaintextLength) + SegmentLayout.TAG_LENGTH;
        in.limit(from + clen);
        in.position(from);
        decrypter.decrypt(i, i == n - 1, in, out);
      }
    } catch (RuntimeException | Error e) {
      zero(dst, dst.position(), out.position());
      throw e;
    }
    envelope.position(envelope.limit());
    dst.position(out.position());
    return plaintextLength;
  }

  /**
   * Decrypts the payload of an envelope file (from {@code payloadOffset} to {@code size}) straight
   * into {@code dst}, one segment buffer for the ciphertext. Positions advance only on success; on
   * any failure every byte written to {@code dst} is zeroed first.
   *
   * @return plaintext bytes written
   */
  public static int decrypt(
      SegmentDecrypter decrypter,
      SegmentLayout layout,
      FileChannel src,
      long payloadOffset,
      int plaintextLength,
      ByteBuffer dst,
      @Nullable Executor executor,
      int parallelism)
      throws IOException {
    long n = layout.segmentCount(plaintextLength);
    if (executor != null && parallelism > 1 && n > 1) {
      return decryptParallel(
          decrypter, layout, src, payloadOffset, plaintextLength, dst, executor, parallelism);
    }
    ByteBuffer out = dst.duplicate();
    ByteBuffer scratch = direct(layout);
    try {
      for (long i = 0; i < n; i++) {
        int clen = segmentLength(layout, i, n, plaintextLength) + SegmentLayout.TAG_LENGTH;
        scratch.clear().limit(clen);
        if (!readFully(src, scratch, payloadOffset + layout.ciphertextOffset(i))) {
          throw new IOException("the envelope file shrank while it was read");
        }
        scratch.flip();
        decrypter.decrypt(i, i == n - 1, scratch, out);
      }
    } catch (IOException | RuntimeException | Error e) {
      zero(dst, dst.position(), out.position());
      throw e;
    } finally {
      scratch.clear();
      zero(scratch, 0, scratch.capacity());
    }
    dst.position(out.position());
    return plaintextLength;
  }

  /** A decrypting worker: its own cipher, ciphertext buffer and view of the destination. */
  private static final class Reader {
    final SegmentDecrypter decrypter;
    final ByteBuffer scratch;
    final ByteBuffer out;

    Reader(SegmentDecrypter decrypter, SegmentLayout layout, ByteBuffer dst) {
      this.decrypter = decrypter;
      this.scratch = direct(layout);
      this.out = dst.duplicate();
    }
  }

  /**
   * All segments, the final one too, are read and decrypted by tasks, each into its own place in
   * {@code dst}; nothing is released before all authenticate: on any failure the whole plaintext
   * range of {@code dst} is zeroed once every task has ended.
   */
  private static int decryptParallel(
      SegmentDecrypter decrypter,
      SegmentLayout layout,
      FileChannel src,
      long payloadOffset,
      int plaintextLength,
      ByteBuffer dst,
      Executor executor,
      int parallelism)
      throws IOException {
    long n = layout.segmentCount(plaintextLength);
    int k = (int) Math.min(parallelism, n);
    int base = dst.position();
    List<Reader> readers = new ArrayList<>(k);
    for (int w = 0; w < k; w++) {
      readers.add(new Reader(decrypter.sibling(), layout, dst));
    }
    try {
      runBounded(
          n,
          executor,
          readers,
          (r, i) -> {
            int plen = segmentLength(layout, i, n, plaintextLength);
            r.scratch.clear().limit(plen + SegmentLayout.TAG_LENGTH);
            if (!readFully(src, r.scratch, payloadOffset + layout.ciphertextOffset(i))) {
              throw new IOException("the envelope file shrank while it was read");
            }
            r.scratch.flip();
            int at = base + (int) layout.plaintextOffset(i);
            r.out.limit(at + plen);
            r.out.position(at);
            r.decrypter.decrypt(i, i == n - 1, r.scratch, r.out);
          });
    } catch (IOException | RuntimeException | Error e) {
      zero(dst, base, base + plaintextLength);
      throw e;
    } finally {
      for (Reader r : readers) {
        r.decrypter.close();
        r.scratch.clear();
        zero(r.scratch, 0, r.scratch.capacity());
      }
    }
    dst.position(base + plaintextLength);
    return plaintextLength;
  }

  private static void zero(ByteBuffer b, int from, int to) {
    for (int i = from; i < to; i++) {
      b.put(i, (byte) 0);
    }
  }

  /**
   * An input stream over a buffer's remaining bytes, for reading a header; the buffer is not moved.
   */
  public static InputStream inputStream(ByteBuffer b) {
    ByteBuffer d = b.duplicate();
    return new InputStream() {
      @Override
      public int read() {
        return d.hasRemaining() ? d.get() & 0xff : -1;
      }

      @Override
      public int read(byte[] a, int off, int len) {
        if (len == 0) {
          return 0;
        }
        if (!d.hasRemaining()) {
          return -1;
        }
        int k = Math.min(len, d.remaining());
        d.get(a, off, k);
        return k;
      }
    };
  }

  /** An input stream over a file by positional reads from offset 0; the channel is not moved. */
  public static InputStream inputStream(FileChannel ch) {
    return new InputStream() {
      private long at;

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] a, int off, int len) throws IOException {
        if (len == 0) {
          return 0;
        }
        int r = ch.read(ByteBuffer.wrap(a, off, len), at);
        if (r > 0) {
          at += r;
        }
        return r;
      }
    };
  }
}
