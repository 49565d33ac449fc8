package dev.byok.testkit.monitor;

import static dev.byok.monitor.KeyEvent.Type.LOCKED;
import static dev.byok.monitor.KeyEvent.Type.STATE_CHANGED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.KeyRef;
import dev.byok.KeyUnusableException;
import dev.byok.monitor.KeyEvent;
import dev.byok.monitor.KeyMonitorState;
import dev.byok.monitor.KeyStateMonitor;
import dev.byok.testkit.FakeKmsExtension;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The guard, listener isolation, and start/close on the host's scheduler or an owned one. */
class KeyStateMonitorLifecycleTest {
  private static final long WAIT_SECONDS = 20;

  @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();

  @Test
  void theGuardThrowsOnlyForALockedKey() {
    MonitorHarness h = MonitorHarness.started(fake);
    KeyRef unknown = KeyRef.of(MonitorHarness.PROVIDER, "alias/other");
    assertThatThrownBy(() -> h.monitor.checkUsable(unknown))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("alias/other");
    assertThatCode(() -> h.monitor.checkUsable(h.alias)).doesNotThrowAnyException();

    h.api.disableKey(h.keyArn);
    h.monitor.probeNow(h.alias); // regardless of the schedule
    assertThat(h.monitor.state(h.alias)).isEqualTo(KeyMonitorState.SUSPECT);
    assertThatCode(() -> h.monitor.checkUsable(h.alias))
        .as("SUSPECT is not locked yet")
        .doesNotThrowAnyException();

    h.driveUntil(KeyMonitorState.LOCKED, Duration.ofSeconds(31));
    assertThatThrownBy(() -> h.monitor.checkUsable(h.alias))
        .isInstanceOfSatisfying(
            KeyUnusableException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.LOCKED);
              assertThat(e.keyId()).isEqualTo(h.alias.toString());
              assertThat(e.getMessage()).contains("DISABLED");
            });

    h.api.enableKey(h.keyArn);
    h.monitor.probeNow(h.alias);
    assertThatCode(() -> h.monitor.checkUsable(h.alias)).doesNotThrowAnyException();
  }

  @Test
  void aClosedMonitorNoLongerLearnsFromTheDataPath() {
    MonitorHarness h = MonitorHarness.started(fake);
    h.drain();
    h.monitor.close();
    h.api.disableKey(h.keyArn);
    assertThatThrownBy(
            () ->
                h.encrypt(new byte[] {1, 2, 3}, dev.byok.EncryptionContext.of("fresh", "context")))
        .as("the data path still sees the denial")
        .isInstanceOf(KeyUnusableException.class);
    assertThat(h.monitor.state(h.alias))
        .as("but the closed monitor does not react")
        .isEqualTo(KeyMonitorState.ACTIVE);
    assertThat(h.drain()).isEmpty();
  }

  @Test
  void aThrowingListenerBreaksNeitherTheMonitorNorTheOtherListeners() {
    KeyStateMonitor monitor =
        KeyStateMonitor.builder()
            .provider(fake.kms())
            .clock(fake.clock())
            .seed(1)
            .eventExecutor(Runnable::run)
            .build();
    AtomicInteger thrown = new AtomicInteger();
    List<KeyEvent> seen = new CopyOnWriteArrayList<>();
    monitor.addListener(
        e -> {
          thrown.incrementAndGet();
          throw new IllegalStateException("host bug");
        });
    monitor.addListener(seen::add);
    String arn = fake.api().createKey().arn();
    KeyRef key = KeyRef.of(MonitorHarness.PROVIDER, arn);
    monitor.watch(key);
    monitor.runDueProbes();

    fake.api().disableKey(arn);
    for (int s = 0; s < 400 && monitor.state(key) != KeyMonitorState.LOCKED; s++) {
      fake.clock().advance(Duration.ofSeconds(1));
      assertThatCode(monitor::runDueProbes).doesNotThrowAnyException();
    }

    assertThat(monitor.state(key)).isEqualTo(KeyMonitorState.LOCKED);
    assertThat(seen)
        .extracting(KeyEvent::type)
        .containsExactly(STATE_CHANGED, STATE_CHANGED, LOCKED);
    assertThat(thrown).hasValue(3);
  }

  @Test
  void startRunsRoundsOnTheHostSchedulerAndCloseLeavesItRunning() throws Exception {
    ScheduledThreadPoolExecutor host =
        new ScheduledThreadPoolExecutor(1, r -> new Thread(r, "host-scheduler"));
    host.setRemoveOnCancelPolicy(true);
    try {
      MonitorHarness h =
          MonitorHarness.started(fake, b -> {}, m -> m.scheduler(host).tick(Duration.ofMillis(5)));
      CountDownLatch suspect = new CountDownLatch(1);
      CountDownLatch locked = new CountDownLatch(1);
      Set<String> threads = ConcurrentHashMap.newKeySet();
      h.monitor.addListener(
          e -> {
            threads.add(Thread.currentThread().getName());
            if (e.type() == STATE_CHANGED && e.to() == KeyMonitorState.SUSPECT) {
              suspect.countDown();
            } else if (e.type() == LOCKED) {
              locked.countDown();
            }
          });
      h.api.disableKey(h.keyArn);
      h.clock.advance(Duration.ofMinutes(6)); // the next probe is due

      assertThat(h.monitor.start()).isSameAs(h.monitor);
      assertThat(h.monitor.start()).as("idempotent").isSameAs(h.monitor);
      assertThat(suspect.await(WAIT_SECONDS, TimeUnit.SECONDS))
          .as("SUSPECT from a scheduled round")
          .isTrue();
      h.clock.advance(Duration.ofSeconds(30)); // suspect probe and grace both due
      assertThat(locked.await(WAIT_SECONDS, TimeUnit.SECONDS))
          .as("LOCKED from a later round")
          .isTrue();
      assertThat(threads).containsExactly("host-scheduler");

      h.monitor.close();
      h.monitor.close(); // idempotent
      assertThat(host.isShutdown())
          .as("the host's scheduler is not the monitor's to shut down")
          .isFalse();
      // the host's one thread still runs work; once it has run this, no monitor round is in flight
      assertThat(host.submit(() -> 42).get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(42);
      assertThat(host.getQueue()).as("the monitor's task is cancelled").isEmpty();
      int probes = h.api.calls("DescribeKey");
      h.clock.advance(Duration.ofMinutes(6)); // a probe would be due
      assertThat(host.submit(() -> 43).get(WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(43);
      assertThat(h.api.calls("DescribeKey")).as("probes after close").isEqualTo(probes);
      assertThatThrownBy(h.monitor::start).isInstanceOf(IllegalStateException.class);
    } finally {
      host.shutdownNow();
    }
  }

  @Test
  void anOwnedSchedulerRunsOnADaemonThreadThatCloseStops() throws Exception {
    MonitorHarness h = MonitorHarness.started(fake, b -> {}, m -> m.tick(Duration.ofMillis(5)));
    CountDownLatch suspect = new CountDownLatch(1);
    AtomicReference<Thread> thread = new AtomicReference<>();
    h.monitor.addListener(
        e -> {
          thread.set(Thread.currentThread());
          suspect.countDown();
        });
    h.api.disableKey(h.keyArn);
    h.clock.advance(Duration.ofMinutes(6));

    h.monitor.start();
    assertThat(suspect.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
    assertThat(thread.get().getName()).isEqualTo("byok-key-monitor");
    assertThat(thread.get().isDaemon()).isTrue();

    h.monitor.close();
    thread.get().join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
    assertThat(thread.get().isAlive()).as("owned scheduler thread after close").isFalse();
  }
}
