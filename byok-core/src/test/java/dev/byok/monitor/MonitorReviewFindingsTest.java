package dev.byok.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.Byok;
import dev.byok.DataKeyPolicy;
import dev.byok.KeyRef;
import dev.byok.KmsUnavailableException;
import dev.byok.spi.KeyState;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Regression tests for the monitor findings of the adversarial review of eff6d25 (H3, M5, M6, H2,
 * L3, L2), each named after its finding. Deterministic: manual clock, a manual executor, scripted
 * provider failures and latches.
 */
class MonitorReviewFindingsTest {
  private static final long WAIT_SECONDS = 10;

  private final InMemoryKms kms = new InMemoryKms();
  private final TestClock clock = new TestClock();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private <T extends AutoCloseable> T closing(T c) {
    closeables.add(0, c);
    return c;
  }

  private static KeyRef ref(String keyId) {
    return KeyRef.of(InMemoryKms.PROVIDER, keyId);
  }

  private Byok byok(String arn) {
    return closing(
        Byok.builder()
            .provider(kms)
            .encryptUnder(ref(arn))
            .clock(clock)
            .dataKeyPolicy(DataKeyPolicy.noReuse())
            .build());
  }

  private KeyStateMonitor.Builder monitor() {
    return KeyStateMonitor.builder()
        .provider(kms)
        .clock(clock)
        .gracePeriod(Duration.ZERO)
        .eventExecutor(Runnable::run);
  }

  /** Runs nothing until the test says so. */
  private static final class ManualExecutor implements Executor {
    final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

    @Override
    public void execute(Runnable r) {
      tasks.add(r);
    }

    /** Runs the queued tasks (and those they queue), ignoring the Errors they throw. */
    void runAll() {
      for (Runnable r = tasks.poll(); r != null; r = tasks.poll()) {
        try {
          r.run();
        } catch (ListenerError expected) {
          // the executor's thread would die; the queue must go on
        }
      }
    }
  }

  private static final class ListenerError extends Error {
    private static final long serialVersionUID = 1L;

    ListenerError() {
      super("listener bug");
    }
  }

  private static KeyEvent event(KeyRef key, String reason) {
    return new KeyEvent(
        KeyEvent.Type.STATE_CHANGED,
        key,
        null,
        KeyMonitorState.ACTIVE,
        KeyMonitorState.ACTIVE,
        reason,
        Instant.EPOCH,
        null,
        null,
        null);
  }

  // ------------------------------------------------------------------ H3

  /**
   * H3: a raw RuntimeException from the provider (a buggy SDK) used to escape the prober before
   * {@code inFlight} was reset: the round threw, and the key was never probed again.
   */
  @Test
  void h3RawRuntimeExceptionFromTheProviderIsTransientAndTheKeyIsProbedAgain() {
    String arn = kms.createKey();
    KeyStateMonitor monitor = closing(monitor().build());
    monitor.watch(ref(arn));
    kms.failNext("Decrypt", () -> new IllegalStateException("raw SDK exception"));

    assertThatCode(monitor::runDueProbes).doesNotThrowAnyException();
    assertThat(monitor.state(ref(arn))).isEqualTo(KeyMonitorState.UNREACHABLE);

    clock.advance(Duration.ofMinutes(6));
    assertThat(monitor.runDueProbes()).as("probed again").isEqualTo(1);
    assertThat(monitor.state(ref(arn))).isEqualTo(KeyMonitorState.ACTIVE);
  }

  /** H3: a provider answering {@code null} (NPE in the canary check) is transient too. */
  @Test
  void h3NullFromTheProviderIsTransientAndTheKeyIsProbedAgain() {
    String arn = kms.createKey();
    KeyStateMonitor monitor = closing(monitor().build());
    monitor.watch(ref(arn));
    kms.failNext("Decrypt", () -> new NullPointerException("decrypt returned null"));

    assertThatCode(monitor::runDueProbes).doesNotThrowAnyException();
    clock.advance(Duration.ofMinutes(6));
    assertThat(monitor.runDueProbes()).isEqualTo(1);
    assertThat(monitor.state(ref(arn))).isEqualTo(KeyMonitorState.ACTIVE);
  }

  /**
   * H3: an Error in a round used to reach {@code scheduleWithFixedDelay}, which then cancels every
   * later round (and left the key in flight). The scheduled rounds must go on.
   */
  @Test
  void h3AnErrorInARoundDoesNotCancelTheScheduledRounds() throws Exception {
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    closing(scheduler::shutdownNow);
    String arn = kms.createKey();
    KeyStateMonitor monitor =
        closing(monitor().scheduler(scheduler).tick(Duration.ofMillis(1)).build());
    monitor.watch(ref(arn));
    CountDownLatch probedAgain = new CountDownLatch(1);
    kms.failNext(
        "Decrypt",
        () -> {
          kms.failNext(
              "Decrypt",
              () -> {
                probedAgain.countDown();
                return new KmsUnavailableException("second probe", false, null);
              });
          throw new ListenerError();
        });
    monitor.start();
    assertThat(probedAgain.await(WAIT_SECONDS, TimeUnit.SECONDS))
        .as("a later round probed the key again")
        .isTrue();
  }

  // ------------------------------------------------------------------ M5

  /**
   * M5: the LOCKED event used to be offered before the manager's lock ran; a drain already running
   * for that key delivered it while the manager still served the key. The hook runs the key's
   * queued drain right after each offer, which is what a concurrent event thread may do.
   */
  @Test
  void m5LockedIsDeliveredOnlyAfterTheManagerRefusesTheKeyEvenWhileItsQueueIsDraining() {
    String arn = kms.createKey();
    Byok byok = byok(arn);
    ManualExecutor events = new ManualExecutor();
    KeyStateMonitor monitor =
        closing(
            monitor()
                .dataKeyManager(byok.keys())
                .gracePeriod(Duration.ofSeconds(30))
                .eventExecutor(events)
                .build());
    List<String> seen = new ArrayList<>();
    monitor.addListener(e -> seen.add(e.type() + " managerLocked=" + byok.keys().isLocked(arn)));
    monitor.watch(ref(arn));
    kms.setState(arn, KeyState.DISABLED);
    monitor.runDueProbes();
    assertThat(monitor.state(ref(arn))).isEqualTo(KeyMonitorState.SUSPECT);
    assertThat(events.tasks).as("the SUSPECT event waits in the key's queue").hasSize(1);

    // an event thread that drains the key's queue right after LOCKED is queued
    monitor.afterOffer =
        e -> {
          if (e.type() == KeyEvent.Type.LOCKED) {
            events.runAll();
          }
        };
    clock.advance(Duration.ofSeconds(30));
    monitor.runDueProbes();
    events.runAll();

    assertThat(monitor.state(ref(arn))).isEqualTo(KeyMonitorState.LOCKED);
    assertThat(seen)
        .contains("LOCKED managerLocked=true")
        .doesNotContain("LOCKED managerLocked=false");
  }

  // ------------------------------------------------------------------ M6

  /**
   * M6: an Error from a listener used to leave the queue marked as scheduled forever: no later
   * event of that key (LOCKED included) was ever delivered.
   */
  @Test
  void m6AnErrorFromAListenerDoesNotStopTheKeysLaterEvents() {
    ManualExecutor executor = new ManualExecutor();
    EventDispatcher dispatcher = new EventDispatcher(executor);
    List<String> delivered = new ArrayList<>();
    dispatcher.addListener(
        null,
        e -> {
          if (e.reason().equals("first")) {
            throw new ListenerError();
          }
          delivered.add(e.reason());
        });
    KeyRef key = ref(kms.createKey());
    List<EventDispatcher.Queue> toStart = new ArrayList<>();
    EventDispatcher.Queue q = dispatcher.offer(event(key, "first"));
    assertThat(q).isNotNull();
    toStart.add(q);
    assertThat(dispatcher.offer(event(key, "second"))).isNull();
    dispatcher.deliver(toStart);
    executor.runAll();
    assertThat(delivered).containsExactly("second");

    EventDispatcher.Queue again = dispatcher.offer(event(key, "third"));
    assertThat(again).as("the queue is idle again").isNotNull();
    dispatcher.deliver(List.of(again));
    executor.runAll();
    assertThat(delivered).containsExactly("second", "third");
  }

  /**
   * M6, direct executor: an Error from a listener of one key used to abort {@code deliver} before
   * the other keys' queues were started; they then stayed scheduled without a drain.
   */
  @Test
  void m6AnErrorFromAListenerOnADirectExecutorDoesNotStrandOtherKeysQueues() {
    EventDispatcher dispatcher = new EventDispatcher(Runnable::run);
    List<String> delivered = new ArrayList<>();
    dispatcher.addListener(
        null,
        e -> {
          if (e.reason().equals("a1")) {
            throw new ListenerError();
          }
          delivered.add(e.reason());
        });
    KeyRef a = ref(kms.createKey());
    KeyRef b = ref(kms.createKey());
    List<EventDispatcher.Queue> toStart = new ArrayList<>();
    toStart.add(Objects.requireNonNull(dispatcher.offer(event(a, "a1"))));
    toStart.add(Objects.requireNonNull(dispatcher.offer(event(b, "b1"))));

    assertThatThrownBy(() -> dispatcher.deliver(toStart)).isInstanceOf(ListenerError.class);
    assertThat(delivered).containsExactly("b1");
    EventDispatcher.Queue qb = dispatcher.offer(event(b, "b2"));
    assertThat(qb).as("b's queue is idle, not stranded").isNotNull();
    dispatcher.deliver(List.of(qb));
    assertThat(delivered).containsExactly("b1", "b2");
  }

  // ------------------------------------------------------------------ L3

  /**
   * L3: forget used to drop a queue that was still draining; a re-watch made a second queue, so two
   * drains of one key could run at once and break its order.
   */
  @Test
  void l3ForgettingADrainingQueueKeepsOneQueuePerKey() {
    ManualExecutor executor = new ManualExecutor();
    EventDispatcher dispatcher = new EventDispatcher(executor);
    List<String> delivered = new ArrayList<>();
    dispatcher.addListener(null, e -> delivered.add(e.reason()));
    KeyRef key = ref(kms.createKey());
    EventDispatcher.Queue q = dispatcher.offer(event(key, "before unwatch"));
    assertThat(q).isNotNull();
    dispatcher.deliver(List.of(q));
    dispatcher.forget(key); // unwatch while the drain is queued

    assertThat(dispatcher.offer(event(key, "after re-watch")))
        .as("no second drain for the same key")
        .isNull();
    executor.runAll();
    assertThat(delivered).containsExactly("before unwatch", "after re-watch");
    assertThat(executor.tasks).isEmpty();

    dispatcher.forget(key); // idle now: really forgotten, and a new queue starts cleanly
    EventDispatcher.Queue fresh = dispatcher.offer(event(key, "later"));
    assertThat(fresh).isNotNull().isNotSameAs(q);
    dispatcher.deliver(List.of(fresh));
    executor.runAll();
    assertThat(delivered).containsExactly("before unwatch", "after re-watch", "later");
  }

  // ------------------------------------------------------------------ H2 (monitor side)

  /**
   * H2: with DescribeKey denied (degraded mode) the monitor never learned the ARN behind a watched
   * alias, so LOCK reached only the alias string and the manager kept serving the ARN.
   */
  @Test
  void h2InDegradedModeTheLockReachesTheArnLearnedFromTheCanary() {
    String arn = kms.createKey();
    kms.alias("alias/app", arn);
    kms.denyDescribe(arn, true);
    Byok byok = byok(arn);
    KeyStateMonitor monitor = closing(monitor().dataKeyManager(byok.keys()).build());
    KeyRef alias = ref("alias/app");
    monitor.watch(alias);

    monitor.runDueProbes();
    assertThat(monitor.state(alias)).isEqualTo(KeyMonitorState.ACTIVE);
    assertThat(monitor.keyArn(alias)).as("learned from the canary").isEqualTo(arn);

    kms.setState(arn, KeyState.DISABLED);
    clock.advance(Duration.ofMinutes(6));
    monitor.runDueProbes();
    assertThat(monitor.state(alias)).isEqualTo(KeyMonitorState.LOCKED);
    assertThat(byok.keys().isLocked(arn)).as("the manager refuses the ARN").isTrue();
    assertThat(byok.keys().isLocked("alias/app")).isTrue();
  }

  // ------------------------------------------------------------------ L2

  /**
   * L2: an alias LOCKED under ARN1 and then retargeted to ARN2 used to unlock the alias and ARN2
   * while ARN1 stayed locked in the manager and states() called it ACTIVE.
   */
  @Test
  void l2ALockSurvivesAnAliasRetargetOnlyWhereTheMonitorSaysSo() {
    String arn1 = kms.createKey();
    String arn2 = kms.createKey();
    kms.alias("alias/app", arn1);
    Byok byok = byok(arn1);
    KeyStateMonitor monitor = closing(monitor().dataKeyManager(byok.keys()).build());
    KeyRef alias = ref("alias/app");
    monitor.watch(alias);
    monitor.runDueProbes();
    kms.setState(arn1, KeyState.DISABLED);
    clock.advance(Duration.ofMinutes(6));
    monitor.runDueProbes();
    assertThat(monitor.state(alias)).isEqualTo(KeyMonitorState.LOCKED);
    assertThat(byok.keys().isLocked(arn1)).isTrue();

    kms.alias("alias/app", arn2);
    clock.advance(Duration.ofMinutes(6));
    monitor.runDueProbes();
    assertThat(monitor.state(alias)).isEqualTo(KeyMonitorState.ACTIVE);
    assertThat(byok.keys().isLocked(arn2)).isFalse();
    assertThat(monitor.state(ref(arn1)))
        .as("the old ARN, still locked in the manager, is LOCKED in the monitor")
        .isEqualTo(KeyMonitorState.LOCKED);
    assertThat(byok.keys().isLocked(arn1)).isTrue();

    kms.setState(arn1, KeyState.ENABLED); // the customer restores the old key
    clock.advance(Duration.ofMinutes(6));
    monitor.runDueProbes();
    assertThat(monitor.state(ref(arn1))).isEqualTo(KeyMonitorState.ACTIVE);
    assertThat(byok.keys().isLocked(arn1)).isFalse();
  }
}
