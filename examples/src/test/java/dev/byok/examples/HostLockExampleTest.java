package dev.byok.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.Byok;
import dev.byok.EncryptionContext;
import dev.byok.KeyRef;
import dev.byok.KeyUnusableException;
import dev.byok.examples.HostLockExample.Repository;
import dev.byok.examples.HostLockExample.RepositoryLocks;
import dev.byok.monitor.KeyEvent;
import dev.byok.monitor.KeyStateMonitor;
import dev.byok.testkit.FakeKms;
import dev.byok.testkit.ManualClock;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * The listener wiring of docs/key-lifecycle.md, driven by a manual clock with the default timings.
 */
class HostLockExampleTest {
  @Test
  void theRepositoryLocksOnRevocationUnlocksOnRestoreAndPagesOnDeletion() {
    ManualClock clock = new ManualClock();
    FakeKms kms = FakeKms.builder().clock(clock).build();
    String arn = kms.api().createKey().arn();
    KeyRef key = KeyRef.of(kms.providerId(), arn);
    Repository repository = new Repository("snapshots");
    RepositoryLocks locks = new RepositoryLocks();
    locks.register(key, repository);
    try (Byok byok = Byok.builder().provider(kms).encryptUnder(key).clock(clock).build();
        KeyStateMonitor monitor =
            KeyStateMonitor.builder()
                .provider(kms)
                .dataKeyManager(byok.keys())
                .clock(clock)
                .seed(1)
                // events on the round's thread, so the manual clock alone decides the timeline
                .eventExecutor(Runnable::run)
                .build()) {
      monitor.watch(key).addListener(locks);
      monitor.runDueProbes();
      assertThat(repository.withAccess(() -> "read")).isEqualTo("read");

      kms.api().disableKey(arn);
      for (int s = 0; s < 361 && !repository.isLocked(); s++) {
        clock.advance(Duration.ofSeconds(1));
        monitor.runDueProbes();
      }
      assertThat(repository.isLocked()).as("locked within the documented 6 min 01 s").isTrue();
      assertThat(repository.snapshotsPaused()).isTrue();
      assertThatThrownBy(() -> repository.withAccess(() -> "read"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("customer's key is unusable");

      kms.api().enableKey(arn);
      clock.advance(Duration.ofMinutes(6));
      monitor.runDueProbes();
      assertThat(repository.isLocked()).isFalse();
      assertThat(repository.withAccess(() -> "read")).isEqualTo("read");

      kms.api().scheduleKeyDeletion(arn, 7);
      clock.advance(Duration.ofMinutes(6));
      monitor.runDueProbes();
      assertThat(locks.pages).singleElement().asString().contains("will be deleted on");
    }
  }

  private static final long WAIT_SECONDS = 20;
  private static final EncryptionContext CTX = EncryptionContext.of("repository", "snapshots");

  /**
   * Issue 11, hole 2: the documented pattern. A repository read holds the read lock while byok's
   * KMS calls are denied (twice: with the old monitor the second locked the key on this very
   * thread, whose listener then waited for the write lock forever). Now the LOCKED listener runs on
   * the monitor's event thread while the read still holds its read lock, and takes the write lock
   * once the read is done. Real threads, bounded waits.
   */
  @Test
  void aReadHoldingTheRepositoryLockWhoseKmsCallsAreDeniedDoesNotDeadlockTheLock()
      throws Exception {
    FakeKms kms = FakeKms.create();
    String arn = kms.api().createKey().arn();
    KeyRef key = KeyRef.of(kms.providerId(), arn);
    Repository repository = new Repository("snapshots");
    RepositoryLocks locks = new RepositoryLocks();
    locks.register(key, repository);
    CountDownLatch listenerHasLocked = new CountDownLatch(1);
    CountDownLatch repositoryLocked = new CountDownLatch(1);
    ExecutorService dataPath =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "data-path");
              t.setDaemon(true); // a deadlocked thread must not keep the test JVM alive
              return t;
            });
    try (Byok byok = Byok.builder().provider(kms).encryptUnder(key).build();
        KeyStateMonitor monitor =
            KeyStateMonitor.builder()
                .provider(kms)
                .dataKeyManager(byok.keys())
                .gracePeriod(Duration.ZERO)
                .build()) {
      monitor
          .watch(key)
          .addListener(
              key,
              e -> {
                if (e.type() == KeyEvent.Type.LOCKED) {
                  listenerHasLocked.countDown(); // on the event thread, before the write lock
                }
              })
          .addListener(key, locks)
          .addListener(
              key,
              e -> {
                if (e.type() == KeyEvent.Type.LOCKED) {
                  repositoryLocked.countDown(); // after locks.onEvent returned
                }
              });
      monitor.probeNow(key);
      byte[] blob = encrypt(byok, "snapshot");
      kms.api().disableKey(arn);

      CountDownLatch denied = new CountDownLatch(1);
      Future<Boolean> read =
          dataPath.submit(
              () ->
                  repository.withAccess(
                      () -> {
                        for (int i = 0; i < 2; i++) {
                          assertThatThrownBy(() -> decrypt(byok, blob))
                              .isInstanceOf(KeyUnusableException.class);
                        }
                        denied.countDown();
                        try { // still holding the read lock
                          return listenerHasLocked.await(WAIT_SECONDS, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                          Thread.currentThread().interrupt();
                          return false;
                        }
                      }));
      assertThat(denied.await(WAIT_SECONDS, TimeUnit.SECONDS))
          .as("the read's denied KMS calls return (no listener runs on the read's thread)")
          .isTrue();
      monitor.runDueProbes(); // the round takes up the denials: a probe confirms, LOCKED
      try {
        assertThat(read.get(WAIT_SECONDS, TimeUnit.SECONDS))
            .as("LOCKED reached the listener while the read held the read lock")
            .isTrue();
      } catch (TimeoutException e) {
        throw new AssertionError("deadlock: the read never finished", e);
      }
      assertThat(repositoryLocked.await(WAIT_SECONDS, TimeUnit.SECONDS))
          .as("the listener took the write lock once the read was done")
          .isTrue();
      assertThat(repository.isLocked()).isTrue();
      assertThatThrownBy(() -> repository.withAccess(() -> "read"))
          .hasMessageContaining("customer's key is unusable");
    } finally {
      dataPath.shutdownNow();
    }
  }

  private static byte[] encrypt(Byok byok, String text) throws IOException {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (OutputStream out = byok.newEncryptingStream(sink, CTX)) {
      out.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    return sink.toByteArray();
  }

  private static byte[] decrypt(Byok byok, byte[] blob) throws IOException {
    return byok.newDecryptingStream(new ByteArrayInputStream(blob), CTX).readAllBytes();
  }
}
