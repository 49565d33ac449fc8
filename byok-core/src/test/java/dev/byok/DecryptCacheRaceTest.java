package dev.byok;

import static dev.byok.KeyLayerFixture.encrypt;
import static dev.byok.KeyLayerFixture.header;
import static dev.byok.KeyLayerFixture.plaintext;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Interleavings of {@link DecryptCache} loads with revocations, driven step by step. */
class DecryptCacheRaceTest {
  private final TestKms kms = new TestKms();
  private final String arn = kms.createKey();
  private final EnvelopeHeader header;

  DecryptCacheRaceTest() {
    try (Byok byok = KeyLayerFixture.byok(kms, arn).build()) {
      header = header(encrypt(byok, plaintext(10, 1)));
    }
  }

  private DecryptCache.SlotKey slotKey() {
    return new DecryptCache.SlotKey(header, header.keySlots().get(0));
  }

  /**
   * The lock check passes, then lock() lands (locks, moves the epoch) before the load starts:
   * exactly the window between the reader's precheck and its load.
   */
  private static Runnable lockLandsRightAfterTheCheck(Epochs epochs, String arn) {
    AtomicBoolean locked = new AtomicBoolean();
    return () -> {
      if (locked.get()) {
        throw KeyAccess.lockedError(arn);
      }
      locked.set(true); // the check above passed; now lock(arn) runs to completion
      epochs.advance(arn);
    };
  }

  private Supplier<DataKey> countingUnwrap(AtomicInteger unwraps) {
    return () -> {
      unwraps.incrementAndGet();
      byte[] material = new byte[32];
      return DataKey.of(header.dekId(), material);
    };
  }

  private void lockAfterPrecheckMakesNoKmsCallAndReturnsNoKey(long cacheSize) {
    Epochs epochs = new Epochs();
    DecryptCache cache =
        new DecryptCache(epochs, cacheSize, 10, Duration.ofMinutes(1), Ticker.disabledTicker());
    AtomicInteger unwraps = new AtomicInteger();

    assertThatThrownBy(
            () ->
                cache.leaseOrLoad(
                    slotKey(), lockLandsRightAfterTheCheck(epochs, arn), countingUnwrap(unwraps)))
        .isInstanceOf(KeyUnusableException.class);

    assertThat(unwraps).hasValue(0); // no KMS Decrypt for a key locked before the load began
    assertThat(cache.cachedKey(slotKey())).isNull(); // nothing left cached for after an unlock
  }

  @Test
  void lockBetweenPrecheckAndLoadIsNotOvertakenByTheLoadsEpochStamp() {
    lockAfterPrecheckMakesNoKmsCallAndReturnsNoKey(100);
  }

  @Test
  void lockBetweenPrecheckAndUnwrapIsNotOvertakenWithoutACache() {
    lockAfterPrecheckMakesNoKmsCallAndReturnsNoKey(0);
  }

  /**
   * M4: the loader publishes its entry, and before it takes its own lease another load of the same
   * KEK (per-KEK bound 1) evicts and zeroes it. The loader must still return the key it unwrapped,
   * not unwrap again. The other load runs while the loader's publish evicts the KEK's older entry
   * (Caffeine reads its ticker then), i.e. after the loader's own entry is cached and indexed.
   */
  @Test
  void aLoadersKeyEvictedRightAfterPublishingCostsNoSecondUnwrap() {
    EnvelopeHeader[] headers = new EnvelopeHeader[3];
    try (Byok writer = KeyLayerFixture.byok(kms, arn).build()) {
      for (int i = 0; i < 3; i++) {
        headers[i] =
            header(encrypt(writer, plaintext(10, i), EncryptionContext.of("blob", "" + i)));
      }
    }
    DecryptCache.SlotKey[] keys = new DecryptCache.SlotKey[3];
    for (int i = 0; i < 3; i++) {
      keys[i] = new DecryptCache.SlotKey(headers[i], headers[i].keySlots().get(0));
    }
    Epochs epochs = new Epochs();
    AtomicInteger[] unwraps = {new AtomicInteger(), new AtomicInteger(), new AtomicInteger()};
    AtomicBoolean armed = new AtomicBoolean();
    AtomicReference<DecryptCache> ref = new AtomicReference<>();
    Ticker ticker =
        () -> {
          if (armed.get() && evictingInPublish()) {
            armed.set(false);
            DataKey other =
                ref.get().leaseOrLoad(keys[2], () -> {}, unwrapOf(headers[2], unwraps[2]));
            other.destroy();
          }
          return 0L;
        };
    DecryptCache cache = new DecryptCache(epochs, 100, 1, Duration.ofMinutes(1), ticker);
    ref.set(cache);
    cache.leaseOrLoad(keys[0], () -> {}, unwrapOf(headers[0], unwraps[0])).destroy();
    armed.set(true);

    DataKey mine = cache.leaseOrLoad(keys[1], () -> {}, unwrapOf(headers[1], unwraps[1]));

    assertThat(armed).isFalse(); // the other load did run inside the window
    assertThat(mine.isDestroyed()).isFalse();
    assertThat(unwraps[1]).hasValue(1); // the loader kept the key it unwrapped
    assertThat(unwraps[2]).hasValue(1);
    mine.destroy();
  }

  private static Supplier<DataKey> unwrapOf(EnvelopeHeader h, AtomicInteger count) {
    return () -> {
      count.incrementAndGet();
      return DataKey.of(h.dekId(), new byte[32]);
    };
  }

  /** Whether the current thread is in DecryptCache.publish, removing an entry from Caffeine. */
  private static boolean evictingInPublish() {
    return StackWalker.getInstance()
        .walk(
            frames ->
                frames
                    .map(f -> f.getClassName() + "#" + f.getMethodName())
                    .reduce(
                        "",
                        (acc, f) ->
                            acc.isEmpty()
                                    && f.startsWith("com.github.benmanes")
                                    && f.endsWith("#remove")
                                ? "remove"
                                : acc.equals("remove") && f.equals("dev.byok.DecryptCache#publish")
                                    ? "publish"
                                    : acc))
        .equals("publish");
  }
}
