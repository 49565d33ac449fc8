package dev.byok.testkit.monitor;

import static dev.byok.testkit.monitor.MonitorHarness.plaintext;
import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.EncryptionContext;
import dev.byok.KeyRef;
import dev.byok.KeyUnusableException;
import dev.byok.monitor.KeyMonitorState;
import dev.byok.testkit.FakeKmsExtension;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The monitor and the data path on real threads at the moment of revocation. */
class KeyStateMonitorConcurrencyTest {
  private static final long WAIT_SECONDS = 20;

  @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();

  /**
   * The bin of an encrypt-side entry in the manager's map of active data keys while it holds at
   * most 12 entries: {@code DataKeyManager.ActiveKey#hashCode} spread as {@code ConcurrentHashMap}
   * does, in its initial 16-bin table.
   */
  private static int activeKeyBin(KeyRef kek, EncryptionContext context) {
    int h = List.of(kek).hashCode() * 31 + context.hashCode();
    return (h ^ (h >>> 16)) & 15;
  }

  private static String stack(Thread t) {
    StringBuilder b = new StringBuilder().append(t.getState());
    for (StackTraceElement e : t.getStackTrace()) {
      b.append("\n   at ").append(e);
    }
    return b.toString();
  }

  /**
   * A probe that finds the key disabled purges the manager while an encrypt on another thread is
   * waiting for GenerateDataKey under a context whose active-key map bin the purge scans. The purge
   * must not wait for the KMS call (no lock is held during KMS I/O); the encrypt's call then fails
   * and its observer notification reaches the monitor.
   */
  @Test
  void aDataPathCallFailingWhileAProbePurgesTheSameMapBinDoesNotDeadlock() throws Exception {
    MonitorHarness h = MonitorHarness.started(fake);
    EncryptionContext ctx = MonitorHarness.CTX;
    EncryptionContext neighbour = null;
    for (int i = 0; neighbour == null; i++) {
      EncryptionContext c = EncryptionContext.of("repository", "n" + i);
      if (activeKeyBin(h.alias, c) == activeKeyBin(h.alias, ctx)) {
        neighbour = c;
      }
    }
    h.encrypt(plaintext(1), neighbour); // an active data key under the KEK in the bin ctx will use
    h.api.disableKey(h.keyArn);

    AtomicReference<Thread> encryptThread = new AtomicReference<>();
    CountDownLatch encryptInKms = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    h.api.injectLatency(
        Duration.ofMillis(1),
        d -> {
          if (Thread.currentThread() == encryptThread.get()) {
            encryptInKms.countDown();
            release.await(WAIT_SECONDS, TimeUnit.SECONDS);
          }
        });
    ExecutorService pool =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "concurrency-test");
              t.setDaemon(true); // a deadlocked thread must not keep the test JVM alive
              return t;
            });
    try {
      Future<Throwable> encrypt =
          pool.submit(
              () -> {
                encryptThread.set(Thread.currentThread());
                try {
                  h.encrypt(plaintext(2), ctx);
                  return null;
                } catch (RuntimeException e) {
                  return e;
                }
              });
      assertThat(encryptInKms.await(WAIT_SECONDS, TimeUnit.SECONDS))
          .as("encrypt inside GenerateDataKey")
          .isTrue();

      AtomicReference<Thread> probeThread = new AtomicReference<>();
      Future<?> probe =
          pool.submit(
              () -> {
                probeThread.set(Thread.currentThread());
                h.monitor.probeNow(h.alias);
              });
      // the probe finds the key disabled and purges; no byok lock is held during the encrypt's
      // KMS call, so the probe completes while GenerateDataKey is still under way
      try {
        probe.get(WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        throw new AssertionError(
            "the probe blocked behind a KMS call:\n probe " + stack(probeThread.get()), e);
      }
      assertThat(encryptInKms.getCount()).isZero();
      assertThat(encrypt).as("the encrypt is still inside GenerateDataKey").isNotDone();
      release.countDown();

      Throwable failure;
      try {
        failure = encrypt.get(WAIT_SECONDS, TimeUnit.SECONDS);
        probe.get(WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        throw new AssertionError(
            "deadlock:\n encrypt "
                + stack(encryptThread.get())
                + "\n probe "
                + stack(probeThread.get()),
            e);
      }
      assertThat(failure)
          .isInstanceOfSatisfying(
              KeyUnusableException.class,
              e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.DISABLED));
      assertThat(h.monitor.state(h.alias)).isEqualTo(KeyMonitorState.SUSPECT);
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
  }
}
