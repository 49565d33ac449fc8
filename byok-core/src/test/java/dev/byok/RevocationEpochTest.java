package dev.byok;

import static dev.byok.KeyLayerFixture.byok;
import static dev.byok.KeyLayerFixture.decrypt;
import static dev.byok.KeyLayerFixture.encrypt;
import static dev.byok.KeyLayerFixture.header;
import static dev.byok.KeyLayerFixture.plaintext;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hole 1: a KMS answer that arrives after an invalidate, lock or close began is zeroed and
 * discarded — never cached, never handed out. Each test parks the call on a latch after the KMS
 * answered (so the answer is a real one), revokes, then lets it go.
 */
@Timeout(30)
class RevocationEpochTest {
  private final TestKms kms = new TestKms();
  private final String arn = kms.createKey();
  private final byte[] plain = plaintext(1000, 1);
  private final byte[] blob = encrypt(byok(kms, arn).build(), plain);
  private final Byok reader = byok(kms, arn).build();
  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final CountDownLatch answered = new CountDownLatch(1);
  private final CountDownLatch release = new CountDownLatch(1);

  @AfterEach
  void stop() {
    release.countDown();
    pool.shutdownNow();
  }

  /** Parks the first {@code operation} after the KMS answered, until {@link #release}. */
  private void parkFirst(String operation) {
    AtomicBoolean first = new AtomicBoolean(true);
    kms.hook(
        (op, key) -> {
          if (op.equals(operation) && first.getAndSet(false)) {
            answered.countDown();
            release.await();
          }
        });
  }

  private static Throwable cause(Future<?> f) throws InterruptedException {
    try {
      f.get(20, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure");
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("the read did not finish", e);
    }
  }

  @Test
  void anUnwrapInFlightDuringInvalidateIsDiscardedNotCached() throws Exception {
    parkFirst("decrypt");
    Future<byte[]> read = pool.submit(() -> decrypt(reader, blob));
    assertThat(answered.await(20, TimeUnit.SECONDS)).isTrue();

    kms.disable(arn);
    assertThat(reader.keys().invalidate(arn)).isZero(); // nothing cached yet: it is in flight
    release.countDown();

    // the answer from before the invalidation is not used: the read asks again and is refused
    assertThat(cause(read))
        .isInstanceOfSatisfying(
            KeyUnusableException.class,
            e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.DISABLED));
    assertThat(kms.calls("decrypt")).isEqualTo(2);
    assertThat(reader.keys().cachedKeys()).isZero();
    assertThat(reader.keys().cachedKey(header(blob))).isNull();
    assertThatThrownBy(() -> decrypt(reader, blob)).isInstanceOf(KeyUnusableException.class);
    assertThat(kms.calls("decrypt")).isEqualTo(3);
  }

  @Test
  void anUnwrapInFlightAcrossLockAndUnlockIsDiscardedAndAskedAgain() throws Exception {
    parkFirst("decrypt");
    Future<byte[]> read = pool.submit(() -> decrypt(reader, blob));
    assertThat(answered.await(20, TimeUnit.SECONDS)).isTrue();

    reader.keys().lock(arn);
    reader.keys().unlock(arn);
    release.countDown();

    assertThat(read.get(20, TimeUnit.SECONDS)).isEqualTo(plain);
    // the pre-lock answer was discarded: the read made a fresh call after the unlock
    assertThat(kms.calls("decrypt")).isEqualTo(2);
    assertThat(reader.keys().cachedKeys()).isEqualTo(1);
  }

  @Test
  void anUnwrapInFlightDuringLockIsRefusedWithoutAnotherKmsCall() throws Exception {
    parkFirst("decrypt");
    Future<byte[]> read = pool.submit(() -> decrypt(reader, blob));
    assertThat(answered.await(20, TimeUnit.SECONDS)).isTrue();

    reader.keys().lock(arn);
    release.countDown();

    assertThat(cause(read))
        .isInstanceOfSatisfying(
            KeyUnusableException.class,
            e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.LOCKED));
    assertThat(kms.calls("decrypt")).isEqualTo(1);
    assertThat(reader.keys().cachedKeys()).isZero();
  }

  @Test
  void anUnwrapInFlightDuringCloseIsDiscardedAndTheReadFails() throws Exception {
    parkFirst("decrypt");
    Future<byte[]> read = pool.submit(() -> decrypt(reader, blob));
    assertThat(answered.await(20, TimeUnit.SECONDS)).isTrue();

    reader.close();
    release.countDown();

    assertThat(cause(read))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining("closed");
    assertThat(reader.keys().cachedKeys()).isZero();
    assertThat(reader.keys().cachedKey(header(blob))).isNull();
    assertThat(kms.calls("decrypt")).isEqualTo(1);
  }

  @Test
  void waitersOnADiscardedUnwrapDoNotGetItEither() throws Exception {
    parkFirst("decrypt");
    Future<byte[]> first = pool.submit(() -> decrypt(reader, blob));
    assertThat(answered.await(20, TimeUnit.SECONDS)).isTrue();
    // a second read of the same data key waits for the first one's call (single flight)
    CountDownLatch secondStarted = new CountDownLatch(1);
    Future<byte[]> second =
        pool.submit(
            () -> {
              secondStarted.countDown();
              return decrypt(reader, blob);
            });
    assertThat(secondStarted.await(20, TimeUnit.SECONDS)).isTrue();

    kms.disable(arn);
    reader.keys().invalidate(arn);
    release.countDown();

    assertThat(cause(first)).isInstanceOf(KeyUnusableException.class);
    assertThat(cause(second)).isInstanceOf(KeyUnusableException.class);
    assertThat(reader.keys().cachedKeys()).isZero();
  }

  @Test
  void aDataKeyGeneratedDuringInvalidateIsNeverUsedToEncrypt() throws Exception {
    Byok writer = byok(kms, arn).build();
    parkFirst("generateDataKey");
    Future<byte[]> write = pool.submit(() -> encrypt(writer, plain));
    assertThat(answered.await(20, TimeUnit.SECONDS)).isTrue();

    kms.disable(arn);
    writer.keys().invalidate(arn);
    release.countDown();

    assertThat(cause(write))
        .isInstanceOfSatisfying(
            KeyUnusableException.class,
            e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.DISABLED));
    assertThat(kms.calls("generateDataKey")).isEqualTo(3); // the setup's, the discarded, the retry
  }

  @Test
  void closeRefusesLaterUseWithATypedError() {
    reader.close();
    reader.close(); // idempotent
    assertThatThrownBy(() -> decrypt(reader, blob))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining("closed");
    assertThatThrownBy(() -> encrypt(reader, plain))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining("closed");
  }
}
