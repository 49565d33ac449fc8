package dev.byok.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.ByokConfigurationException;
import dev.byok.ByokException;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.monitor.KeyStateMachine.Action;
import dev.byok.monitor.KeyStateMachine.Notice;
import dev.byok.monitor.KeyStateMachine.Observation;
import dev.byok.monitor.KeyStateMachine.Status;
import dev.byok.monitor.KeyStateMachine.Step;
import dev.byok.monitor.KeyStateMachine.Verdict;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The monitor's state machine as the pure function it is: every state against every observation
 * (docs/key-lifecycle.md, "The state machine"), the probe classification table, the case of a KMS
 * that keeps decrypting while DescribeKey says Disabled, and a property: one STATE_CHANGED per
 * change of state, never one without.
 */
class KeyStateMachineTest {
  private static final Duration GRACE = Duration.ofSeconds(30);
  private static final long T0 = 1_000_000_000_000L;
  private static final long S = 1_000_000_000L;

  private static final KeyStateMachine AUTO = new KeyStateMachine(GRACE, true, null);
  private static final KeyStateMachine MANUAL = new KeyStateMachine(GRACE, false, null);

  // ------------------------------------------------------------------ inputs of the table

  /** The "from" column: a state, and where it matters how long it has lasted. */
  enum From {
    ACTIVE(new Status(KeyMonitorState.ACTIVE, null, null, false, false, "r"), 10),
    ACTIVE_DEGRADED(new Status(KeyMonitorState.ACTIVE, null, null, false, true, "r"), 10),
    UNREACHABLE(new Status(KeyMonitorState.UNREACHABLE, null, T0, false, false, "r"), 10),
    SUSPECT_IN_GRACE(new Status(KeyMonitorState.SUSPECT, T0, null, false, false, "r"), 29),
    SUSPECT_PAST_GRACE(new Status(KeyMonitorState.SUSPECT, T0, null, false, false, "r"), 30),
    LOCKED(new Status(KeyMonitorState.LOCKED, null, null, false, false, "r"), 10),
    LOCKED_RESTORE_PENDING(new Status(KeyMonitorState.LOCKED, null, null, true, false, "r"), 10);

    final Status status;
    final long secondsLater;

    From(Status status, long secondsLater) {
      this.status = status;
      this.secondsLater = secondsLater;
    }
  }

  /** The observation column. */
  enum Obs {
    PROBE_OK(new Observation.Probe(Verdict.OK, "canary decrypts", false, false)),
    PROBE_OK_DESCRIBE_DENIED(new Observation.Probe(Verdict.OK, "canary decrypts", false, true)),
    PROBE_DENIAL(
        new Observation.Probe(Verdict.DENIAL, "KMS reports the key DISABLED", false, false)),
    PROBE_TRANSIENT(new Observation.Probe(Verdict.TRANSIENT, "KMS unreachable", false, false)),
    PROBE_THROTTLED(new Observation.Probe(Verdict.TRANSIENT, "KMS unreachable", true, false)),
    DATA_OK(new Observation.DataPath(Verdict.OK, "data-path decrypt succeeded", false)),
    DATA_DENIAL(new Observation.DataPath(Verdict.DENIAL, "data-path decrypt: DISABLED", false)),
    DATA_TRANSIENT(new Observation.DataPath(Verdict.TRANSIENT, "data-path decrypt: 503", false)),
    DATA_THROTTLED(new Observation.DataPath(Verdict.TRANSIENT, "data-path decrypt: 429", true)),
    TICK(new Observation.Tick()),
    ACKNOWLEDGE(new Observation.Acknowledge());

    final Observation observation;

    Obs(Observation observation) {
      this.observation = observation;
    }
  }

  private static List<KeyEvent.Type> types(List<Notice> notices) {
    return notices.stream().map(Notice::type).toList();
  }

  private static List<KeyEvent.Type> parseTypes(String s) {
    return s.isBlank() || s.equals("-")
        ? List.of()
        : Arrays.stream(s.trim().split("\\s+")).map(KeyEvent.Type::valueOf).toList();
  }

  private static Set<Action> parseActions(String s) {
    return s.isBlank() || s.equals("-")
        ? Set.of()
        : Arrays.stream(s.trim().split("\\s+"))
            .map(Action::valueOf)
            .collect(Collectors.toCollection(() -> EnumSet.noneOf(Action.class)));
  }

  /**
   * The table: every from-state against every observation, auto-unlock on ({@code auto}) or off
   * ({@code manual}), grace 30 s. SUSPECT_IN_GRACE is 29 s after the first denial,
   * SUSPECT_PAST_GRACE 30 s.
   */
  @ParameterizedTest(name = "{0} {1} + {2} -> {3} events [{4}] actions [{5}]")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          auto   | ACTIVE                 | PROBE_OK                 | ACTIVE      | -                                                     | -
          auto   | ACTIVE                 | PROBE_OK_DESCRIBE_DENIED | ACTIVE      | MONITORING_DEGRADED                                   | -
          auto   | ACTIVE_DEGRADED        | PROBE_OK_DESCRIBE_DENIED | ACTIVE      | -                                                     | -
          auto   | ACTIVE                 | PROBE_DENIAL             | SUSPECT     | STATE_CHANGED                                         | PURGE
          auto   | ACTIVE                 | PROBE_TRANSIENT          | UNREACHABLE | STATE_CHANGED KMS_UNREACHABLE                         | -
          auto   | ACTIVE                 | PROBE_THROTTLED          | UNREACHABLE | THROTTLED STATE_CHANGED KMS_UNREACHABLE               | -
          auto   | ACTIVE                 | DATA_OK                  | ACTIVE      | -                                                     | -
          auto   | ACTIVE                 | DATA_DENIAL              | ACTIVE      | -                                                     | PROBE_NOW
          auto   | ACTIVE                 | DATA_TRANSIENT           | UNREACHABLE | STATE_CHANGED KMS_UNREACHABLE                         | -
          auto   | ACTIVE                 | DATA_THROTTLED           | UNREACHABLE | THROTTLED STATE_CHANGED KMS_UNREACHABLE               | -
          auto   | ACTIVE                 | TICK                     | ACTIVE      | -                                                     | -
          auto   | ACTIVE                 | ACKNOWLEDGE              | ACTIVE      | -                                                     | -
          auto   | UNREACHABLE            | PROBE_OK                 | ACTIVE      | STATE_CHANGED KMS_REACHABLE                           | -
          auto   | UNREACHABLE            | PROBE_OK_DESCRIBE_DENIED | ACTIVE      | MONITORING_DEGRADED STATE_CHANGED KMS_REACHABLE       | -
          auto   | UNREACHABLE            | PROBE_DENIAL             | SUSPECT     | STATE_CHANGED                                         | PURGE
          auto   | UNREACHABLE            | PROBE_TRANSIENT          | UNREACHABLE | -                                                     | -
          auto   | UNREACHABLE            | PROBE_THROTTLED          | UNREACHABLE | THROTTLED                                             | -
          auto   | UNREACHABLE            | DATA_OK                  | ACTIVE      | STATE_CHANGED KMS_REACHABLE                           | -
          auto   | UNREACHABLE            | DATA_DENIAL              | UNREACHABLE | -                                                     | PROBE_NOW
          auto   | UNREACHABLE            | DATA_TRANSIENT           | UNREACHABLE | -                                                     | -
          auto   | UNREACHABLE            | DATA_THROTTLED           | UNREACHABLE | THROTTLED                                             | -
          auto   | UNREACHABLE            | TICK                     | UNREACHABLE | -                                                     | -
          auto   | UNREACHABLE            | ACKNOWLEDGE              | UNREACHABLE | -                                                     | -
          auto   | SUSPECT_IN_GRACE       | PROBE_OK                 | ACTIVE      | STATE_CHANGED                                         | -
          auto   | SUSPECT_IN_GRACE       | PROBE_OK_DESCRIBE_DENIED | ACTIVE      | MONITORING_DEGRADED STATE_CHANGED                     | -
          auto   | SUSPECT_IN_GRACE       | PROBE_DENIAL             | SUSPECT     | -                                                     | -
          auto   | SUSPECT_IN_GRACE       | PROBE_TRANSIENT          | SUSPECT     | -                                                     | -
          auto   | SUSPECT_IN_GRACE       | PROBE_THROTTLED          | SUSPECT     | THROTTLED                                             | -
          auto   | SUSPECT_IN_GRACE       | DATA_OK                  | SUSPECT     | -                                                     | PROBE_NOW
          auto   | SUSPECT_IN_GRACE       | DATA_DENIAL              | SUSPECT     | -                                                     | PROBE_NOW
          auto   | SUSPECT_IN_GRACE       | DATA_TRANSIENT           | SUSPECT     | -                                                     | -
          auto   | SUSPECT_IN_GRACE       | DATA_THROTTLED           | SUSPECT     | THROTTLED                                             | -
          auto   | SUSPECT_IN_GRACE       | TICK                     | SUSPECT     | -                                                     | -
          auto   | SUSPECT_IN_GRACE       | ACKNOWLEDGE              | SUSPECT     | -                                                     | -
          auto   | SUSPECT_PAST_GRACE     | PROBE_OK                 | ACTIVE      | STATE_CHANGED                                         | -
          auto   | SUSPECT_PAST_GRACE     | PROBE_OK_DESCRIBE_DENIED | ACTIVE      | MONITORING_DEGRADED STATE_CHANGED                     | -
          auto   | SUSPECT_PAST_GRACE     | PROBE_DENIAL             | LOCKED      | STATE_CHANGED LOCKED                                  | LOCK
          auto   | SUSPECT_PAST_GRACE     | PROBE_TRANSIENT          | LOCKED      | STATE_CHANGED LOCKED                                  | LOCK
          auto   | SUSPECT_PAST_GRACE     | PROBE_THROTTLED          | LOCKED      | THROTTLED STATE_CHANGED LOCKED                        | LOCK
          auto   | SUSPECT_PAST_GRACE     | DATA_OK                  | SUSPECT     | -                                                     | PROBE_NOW
          auto   | SUSPECT_PAST_GRACE     | DATA_DENIAL              | SUSPECT     | -                                                     | PROBE_NOW
          auto   | SUSPECT_PAST_GRACE     | DATA_TRANSIENT           | SUSPECT     | -                                                     | -
          auto   | SUSPECT_PAST_GRACE     | DATA_THROTTLED           | SUSPECT     | THROTTLED                                             | -
          auto   | SUSPECT_PAST_GRACE     | TICK                     | SUSPECT     | -                                                     | -
          auto   | SUSPECT_PAST_GRACE     | ACKNOWLEDGE              | SUSPECT     | -                                                     | -
          auto   | LOCKED                 | PROBE_OK                 | ACTIVE      | STATE_CHANGED UNLOCKED                                | UNLOCK
          auto   | LOCKED                 | PROBE_OK_DESCRIBE_DENIED | ACTIVE      | MONITORING_DEGRADED STATE_CHANGED UNLOCKED            | UNLOCK
          auto   | LOCKED                 | PROBE_DENIAL             | LOCKED      | -                                                     | -
          auto   | LOCKED                 | PROBE_TRANSIENT          | LOCKED      | -                                                     | -
          auto   | LOCKED                 | PROBE_THROTTLED          | LOCKED      | THROTTLED                                             | -
          auto   | LOCKED                 | DATA_OK                  | LOCKED      | -                                                     | -
          auto   | LOCKED                 | DATA_DENIAL              | LOCKED      | -                                                     | -
          auto   | LOCKED                 | DATA_TRANSIENT           | LOCKED      | -                                                     | -
          auto   | LOCKED                 | DATA_THROTTLED           | LOCKED      | -                                                     | -
          auto   | LOCKED                 | TICK                     | LOCKED      | -                                                     | -
          auto   | LOCKED                 | ACKNOWLEDGE              | LOCKED      | -                                                     | -
          manual | LOCKED                 | PROBE_OK                 | LOCKED      | RESTORE_PENDING_ACKNOWLEDGEMENT                       | -
          manual | LOCKED                 | ACKNOWLEDGE              | LOCKED      | -                                                     | -
          manual | LOCKED_RESTORE_PENDING | PROBE_OK                 | LOCKED      | -                                                     | -
          manual | LOCKED_RESTORE_PENDING | PROBE_DENIAL             | LOCKED      | -                                                     | -
          manual | LOCKED_RESTORE_PENDING | DATA_OK                  | LOCKED      | -                                                     | -
          manual | LOCKED_RESTORE_PENDING | ACKNOWLEDGE              | ACTIVE      | STATE_CHANGED UNLOCKED                                | UNLOCK
          """)
  void table(String unlock, From from, Obs obs, KeyMonitorState to, String events, String actions) {
    KeyStateMachine m = unlock.equals("auto") ? AUTO : MANUAL;
    long now = T0 + from.secondsLater * S;
    Step step = m.step(from.status, obs.observation, now);

    assertThat(step.status().state()).as("state").isEqualTo(to);
    assertThat(types(step.notices())).as("events").isEqualTo(parseTypes(events));
    assertThat(step.actions()).as("actions").isEqualTo(parseActions(actions));
    for (Notice n : step.notices()) {
      assertThat(n.from()).as("from of %s", n).isEqualTo(from.status.state());
      boolean afterMove =
          n.type() != KeyEvent.Type.THROTTLED && n.type() != KeyEvent.Type.MONITORING_DEGRADED;
      assertThat(n.to()).as("to of %s", n).isEqualTo(afterMove ? to : from.status.state());
    }
    if (to == KeyMonitorState.SUSPECT && from.status.state() != KeyMonitorState.SUSPECT) {
      assertThat(step.status().firstDenialNanos()).isEqualTo(now);
      assertThat(step.notices().get(0).lockIn()).isEqualTo(GRACE);
    }
  }

  @Test
  void aDenialAfterARestoreWasAnnouncedWithdrawsIt() {
    Step denied =
        MANUAL.step(From.LOCKED_RESTORE_PENDING.status, Obs.PROBE_DENIAL.observation, T0 + 10 * S);
    assertThat(denied.status().restorePending()).isFalse();
    Step ack = MANUAL.step(denied.status(), Obs.ACKNOWLEDGE.observation, T0 + 11 * S);
    assertThat(ack.status().state()).isEqualTo(KeyMonitorState.LOCKED);
    Step again = MANUAL.step(ack.status(), Obs.PROBE_OK.observation, T0 + 12 * S);
    assertThat(types(again.notices()))
        .as("a new restore is announced again, once")
        .containsExactly(KeyEvent.Type.RESTORE_PENDING_ACKNOWLEDGEMENT);
  }

  @Test
  void withNoGracePeriodTheFirstDenyingProbeLocks() {
    KeyStateMachine m = new KeyStateMachine(Duration.ZERO, true, null);
    Step s = m.step(From.ACTIVE.status, Obs.PROBE_DENIAL.observation, T0);
    assertThat(s.status().state()).isEqualTo(KeyMonitorState.LOCKED);
    assertThat(types(s.notices()))
        .containsExactly(KeyEvent.Type.STATE_CHANGED, KeyEvent.Type.LOCKED);
    assertThat(s.actions()).containsExactlyInAnyOrder(Action.PURGE, Action.LOCK);
    Step data = m.step(From.ACTIVE.status, Obs.DATA_DENIAL.observation, T0);
    assertThat(data.status().state())
        .as("a data-path denial still only asks for a probe")
        .isEqualTo(KeyMonitorState.ACTIVE);
  }

  @Test
  void theOptInUnreachableLockFiresOnTheTickThatReachesIt() {
    KeyStateMachine m = new KeyStateMachine(GRACE, true, Duration.ofHours(1));
    Status unreachable = From.UNREACHABLE.status;
    assertThat(m.step(unreachable, new Observation.Tick(), T0 + 3599 * S).status().state())
        .isEqualTo(KeyMonitorState.UNREACHABLE);
    Step s = m.step(unreachable, new Observation.Tick(), T0 + 3600 * S);
    assertThat(s.status().state()).isEqualTo(KeyMonitorState.LOCKED);
    assertThat(types(s.notices()))
        .containsExactly(KeyEvent.Type.STATE_CHANGED, KeyEvent.Type.LOCKED);
    assertThat(s.actions()).containsExactly(Action.LOCK);
    assertThat(AUTO.step(unreachable, new Observation.Tick(), T0 + 100 * 3600 * S).status().state())
        .as("never, by default")
        .isEqualTo(KeyMonitorState.UNREACHABLE);
  }

  /**
   * Issue 11, hole 6: after DisableKey, AWS keeps decrypting for a while. DescribeKey's DISABLED
   * makes the key SUSPECT; a successful data-path decrypt every second must not bring it back, and
   * the probe at the end of the grace period locks it: one STATE_CHANGED each way, no flips.
   */
  @Test
  void aKmsThatKeepsDecryptingWhileDescribeKeySaysDisabledLocksAtTheEndOfTheGracePeriod() {
    KeyDescription disabled =
        new KeyDescription(
            "arn:aws:kms:us-east-1:111122223333:key/k", KeyState.DISABLED, null, null);
    Observation probe = KeyStateMachine.classifyProbe(disabled, null, true, null);
    Status s = Status.initial();
    List<Notice> events = new ArrayList<>();
    long lockedAt = -1;
    for (int sec = 0; sec <= 60 && lockedAt < 0; sec++) {
      long now = T0 + sec * S;
      List<Observation> seen = new ArrayList<>();
      seen.add(new Observation.DataPath(Verdict.OK, "data-path decrypt succeeded", false));
      if (sec % 15 == 0) {
        seen.add(probe); // the monitor's schedule for a SUSPECT key
      }
      for (Observation o : seen) {
        Step step = AUTO.step(s, o, now);
        s = step.status();
        events.addAll(step.notices());
        if (s.state() == KeyMonitorState.LOCKED && lockedAt < 0) {
          lockedAt = sec;
        }
      }
      if (sec > 0 && lockedAt < 0) {
        assertThat(s.state()).as("at %d s", sec).isEqualTo(KeyMonitorState.SUSPECT);
      }
    }
    assertThat(lockedAt).as("seconds from the first DISABLED to LOCKED").isEqualTo(30);
    assertThat(types(events))
        .containsExactly(
            KeyEvent.Type.STATE_CHANGED, KeyEvent.Type.STATE_CHANGED, KeyEvent.Type.LOCKED);
    assertThat(events.get(0).to()).isEqualTo(KeyMonitorState.SUSPECT);
    assertThat(events.get(1).to()).isEqualTo(KeyMonitorState.LOCKED);
  }

  // ------------------------------------------------------------------ probe classification

  enum Describe {
    ENABLED,
    DISABLED,
    PENDING_DELETION,
    ACCESS_DENIED,
    NOT_FOUND,
    THROTTLED
  }

  enum Canary {
    OK,
    WRONG_VALUE,
    DENIED,
    UNAVAILABLE,
    THROTTLED,
    REJECTED,
    CONFIGURATION
  }

  private static final String ARN = "arn:aws:kms:us-east-1:111122223333:key/k";

  private static @Nullable KeyDescription description(Describe d) {
    return switch (d) {
      case ENABLED -> new KeyDescription(ARN, KeyState.ENABLED, null, null);
      case DISABLED -> new KeyDescription(ARN, KeyState.DISABLED, null, null);
      case PENDING_DELETION -> new KeyDescription(ARN, KeyState.PENDING_DELETION, null, null);
      default -> null;
    };
  }

  private static @Nullable ByokException describeFailure(Describe d) {
    return switch (d) {
      case ACCESS_DENIED ->
          new KeyUnusableException(KeyUnusableException.Reason.ACCESS_DENIED, ARN, "no", null);
      case NOT_FOUND ->
          new KeyUnusableException(KeyUnusableException.Reason.NOT_FOUND, ARN, "no", null);
      case THROTTLED -> new KmsUnavailableException("slow down", true, null);
      default -> null;
    };
  }

  private static @Nullable ByokException canaryFailure(Canary c) {
    return switch (c) {
      case DENIED ->
          new KeyUnusableException(KeyUnusableException.Reason.DISABLED, ARN, "disabled", null);
      case UNAVAILABLE -> new KmsUnavailableException("503", false, null);
      case THROTTLED -> new KmsUnavailableException("429", true, null);
      case REJECTED ->
          new InvalidCiphertextException(
              InvalidCiphertextException.Reason.WRAPPED_KEY_REJECTED, "corrupt");
      case CONFIGURATION -> new ByokConfigurationException("wrong key usage");
      default -> null;
    };
  }

  /**
   * Every DescribeKey outcome against every canary outcome. Columns: ENABLED, DISABLED,
   * PENDING_DELETION, ACCESS_DENIED, NOT_FOUND, THROTTLED (DescribeKey); cells: verdict, with
   * {@code +d} when DescribeKey was refused (MONITORING_DEGRADED) and {@code +t} when throttled.
   */
  @ParameterizedTest(name = "canary {0}: {1}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          OK            | OK          DENIAL DENIAL OK+d          OK+d          OK
          WRONG_VALUE   | TRANSIENT   DENIAL DENIAL TRANSIENT+d   TRANSIENT+d   TRANSIENT
          DENIED        | DENIAL      DENIAL DENIAL DENIAL+d      DENIAL+d      DENIAL
          UNAVAILABLE   | TRANSIENT   DENIAL DENIAL TRANSIENT+d   TRANSIENT+d   TRANSIENT
          THROTTLED     | TRANSIENT+t DENIAL DENIAL TRANSIENT+d+t TRANSIENT+d+t TRANSIENT+t
          REJECTED      | TRANSIENT   DENIAL DENIAL TRANSIENT+d   TRANSIENT+d   TRANSIENT
          CONFIGURATION | TRANSIENT   DENIAL DENIAL TRANSIENT+d   TRANSIENT+d   TRANSIENT
          """)
  void probeClassification(Canary canary, String row) {
    String[] cells = row.trim().split("\\s+");
    Describe[] describes = Describe.values();
    assertThat(cells).hasSameSizeAs(describes);
    for (int i = 0; i < describes.length; i++) {
      Describe d = describes[i];
      Observation.Probe p =
          KeyStateMachine.classifyProbe(
              description(d), describeFailure(d), canary == Canary.OK, canaryFailure(canary));
      String actual = p.verdict() + (p.describeDenied() ? "+d" : "") + (p.throttled() ? "+t" : "");
      assertThat(actual)
          .as("DescribeKey %s, canary %s (%s)", d, canary, p.reason())
          .isEqualTo(cells[i]);
      if (d == Describe.DISABLED || d == Describe.PENDING_DELETION) {
        assertThat(p.reason()).contains(d.name());
      }
    }
  }

  // ------------------------------------------------------------------ one event per change

  @Provide
  Arbitrary<List<Obs>> runs() {
    return Arbitraries.of(Obs.class).list().ofMinSize(1).ofMaxSize(60);
  }

  /**
   * Any run of observations, one second apart, under any setting: every STATE_CHANGED is a real
   * change from the state before, every change has exactly one STATE_CHANGED, LOCKED and UNLOCKED
   * come with the lock and unlock actions, and SUSPECT is only ever entered from a probe.
   */
  @Property(tries = 300)
  void oneStateChangedPerChangeOfState(
      @ForAll("runs") List<Obs> run, @ForAll boolean autoUnlock, @ForAll("graces") Duration grace) {
    KeyStateMachine m = new KeyStateMachine(grace, autoUnlock, Duration.ofSeconds(40));
    Status s = Status.initial();
    long now = T0;
    for (Obs o : run) {
      now += S;
      Step step = m.step(s, o.observation, now);
      KeyMonitorState before = s.state();
      KeyMonitorState after = step.status().state();
      List<Notice> changes =
          step.notices().stream().filter(n -> n.type() == KeyEvent.Type.STATE_CHANGED).toList();
      if (before == after) {
        assertThat(changes).as("%s + %s", before, o).isEmpty();
      } else {
        assertThat(changes).as("%s + %s", before, o).hasSize(1);
        assertThat(changes.get(0).from()).isEqualTo(before);
        assertThat(changes.get(0).to()).isEqualTo(after);
        if (after == KeyMonitorState.SUSPECT) {
          assertThat(o.observation).isInstanceOf(Observation.Probe.class);
        }
      }
      assertThat(types(step.notices()).contains(KeyEvent.Type.LOCKED))
          .isEqualTo(step.actions().contains(Action.LOCK))
          .isEqualTo(after == KeyMonitorState.LOCKED && before != KeyMonitorState.LOCKED);
      assertThat(types(step.notices()).contains(KeyEvent.Type.UNLOCKED))
          .isEqualTo(step.actions().contains(Action.UNLOCK))
          .isEqualTo(before == KeyMonitorState.LOCKED && after != KeyMonitorState.LOCKED);
      s = step.status();
    }
  }

  @Provide
  Arbitrary<Duration> graces() {
    return Arbitraries.of(Duration.ZERO, Duration.ofSeconds(5), GRACE);
  }
}
