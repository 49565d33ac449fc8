package dev.byok.internal;

import java.util.Arrays;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One segment's ciphertext and plaintext buffers and its own decrypter (a sibling: ciphers are not
 * thread-safe), decrypted by a pool thread while in flight, for the readers that decrypt segments
 * ahead of the caller ({@link ParallelDecryptingInputStream}, {@link DecryptingChannel}). The
 * caller fills it, sets {@link #QUEUED} and hands it to the executor; {@link #done} is released
 * when the task has ended (or found itself abandoned before it started). A slot abandoned while its
 * task decrypts is wiped by that task; otherwise by {@link #abandonOrWipe()}.
 */
final class DecryptSlot implements Runnable {
  static final int IDLE = 0;
  static final int QUEUED = 1;
  static final int OPENING = 2;
  static final int DONE = 3;
  static final int ABANDONED = 4;

  final SegmentDecrypter decrypter;
  final Semaphore done = new Semaphore(0);
  final AtomicInteger state = new AtomicInteger(IDLE);
  byte[] ct = new byte[0];
  byte[] plain = new byte[0];
  // written by the caller before execute, read by the task; results read after done.acquire
  long segment;
  int length;
  boolean last;
  int plainLength;
  @Nullable Throwable error;

  DecryptSlot(SegmentDecrypter decrypter) {
    this.decrypter = decrypter;
  }

  @Override
  public void run() {
    if (!state.compareAndSet(QUEUED, OPENING)) {
      done.release(); // abandoned before it started: the stream has wiped the slot
      return;
    }
    try {
      plainLength = decrypter.decrypt(segment, last, ct, 0, length, plain, 0);
    } catch (RuntimeException | Error e) {
      error = e;
    } finally {
      if (!state.compareAndSet(OPENING, DONE)) {
        wipe(); // abandoned while decrypting: nothing reads this slot again
      }
      done.release();
    }
  }

  /** The stream is closing: wipes the slot now, or leaves it to the task decrypting it. */
  void abandonOrWipe() {
    while (true) {
      int st = state.get();
      if (state.compareAndSet(st, ABANDONED)) {
        if (st != OPENING) {
          wipe(); // queued (its task will not start), idle or done: nothing else touches it
        } // else the task decrypting it wipes it when it ends
        break;
      }
    }
    decrypter.close(); // safe even while a task runs: SegmentCipher allows close to race
  }

  void wipe() {
    Arrays.fill(plain, (byte) 0);
  }
}
