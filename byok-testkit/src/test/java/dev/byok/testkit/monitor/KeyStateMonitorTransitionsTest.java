package dev.byok.testkit.monitor;

import static dev.byok.monitor.KeyEvent.Type.DELETION_SCHEDULED;
import static dev.byok.monitor.KeyEvent.Type.KEY_MATERIAL_ROTATED;
import static dev.byok.monitor.KeyEvent.Type.KEY_RETARGETED;
import static dev.byok.monitor.KeyEvent.Type.KMS_REACHABLE;
import static dev.byok.monitor.KeyEvent.Type.KMS_UNREACHABLE;
import static dev.byok.monitor.KeyEvent.Type.LOCKED;
import static dev.byok.monitor.KeyEvent.Type.MONITORING_DEGRADED;
import static dev.byok.monitor.KeyEvent.Type.RESTORE_PENDING_ACKNOWLEDGEMENT;
import static dev.byok.monitor.KeyEvent.Type.ROTATION_STATUS_CHANGED;
import static dev.byok.monitor.KeyEvent.Type.STATE_CHANGED;
import static dev.byok.monitor.KeyEvent.Type.THROTTLED;
import static dev.byok.monitor.KeyEvent.Type.UNLOCKED;
import static dev.byok.monitor.KeyMonitorState.ACTIVE;
import static dev.byok.monitor.KeyMonitorState.SUSPECT;
import static dev.byok.monitor.KeyMonitorState.UNREACHABLE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.KeyRef;
import dev.byok.KeyUnusableException;
import dev.byok.monitor.KeyMonitorState;
import dev.byok.monitor.KeyStateMonitor;
import dev.byok.spi.KeyState;
import dev.byok.testkit.FakeKmsExtension;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One row per transition of the key state machine (docs/key-lifecycle.md, issue 5): from a prepared
 * state, one change at the KMS, then the monitor driven on the manual clock; the row names the
 * state reached and exactly the events emitted on the way.
 */
class KeyStateMonitorTransitionsTest {
  private static final KeyMonitorState LOCKED_STATE = KeyMonitorState.LOCKED;
  private static final Duration GRACE = Duration.ofSeconds(30);

  /** Longer than the longest jittered probe interval (5 min + 10 %). */
  private static final Duration ONE_PROBE = Duration.ofMinutes(6);

  /** Covers a probe interval plus the grace period: denial to LOCKED. */
  private static final Duration UNTIL_LOCKED = Duration.ofMinutes(7);

  @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();

  /**
   * @param config monitor settings besides the defaults
   * @param prepare brings the key into the "from" state; its events are not part of the row
   * @param act the change at the KMS (or the host's action)
   * @param drive how long the monitor then runs, one round per second
   * @param expected the state reached
   * @param events exactly the events emitted after {@code prepare}
   */
  record Row(
      Consumer<KeyStateMonitor.Builder> config,
      Consumer<MonitorHarness> prepare,
      Consumer<MonitorHarness> act,
      Duration drive,
      KeyMonitorState expected,
      List<ExpectedEvent> events) {}

  private static final Consumer<KeyStateMonitor.Builder> DEFAULTS = m -> {};
  private static final Consumer<MonitorHarness> NOTHING = h -> {};

  private static Named<Row> row(
      String name,
      Consumer<KeyStateMonitor.Builder> config,
      Consumer<MonitorHarness> prepare,
      Consumer<MonitorHarness> act,
      Duration drive,
      KeyMonitorState expected,
      ExpectedEvent... events) {
    return Named.of(name, new Row(config, prepare, act, drive, expected, List.of(events)));
  }

  private static ExpectedEvent ev(
      dev.byok.monitor.KeyEvent.Type type, KeyMonitorState from, KeyMonitorState to) {
    return ExpectedEvent.of(type, from, to);
  }

  // ------------------------------------------------------------------ preparations

  private static void disable(MonitorHarness h) {
    h.api.disableKey(h.keyArn);
  }

  private static void enable(MonitorHarness h) {
    h.api.enableKey(h.keyArn);
  }

  private static void outage(MonitorHarness h) {
    h.api.startOutage();
  }

  private static Consumer<MonitorHarness> until(
      Consumer<MonitorHarness> change, KeyMonitorState state) {
    return h -> {
      change.accept(h);
      h.driveUntil(state, UNTIL_LOCKED);
    };
  }

  /** Denied at the next probe, locked 30 s later. */
  private static Named<Row> denial(
      String kind, Consumer<MonitorHarness> act, ExpectedEvent... before) {
    ExpectedEvent[] events =
        Stream.concat(Stream.of(before), ExpectedEvent.deniedThenLocked(GRACE, kind).stream())
            .toArray(ExpectedEvent[]::new);
    return row(
        "denial " + kind + ": ACTIVE -> SUSPECT -> LOCKED",
        DEFAULTS,
        NOTHING,
        act,
        UNTIL_LOCKED,
        LOCKED_STATE,
        events);
  }

  static Stream<Named<Row>> rows() {
    Consumer<KeyStateMonitor.Builder> longGrace = m -> m.gracePeriod(Duration.ofHours(1));
    Consumer<KeyStateMonitor.Builder> manualUnlock = m -> m.autoUnlock(false);
    return Stream.of(
        row(
            "ACTIVE -> UNREACHABLE: KMS outage",
            DEFAULTS,
            NOTHING,
            KeyStateMonitorTransitionsTest::outage,
            ONE_PROBE,
            UNREACHABLE,
            ev(STATE_CHANGED, ACTIVE, UNREACHABLE),
            ev(KMS_UNREACHABLE, ACTIVE, UNREACHABLE)),
        row(
            "UNREACHABLE -> ACTIVE: KMS answers again",
            DEFAULTS,
            until(KeyStateMonitorTransitionsTest::outage, UNREACHABLE),
            h -> h.api.endOutage(),
            ONE_PROBE,
            ACTIVE,
            ev(STATE_CHANGED, UNREACHABLE, ACTIVE),
            ev(KMS_REACHABLE, UNREACHABLE, ACTIVE)),
        row(
            "ACTIVE -> SUSPECT: the canary is refused",
            longGrace,
            NOTHING,
            KeyStateMonitorTransitionsTest::disable,
            ONE_PROBE,
            SUSPECT,
            ev(STATE_CHANGED, ACTIVE, SUSPECT).lockAfter(Duration.ofHours(1)).reason("DISABLED")),
        row(
            "ACTIVE -> SUSPECT: a data-path refusal triggers a probe, which is refused",
            DEFAULTS,
            NOTHING,
            h -> {
              byte[] blob = h.encrypt(MonitorHarness.plaintext(1));
              disable(h);
              assertThatThrownBy(() -> h.decrypt(blob)).isInstanceOf(KeyUnusableException.class);
              assertThat(h.monitor.runDueProbes()).as("probed in the next round").isEqualTo(1);
            },
            Duration.ZERO,
            SUSPECT,
            ev(STATE_CHANGED, ACTIVE, SUSPECT).lockAfter(GRACE).reason("DISABLED")),
        row(
            "ACTIVE stays ACTIVE: a data-path refusal the probe does not confirm",
            DEFAULTS,
            NOTHING,
            h -> {
              byte[] blob = h.encrypt(MonitorHarness.plaintext(1));
              h.api.failNext("Decrypt", "AccessDeniedException"); // e.g. a hostile header
              assertThatThrownBy(() -> h.decrypt(blob)).isInstanceOf(KeyUnusableException.class);
              assertThat(h.monitor.runDueProbes()).as("probed in the next round").isEqualTo(1);
            },
            Duration.ofMinutes(1),
            ACTIVE),
        row(
            "SUSPECT -> ACTIVE: the key answers within the grace period",
            longGrace,
            until(KeyStateMonitorTransitionsTest::disable, SUSPECT),
            KeyStateMonitorTransitionsTest::enable,
            Duration.ofSeconds(15),
            ACTIVE,
            ev(STATE_CHANGED, SUSPECT, ACTIVE)),
        row(
            "SUSPECT -> LOCKED: still denied when the grace period ends",
            DEFAULTS,
            until(KeyStateMonitorTransitionsTest::disable, SUSPECT),
            NOTHING,
            GRACE,
            LOCKED_STATE,
            ev(STATE_CHANGED, SUSPECT, LOCKED_STATE),
            ev(LOCKED, SUSPECT, LOCKED_STATE)),
        row(
            "SUSPECT -> LOCKED: denied, then unreachable past the grace period",
            DEFAULTS,
            until(KeyStateMonitorTransitionsTest::disable, SUSPECT),
            KeyStateMonitorTransitionsTest::outage,
            GRACE,
            LOCKED_STATE,
            ev(STATE_CHANGED, SUSPECT, LOCKED_STATE).reason("unreachable past the grace period"),
            ev(LOCKED, SUSPECT, LOCKED_STATE)),
        row(
            "SUSPECT stays SUSPECT: unreachable within the grace period",
            longGrace,
            until(KeyStateMonitorTransitionsTest::disable, SUSPECT),
            KeyStateMonitorTransitionsTest::outage,
            Duration.ofMinutes(10),
            SUSPECT),
        row(
            "LOCKED -> ACTIVE: the canary passes again (auto-unlock)",
            DEFAULTS,
            until(KeyStateMonitorTransitionsTest::disable, LOCKED_STATE),
            KeyStateMonitorTransitionsTest::enable,
            ONE_PROBE,
            ACTIVE,
            ev(STATE_CHANGED, LOCKED_STATE, ACTIVE),
            ev(UNLOCKED, LOCKED_STATE, ACTIVE)),
        row(
            "LOCKED stays LOCKED until acknowledged (auto-unlock off)",
            manualUnlock,
            until(KeyStateMonitorTransitionsTest::disable, LOCKED_STATE),
            KeyStateMonitorTransitionsTest::enable,
            ONE_PROBE.multipliedBy(2),
            LOCKED_STATE,
            ev(RESTORE_PENDING_ACKNOWLEDGEMENT, LOCKED_STATE, LOCKED_STATE)),
        row(
            "LOCKED -> ACTIVE: the host acknowledges the restore",
            manualUnlock,
            until(KeyStateMonitorTransitionsTest::disable, LOCKED_STATE)
                .andThen(
                    h -> {
                      enable(h);
                      h.drive(ONE_PROBE);
                    }),
            h -> assertThat(h.monitor.acknowledgeRestore(h.alias)).isTrue(),
            Duration.ZERO,
            ACTIVE,
            ev(STATE_CHANGED, LOCKED_STATE, ACTIVE),
            ev(UNLOCKED, LOCKED_STATE, ACTIVE)),
        row(
            "UNREACHABLE stays UNREACHABLE: no lock by default",
            DEFAULTS,
            until(KeyStateMonitorTransitionsTest::outage, UNREACHABLE),
            NOTHING,
            Duration.ofHours(2),
            UNREACHABLE),
        row(
            "UNREACHABLE -> LOCKED: opt-in lockWhenUnreachableFor(1 h)",
            m -> m.lockWhenUnreachableFor(Duration.ofHours(1)),
            until(KeyStateMonitorTransitionsTest::outage, UNREACHABLE),
            NOTHING,
            Duration.ofHours(1),
            LOCKED_STATE,
            ev(STATE_CHANGED, UNREACHABLE, LOCKED_STATE).reason("opt-in"),
            ev(LOCKED, UNREACHABLE, LOCKED_STATE)),
        denial("DISABLED", KeyStateMonitorTransitionsTest::disable),
        denial(
            "PENDING_DELETION",
            h -> h.api.scheduleKeyDeletion(h.keyArn, 7),
            ev(DELETION_SCHEDULED, ACTIVE, ACTIVE)),
        denial("ACCESS_DENIED", h -> h.api.denyAccess(h.keyArn, true)),
        denial(
            "NOT_FOUND",
            h -> {
              h.subject =
                  KeyRef.of(
                      MonitorHarness.PROVIDER,
                      "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-4000-8000-000000000000");
              h.monitor.watch(h.subject);
            }),
        denial("PENDING_IMPORT", h -> h.api.forceKeyState(h.keyArn, KeyState.PENDING_IMPORT)),
        denial("UNAVAILABLE", h -> h.api.forceKeyState(h.keyArn, KeyState.UNAVAILABLE)),
        row(
            "informational: key material rotated in place",
            DEFAULTS,
            NOTHING,
            h -> h.api.rotateKeyOnDemand(h.keyArn),
            ONE_PROBE,
            ACTIVE,
            ev(KEY_MATERIAL_ROTATED, ACTIVE, ACTIVE)),
        row(
            "informational: alias retargeted",
            DEFAULTS,
            NOTHING,
            h -> h.api.updateAlias("alias/app", h.api.createKey().arn()),
            ONE_PROBE,
            ACTIVE,
            ev(KEY_RETARGETED, ACTIVE, ACTIVE)),
        row(
            "informational: automatic rotation turned on",
            DEFAULTS,
            NOTHING,
            h -> h.api.enableKeyRotation(h.keyArn, 365),
            Duration.ofHours(6).plus(ONE_PROBE),
            ACTIVE,
            ev(ROTATION_STATUS_CHANGED, ACTIVE, ACTIVE)),
        row(
            "degraded: DescribeKey denied while the canary decrypts",
            DEFAULTS,
            NOTHING,
            h -> h.api.failNext("DescribeKey", "AccessDeniedException"),
            ONE_PROBE,
            ACTIVE,
            ev(MONITORING_DEGRADED, ACTIVE, ACTIVE)),
        row(
            "ACTIVE -> UNREACHABLE: the canary is throttled",
            DEFAULTS,
            NOTHING,
            h -> h.api.failNext("Decrypt", "ThrottlingException"),
            ONE_PROBE,
            UNREACHABLE,
            ev(THROTTLED, ACTIVE, ACTIVE),
            ev(STATE_CHANGED, ACTIVE, UNREACHABLE),
            ev(KMS_UNREACHABLE, ACTIVE, UNREACHABLE)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void transition(Row row) {
    MonitorHarness h = MonitorHarness.started(fake, b -> {}, row.config());
    row.prepare().accept(h);
    h.drain();

    row.act().accept(h);
    h.drive(row.drive());

    ExpectedEvent.assertEvents(h.drain(), row.events());
    assertThat(h.monitor.state(h.subject)).isEqualTo(row.expected());
    // the data key manager agrees with the monitor, and so does the guard
    boolean locked = row.expected() == LOCKED_STATE;
    assertThat(h.byok.keys().isLocked(h.subject.keyId())).as("manager locked").isEqualTo(locked);
    if (locked) {
      assertThatThrownBy(() -> h.monitor.checkUsable(h.subject))
          .isInstanceOfSatisfying(
              KeyUnusableException.class,
              e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.LOCKED));
    } else {
      assertThatCode(() -> h.monitor.checkUsable(h.subject)).doesNotThrowAnyException();
    }
  }
}
