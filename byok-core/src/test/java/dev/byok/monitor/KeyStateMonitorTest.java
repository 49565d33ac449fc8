package dev.byok.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.Byok;
import dev.byok.DataKeyPolicy;
import dev.byok.EncryptionContext;
import dev.byok.KeyRef;
import dev.byok.KeyUnusableException;
import dev.byok.spi.KeyState;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The monitor with a real {@link Byok} over {@link InMemoryKms}, on a manual clock: where and when
 * listeners run, what the data path may and may not do to a key's state, and one monitor for many
 * tenants' keys.
 */
class KeyStateMonitorTest {
  private static final EncryptionContext CTX = EncryptionContext.of("tenant", "t1");
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

  private static KeyRef ref(String arn) {
    return KeyRef.of(InMemoryKms.PROVIDER, arn);
  }

  private Byok byok(String arn, String... alsoDecrypt) {
    Byok.Builder b =
        Byok.builder()
            .provider(kms)
            .encryptUnder(ref(arn))
            .clock(clock)
            .dataKeyPolicy(DataKeyPolicy.noReuse()); // every blob makes a KMS call
    if (alsoDecrypt.length > 0) {
      b.allowDecryptWith(alsoDecrypt);
    }
    return closing(b.build());
  }

  private static byte[] encrypt(Byok byok, String text) {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (OutputStream out = byok.newEncryptingStream(sink, CTX)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sink.toByteArray();
  }

  private static String decrypt(Byok byok, byte[] blob) {
    try {
      return new String(
          byok.newDecryptingStream(new ByteArrayInputStream(blob), CTX).readAllBytes(),
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void assertRefused(Runnable call, KeyUnusableException.Reason reason) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            KeyUnusableException.class, e -> assertThat(e.reason()).isEqualTo(reason));
  }

  // ------------------------------------------------------------------ where listeners run

  /**
   * Issue 11, hole 2: LOCKED used to be delivered on the data-path thread whose KMS call saw the
   * denial (or on the thread running the round). Now the data path only records what it saw, and
   * every event reaches listeners on the monitor's event thread, holding no byok lock, after the
   * manager already refuses the key.
   */
  @Test
  void listenersRunOnTheEventThreadNeverOnACallersThreadNorUnderALock() throws Exception {
    String arn = kms.createKey();
    Byok byok = byok(arn);
    KeyStateMonitor monitor =
        closing(
            KeyStateMonitor.builder()
                .provider(kms)
                .dataKeyManager(byok.keys())
                .clock(clock)
                .gracePeriod(Duration.ZERO)
                .build());
    record Seen(KeyEvent event, Thread thread, boolean monitorLockHeld, boolean managerLocked) {}
    BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();
    monitor
        .watch(ref(arn))
        .addListener(
            e ->
                seen.add(
                    new Seen(
                        e,
                        Thread.currentThread(),
                        Thread.holdsLock(monitor),
                        byok.keys().isLocked(arn))));
    monitor.runDueProbes();
    byte[] blob = encrypt(byok, "x");
    kms.setState(arn, KeyState.DISABLED);

    Thread dataPath =
        new Thread(
            () -> assertRefused(() -> decrypt(byok, blob), KeyUnusableException.Reason.DISABLED),
            "data-path");
    dataPath.start();
    dataPath.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
    assertThat(seen).as("the data path delivers nothing").isEmpty();
    assertThat(monitor.state(ref(arn))).isEqualTo(KeyMonitorState.ACTIVE);

    assertThat(monitor.runDueProbes()).as("the denial triggers a probe").isEqualTo(1);
    assertThat(monitor.state(ref(arn))).isEqualTo(KeyMonitorState.LOCKED);
    Seen changed = seen.poll(WAIT_SECONDS, TimeUnit.SECONDS);
    Seen locked = seen.poll(WAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(changed).isNotNull();
    assertThat(locked).isNotNull();
    assertThat(changed.event().type()).isEqualTo(KeyEvent.Type.STATE_CHANGED);
    assertThat(locked.event().type()).isEqualTo(KeyEvent.Type.LOCKED);
    for (Seen s : List.of(changed, locked)) {
      assertThat(s.thread().getName()).isEqualTo("byok-key-events");
      assertThat(s.thread()).isNotSameAs(Thread.currentThread()).isNotSameAs(dataPath);
      assertThat(s.monitorLockHeld()).as("monitor lock held in the listener").isFalse();
      assertThat(s.managerLocked()).as("the manager refuses the key before LOCKED").isTrue();
    }
  }

  /**
   * Per-key order on a pool: while one listener call for key A is blocked, A's later events wait
   * (delivered in order, one at a time) and key B's events are delivered meanwhile.
   */
  @Test
  void oneKeysEventsArriveInOrderOneAtATimeWhileOtherKeysProceed() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    closing(pool::shutdownNow);
    String a = kms.createKey();
    String b = kms.createKey();
    KeyStateMonitor monitor =
        closing(
            KeyStateMonitor.builder()
                .provider(kms)
                .clock(clock)
                .gracePeriod(Duration.ZERO)
                .eventExecutor(pool)
                .build());
    CountDownLatch releaseA = new CountDownLatch(1);
    CountDownLatch bLocked = new CountDownLatch(1);
    CountDownLatch aDone = new CountDownLatch(6);
    List<String> aEvents = new CopyOnWriteArrayList<>();
    AtomicInteger inA = new AtomicInteger();
    AtomicInteger maxInA = new AtomicInteger();
    monitor.addListener(
        ref(a),
        e -> {
          maxInA.accumulateAndGet(inA.incrementAndGet(), Math::max);
          try {
            if (aEvents.isEmpty()) {
              releaseA.await(WAIT_SECONDS, TimeUnit.SECONDS);
            }
            aEvents.add(e.type() + "->" + e.to());
          } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
          } finally {
            inA.decrementAndGet();
            aDone.countDown();
          }
        });
    monitor.addListener(
        ref(b),
        e -> {
          if (e.type() == KeyEvent.Type.LOCKED) {
            bLocked.countDown();
          }
        });
    monitor.watch(ref(a)).watch(ref(b));
    monitor.runDueProbes();

    kms.setState(a, KeyState.DISABLED);
    monitor.probeNow(ref(a)); // LOCKED: the first delivery blocks
    kms.setState(a, KeyState.ENABLED);
    monitor.probeNow(ref(a)); // UNLOCKED
    kms.setState(a, KeyState.DISABLED);
    monitor.probeNow(ref(a)); // LOCKED again
    kms.setState(b, KeyState.DISABLED);
    monitor.probeNow(ref(b));

    assertThat(bLocked.await(WAIT_SECONDS, TimeUnit.SECONDS))
        .as("B's events are delivered while A's listener is blocked")
        .isTrue();
    assertThat(aEvents).isEmpty();
    releaseA.countDown();
    assertThat(aDone.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
    assertThat(aEvents)
        .containsExactly(
            "STATE_CHANGED->LOCKED",
            "LOCKED->LOCKED",
            "STATE_CHANGED->ACTIVE",
            "UNLOCKED->ACTIVE",
            "STATE_CHANGED->LOCKED",
            "LOCKED->LOCKED");
    assertThat(maxInA).as("deliveries of A's events at once").hasValue(1);
  }

  // ------------------------------------------------------------------ data-path evidence

  /**
   * Issue 15, item 2: a denial seen on the data path (for example for a hostile header) changes no
   * state by itself; it triggers one probe, and further denials trigger at most one probe per
   * suspect-probe interval.
   */
  @Test
  void aDataPathDenialTriggersAProbeAndChangesNothingByItself() {
    String arn = kms.createKey();
    Byok byok = byok(arn);
    List<KeyEvent> events = new CopyOnWriteArrayList<>();
    KeyStateMonitor monitor =
        closing(
            KeyStateMonitor.builder()
                .provider(kms)
                .dataKeyManager(byok.keys())
                .clock(clock)
                .eventExecutor(Runnable::run)
                .build());
    monitor.watch(ref(arn)).addListener(events::add);
    monitor.runDueProbes();
    int describes = kms.calls("DescribeKey");

    for (int i = 0; i < 3; i++) {
      byte[] blob = encrypt(byok, "x" + i);
      kms.failNext(
          "Decrypt",
          () ->
              new KeyUnusableException(
                  KeyUnusableException.Reason.ACCESS_DENIED, arn, "denied by a condition", null));
      assertRefused(() -> decrypt(byok, blob), KeyUnusableException.Reason.ACCESS_DENIED);
      clock.advance(Duration.ofSeconds(1));
      monitor.runDueProbes();
      assertThat(monitor.state(ref(arn))).isEqualTo(KeyMonitorState.ACTIVE);
    }
    assertThat(kms.calls("DescribeKey") - describes)
        .as("probes for three denials within 15 s")
        .isEqualTo(1);
    assertThat(events).isEmpty();
    assertThat(byok.keys().isLocked(arn)).isFalse();
  }

  /**
   * Issue 11, hole 6: after DisableKey, AWS keeps decrypting for a while. With traffic succeeding
   * every second while DescribeKey says Disabled, the key used to flip SUSPECT/ACTIVE and never
   * lock. Now it is SUSPECT from the first probe and LOCKED when the grace period ends.
   */
  @Test
  void aKeyDescribedDisabledWhoseDecryptsStillPassIsLockedWhenTheGracePeriodEnds() {
    String arn = kms.createKey();
    Byok byok = byok(arn);
    List<KeyEvent> events = new CopyOnWriteArrayList<>();
    KeyStateMonitor monitor =
        closing(
            KeyStateMonitor.builder()
                .provider(kms)
                .dataKeyManager(byok.keys())
                .clock(clock)
                .eventExecutor(Runnable::run)
                .build());
    monitor.watch(ref(arn)).addListener(events::add);
    monitor.runDueProbes();
    kms.describeAs(arn, KeyState.DISABLED);
    monitor.probeNow(ref(arn));
    assertThat(monitor.state(ref(arn))).isEqualTo(KeyMonitorState.SUSPECT);

    int seconds = 0;
    while (monitor.state(ref(arn)) != KeyMonitorState.LOCKED && seconds < 120) {
      byte[] blob = encrypt(byok, "blob " + seconds); // GenerateDataKey succeeds
      assertThat(decrypt(byok, blob)).isEqualTo("blob " + seconds); // and so does Decrypt
      clock.advance(Duration.ofSeconds(1));
      seconds++;
      monitor.runDueProbes();
    }
    assertThat(seconds).as("seconds from SUSPECT to LOCKED").isEqualTo(30);
    assertThat(events)
        .extracting(e -> e.type() + "->" + e.to())
        .containsExactly("STATE_CHANGED->SUSPECT", "STATE_CHANGED->LOCKED", "LOCKED->LOCKED");
    assertRefused(() -> encrypt(byok, "after"), KeyUnusableException.Reason.LOCKED);
  }

  // ------------------------------------------------------------------ many tenants

  /**
   * One monitor for every tenant's key: keys are watched on their first successful use, each has
   * its own state and its own listeners, unused ones are forgotten (their cached data keys purged,
   * so the next use calls the KMS and watches them again), and a LOCKED or explicitly watched key
   * is never forgotten.
   */
  @Test
  void oneMonitorWatchesEveryKeyInUseAndForgetsKeysNoLongerUsed() {
    String a = kms.createKey();
    String b = kms.createKey();
    String c = kms.createKey();
    Byok host = byok(a, b, c);
    byte[] blobB = encrypt(byok(b), "tenant b");
    byte[] blobC = encrypt(byok(c), "tenant c");
    Map<KeyRef, List<KeyEvent>> byKey = new ConcurrentHashMap<>();
    List<KeyEvent> all = new CopyOnWriteArrayList<>();
    KeyStateMonitor monitor =
        closing(
            KeyStateMonitor.builder()
                .provider(kms)
                .dataKeyManager(host.keys())
                .clock(clock)
                .forgetUnusedAfter(Duration.ofMinutes(20))
                .eventExecutor(Runnable::run)
                .build());
    monitor.addListener(all::add);
    for (String arn : List.of(a, b, c)) {
      monitor.addListener(
          ref(arn), e -> byKey.computeIfAbsent(ref(arn), k -> new CopyOnWriteArrayList<>()).add(e));
    }
    assertThat(monitor.states()).isEmpty();

    encrypt(host, "tenant a");
    assertThat(decrypt(host, blobB)).isEqualTo("tenant b");
    assertThat(decrypt(host, blobC)).isEqualTo("tenant c");
    assertThat(monitor.runDueProbes()).as("three keys watched and probed").isEqualTo(3);
    assertThat(monitor.states())
        .containsOnlyKeys(ref(a), ref(b), ref(c))
        .allSatisfy((k, s) -> assertThat(s).isEqualTo(KeyMonitorState.ACTIVE));

    // tenant b revokes its key; a and c are unaffected
    kms.setState(b, KeyState.DISABLED);
    byte[] fresh = encrypt(byok(c), "tenant c again"); // another c blob: c keeps being used
    for (int s = 0; s <= 30; s++) {
      assertThat(decrypt(host, fresh)).isEqualTo("tenant c again");
      if (s == 0) {
        host.keys().invalidate(b); // the next read of b's blob asks the KMS
        assertRefused(() -> decrypt(host, blobB), KeyUnusableException.Reason.DISABLED);
      }
      monitor.runDueProbes();
      clock.advance(Duration.ofSeconds(1));
    }
    monitor.runDueProbes();
    assertThat(monitor.state(ref(b))).isEqualTo(KeyMonitorState.LOCKED);
    assertThat(monitor.state(ref(a))).isEqualTo(KeyMonitorState.ACTIVE);
    assertThat(monitor.state(ref(c))).isEqualTo(KeyMonitorState.ACTIVE);
    assertThat(host.keys().isLocked(b)).isTrue();
    assertThat(byKey.get(ref(b)))
        .extracting(e -> e.type() + "->" + e.to())
        .containsExactly("STATE_CHANGED->SUSPECT", "STATE_CHANGED->LOCKED", "LOCKED->LOCKED");
    assertThat(byKey).containsOnlyKeys(ref(b));
    assertThat(all).isEqualTo(byKey.get(ref(b)));

    // a is watched explicitly from now on; 20 minutes without a KMS call for a or c
    monitor.watch(ref(a));
    for (int m = 0; m < 21; m++) {
      clock.advance(Duration.ofMinutes(1));
      monitor.runDueProbes();
    }
    assertThat(monitor.states())
        .as("c forgotten; a (explicit) and b (LOCKED) kept")
        .containsOnlyKeys(ref(a), ref(b));

    int decrypts = kms.calls("Decrypt");
    assertThat(decrypt(host, fresh)).isEqualTo("tenant c again");
    assertThat(kms.calls("Decrypt") - decrypts)
        .as("c's cached data key was purged when c was forgotten")
        .isEqualTo(1);
    monitor.runDueProbes();
    assertThat(monitor.states()).as("c watched again on its next use").containsKey(ref(c));
  }

  /**
   * During a KMS outage an auto-watched key is UNREACHABLE and its cached data keys are all that
   * serves: it is not forgotten (which would purge them), however long the outage.
   */
  @Test
  void aKeyUnreachableDuringAnOutageIsNotForgottenAndItsCachedKeysKeepServing() {
    String a = kms.createKey();
    Byok host =
        closing(
            Byok.builder()
                .provider(kms)
                .encryptUnder(ref(a))
                .clock(clock)
                .decryptCache(100, Duration.ofDays(1))
                .build());
    KeyStateMonitor monitor =
        closing(
            KeyStateMonitor.builder()
                .provider(kms)
                .dataKeyManager(host.keys())
                .clock(clock)
                .forgetUnusedAfter(Duration.ofMinutes(20))
                .eventExecutor(Runnable::run)
                .build());
    byte[] blob = encrypt(host, "cached");
    assertThat(decrypt(host, blob)).isEqualTo("cached");
    monitor.runDueProbes();
    assertThat(monitor.states()).containsOnlyKeys(ref(a));

    kms.outage(true);
    for (int m = 0; m < 60; m++) {
      clock.advance(Duration.ofMinutes(1));
      monitor.runDueProbes();
    }
    assertThat(monitor.states()).containsEntry(ref(a), KeyMonitorState.UNREACHABLE);
    assertThat(decrypt(host, blob)).as("served from the cache").isEqualTo("cached");

    kms.outage(false);
    clock.advance(Duration.ofMinutes(6));
    monitor.runDueProbes();
    assertThat(monitor.states()).containsEntry(ref(a), KeyMonitorState.ACTIVE);
    clock.advance(Duration.ofMinutes(20));
    monitor.runDueProbes();
    assertThat(monitor.states()).as("forgotten once ACTIVE and unused").isEmpty();
  }

  /**
   * Durations come from the monotonic ticker, not the wall clock: a wall clock stepped forward a
   * day (NTP, a VM resumed) neither ends the grace period nor makes every probe due; only ticker
   * time does. The wall clock still stamps the events.
   */
  @Test
  void theGracePeriodAndTheScheduleFollowTheTickerNotTheWallClock() {
    String arn = kms.createKey();
    AtomicLong ticks = new AtomicLong();
    List<KeyEvent> events = new CopyOnWriteArrayList<>();
    KeyStateMonitor monitor =
        closing(
            KeyStateMonitor.builder()
                .provider(kms)
                .clock(clock)
                .ticker(ticks::get)
                .eventExecutor(Runnable::run)
                .build());
    monitor.watch(ref(arn)).addListener(events::add);
    monitor.runDueProbes();
    kms.setState(arn, KeyState.DISABLED);
    monitor.probeNow(ref(arn));
    assertThat(monitor.state(ref(arn))).isEqualTo(KeyMonitorState.SUSPECT);
    int describes = kms.calls("DescribeKey");

    clock.advance(Duration.ofDays(1)); // the wall clock jumps; no time passes on the ticker
    assertThat(monitor.runDueProbes()).as("nothing is due").isZero();
    monitor.probeNow(ref(arn));
    assertThat(monitor.state(ref(arn)))
        .as("the grace period has not run")
        .isEqualTo(KeyMonitorState.SUSPECT);

    ticks.addAndGet(Duration.ofSeconds(30).toNanos());
    assertThat(monitor.runDueProbes()).isEqualTo(1);
    assertThat(monitor.state(ref(arn))).isEqualTo(KeyMonitorState.LOCKED);
    assertThat(kms.calls("DescribeKey") - describes).isEqualTo(2);
    assertThat(events.get(events.size() - 1).at())
        .as("events carry wall time")
        .isEqualTo(clock.instant());
  }

  /** The builder fails fast, naming the bad value. */
  @Test
  void builderRefusesBadValues() {
    KeyStateMonitor.Builder b = KeyStateMonitor.builder();
    assertThatThrownBy(() -> b.forgetUnusedAfter(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("forgetUnusedAfter");
    assertThatThrownBy(() -> b.maxProbesPerSecond(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxProbesPerSecond");
    assertThatThrownBy(b::build).isInstanceOf(IllegalStateException.class);
  }
}
