package dev.byok;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Revocation epochs: every {@code invalidate}, {@code lock} and {@code close} advances an epoch,
 * and a key load that started under an older epoch is stale — its result is zeroed and discarded,
 * never cached or handed out.
 *
 * <p>A key's epoch is one of a fixed number of striped counters (chosen by the key's hash) plus a
 * global counter: memory stays constant however many KEKs come and go, and a collision only makes
 * an unrelated load retry. Both only grow, so a key's stamp changes exactly when either did.
 *
 * <p>Thread-safe and lock-free.
 */
final class Epochs {
  private static final int STRIPES = 1024; // a power of two

  private final AtomicLongArray stripes = new AtomicLongArray(STRIPES);
  private final AtomicLong global = new AtomicLong();

  private static int stripe(String keyId) {
    int h = keyId.hashCode();
    return (h ^ (h >>> 16)) & (STRIPES - 1);
  }

  /** The current stamp of {@code keyId}; compare two stamps for equality only. */
  long stamp(String keyId) {
    return global.get() + stripes.get(stripe(keyId));
  }

  /** Makes every load of {@code keyId} that started before now stale. */
  void advance(String keyId) {
    stripes.incrementAndGet(stripe(keyId));
    changes.incrementAndGet();
  }

  /** Makes every load that started before now stale (close). */
  void advanceAll() {
    global.incrementAndGet();
    changes.incrementAndGet();
  }

  private final AtomicLong changes = new AtomicLong();

  /**
   * A counter advanced by every invalidation of any key: the encrypt side, which learns the KEK's
   * resolved ARN only from the KMS answer, discards a data key generated while it moved.
   */
  long anyChange() {
    return changes.get();
  }
}
