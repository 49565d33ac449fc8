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
}
