package dev.byok.internal;

import java.util.Arrays;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One segment's plaintext and ciphertext buffers and its own cipher (a sibling: ciphers are not
 * thread-safe), sealed by a pool thread while in flight, for the parallel encrypting streams
 * ({@link ParallelEncryptingOutputStream}, {@link ParallelEncryptingInputStream}). The caller fills
 * it, sets {@link #QUEUED} and hands it to the executor; {@link #done} is released when the task
 * has ended (or found itself abandoned before it started). A slot abandoned while its task seals is
 * wiped by that task; otherwise by {@link #abandonOrWipe()}.
 */
final class EncryptSlot implements Runnable {
  static final int IDLE = 0;
  static final int QUEUED = 1;
  static final int SEALING = 2;
  static final int DONE = 3;
  static final int ABANDONED = 4;

  final SegmentCipher cipher;
  final Semaphore done = new Semaphore(0);
  final AtomicInteger state = new AtomicInteger(IDLE);
  byte[] plain = new byte[0];
  byte[] ct = new byte[0];
  // written by the caller before execute, read by the task; results read after done.acquire
  long segment;
  int length;
  boolean last;
  int ctLength;
  @Nullable Throwable error;

  EncryptSlot(SegmentCipher cipher) {
    this.cipher = cipher;
  }

  void ensurePlain(int min, SegmentLayout layout) {
    if (plain.length < min) {
      int size =
          Math.min(
              Math.max(min, Math.max(EncryptingOutputStream.INITIAL_BUFFER, plain.length * 2)),
              layout.maxPlaintextSegment());
      byte[] bigger = Arrays.copyOf(plain, size);
      Arrays.fill(plain, (byte) 0);
      plain = bigger;
    }
  }

  /** Sets up the next segment (caller's thread). */
  void prepare(long segment, int length, boolean last, SegmentLayout layout) {
    this.segment = segment;
    this.length = length;
    this.last = last;
    this.error = null;
    if (ct.length < length + SegmentLayout.TAG_LENGTH) {
      // a blob whose first segment is its last needs only that segment's length
      ct = new byte[last ? length + SegmentLayout.TAG_LENGTH : layout.segmentSize()];
    }
    state.set(QUEUED);
  }

  @Override
  public void run() {
    if (!state.compareAndSet(QUEUED, SEALING)) {
      done.release(); // abandoned before it started: the stream has wiped the slot
      return;
    }
    try {
      ctLength = cipher.encrypt(segment, last, plain, 0, length, ct, 0);
    } catch (RuntimeException | Error e) {
      error = e;
    } finally {
      if (!state.compareAndSet(SEALING, DONE)) {
        wipe(); // abandoned while sealing: the stream is gone, nothing reads this slot again
      }
      done.release();
    }
  }

  /** The stream is closing: wipes the slot now, or leaves it to the task sealing it. */
  void abandonOrWipe() {
    while (true) {
      int st = state.get();
      if (state.compareAndSet(st, ABANDONED)) {
        if (st != SEALING) {
          wipe(); // queued (its task will not start), idle or done: nothing else touches it
        } // else the task sealing it wipes it when it ends
        break;
      }
    }
    cipher.close(); // safe even while a task seals: SegmentCipher allows close to race a segment
  }

  void wipe() {
    Arrays.fill(plain, (byte) 0);
  }
}
