package dev.byok.monitor;

import dev.byok.ByokException;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.spi.KeyDescription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The monitor's state machine as a pure function: {@link #step(Status, Observation, long)} maps a
 * key's status, one observation and the monotonic time to the next status, the events to tell the
 * host and the actions to apply to the data key manager. No I/O, no clock, no locks: probe I/O,
 * scheduling and dispatch are the {@link KeyStateMonitor}'s. The table it implements is in
 * docs/key-lifecycle.md ("The state machine").
 *
 * <p>Rules in one place:
 *
 * <ul>
 *   <li>Only a probe is authoritative about the key. A data-path denial asks for a probe ({@link
 *       Action#PROBE_NOW}) and changes nothing by itself; a data-path success never clears SUSPECT
 *       (while DescribeKey says Disabled, AWS may keep decrypting for a while) but asks for a probe
 *       too. A data-path result does say whether the KMS is reachable.
 *   <li>A probe is a denial when DescribeKey reports an unusable key state (whatever the canary
 *       says) or the canary is refused; it is OK when the canary decrypts and DescribeKey does not
 *       report an unusable state.
 *   <li>SUSPECT becomes LOCKED at the first probe at or after {@code firstDenial + grace} that is a
 *       denial or cannot reach the KMS; with a zero grace period the first denying probe locks.
 *   <li>Only a passing probe lifts LOCKED (auto-unlock), or the host's acknowledgement after one.
 *   <li>Every change of state emits exactly one {@link KeyEvent.Type#STATE_CHANGED}, followed by
 *       its typed notice where there is one (LOCKED, UNLOCKED, KMS_UNREACHABLE, KMS_REACHABLE); no
 *       observation that leaves the state unchanged emits STATE_CHANGED.
 * </ul>
 *
 * <p>Immutable and thread-safe.
 */
final class KeyStateMachine {
  private final Duration grace;
  private final boolean autoUnlock;
  private final @Nullable Duration lockWhenUnreachableFor;

  KeyStateMachine(Duration grace, boolean autoUnlock, @Nullable Duration lockWhenUnreachableFor) {
    this.grace = Objects.requireNonNull(grace, "grace");
    this.autoUnlock = autoUnlock;
    this.lockWhenUnreachableFor = lockWhenUnreachableFor;
  }

  // ------------------------------------------------------------------ the types

  /**
   * What the machine remembers about one key.
   *
   * @param state the state
   * @param firstDenialNanos monotonic time of the denial that made the key SUSPECT (SUSPECT only)
   * @param unreachableSinceNanos monotonic time the key became UNREACHABLE (UNREACHABLE only)
   * @param restorePending LOCKED, auto-unlock off, and a probe passed: waiting for the host
   * @param degraded DescribeKey is refused while the canary decrypts
   * @param reason the last reason, in plain words
   */
  record Status(
      KeyMonitorState state,
      @Nullable Long firstDenialNanos,
      @Nullable Long unreachableSinceNanos,
      boolean restorePending,
      boolean degraded,
      String reason) {
    Status {
      Objects.requireNonNull(state, "state");
      Objects.requireNonNull(reason, "reason");
    }

    /** {@return the status of a key not probed yet} */
    static Status initial() {
      return new Status(KeyMonitorState.ACTIVE, null, null, false, false, "not probed yet");
    }

    Status with(KeyMonitorState s, String why) {
      return new Status(
          s,
          s == KeyMonitorState.SUSPECT ? firstDenialNanos : null,
          s == KeyMonitorState.UNREACHABLE ? unreachableSinceNanos : null,
          s == KeyMonitorState.LOCKED && restorePending,
          degraded,
          why);
    }

    Status reason(String why) {
      return new Status(
          state, firstDenialNanos, unreachableSinceNanos, restorePending, degraded, why);
    }
  }

  /** What a probe or a data-path call concluded about a key. */
  enum Verdict {
    /** The key works (probe: the canary decrypts and DescribeKey reports no unusable state). */
    OK,
    /** The KMS refused the key, or DescribeKey reports it unusable. */
    DENIAL,
    /** The KMS could not be reached or the probe says nothing about the key. */
    TRANSIENT
  }

  /** One input of the machine. */
  sealed interface Observation
      permits Observation.Probe, Observation.DataPath, Observation.Tick, Observation.Acknowledge {
    /**
     * A probe (DescribeKey and the canary). Authoritative.
     *
     * @param verdict what it concluded
     * @param reason why, in plain words
     * @param throttled the KMS throttled it
     * @param describeDenied DescribeKey was refused (monitoring permissions missing)
     */
    record Probe(Verdict verdict, String reason, boolean throttled, boolean describeDenied)
        implements Observation {}

    /**
     * What the data path saw since the last round (one per key and round, coalesced).
     *
     * @param verdict the outcome: a denial or success asks for a probe; a transient failure means
     *     the KMS is unreachable
     * @param reason why, in plain words
     * @param throttled the KMS throttled a call
     */
    record DataPath(Verdict verdict, String reason, boolean throttled) implements Observation {}

    /** Time passed (one scheduler round): applies timers. */
    record Tick() implements Observation {}

    /** The host acknowledged a restore ({@link KeyStateMonitor#acknowledgeRestore}). */
    record Acknowledge() implements Observation {}
  }

  /** What the monitor must do to the data key manager (or its schedule) after a step. */
  enum Action {
    /** Purge cached data keys under the key (it is in doubt). */
    PURGE,
    /** Lock the key in the data key manager (purges and refuses). */
    LOCK,
    /** Lift the lock. */
    UNLOCK,
    /** Probe the key as soon as the triggered-probe rate allows. */
    PROBE_NOW
  }

  /**
   * An event to tell the host, without the key's identity and wall-clock time (the monitor adds
   * them).
   *
   * @param type the kind
   * @param from state before
   * @param to state after
   * @param reason why
   * @param lockIn for STATE_CHANGED to SUSPECT: how long until the key locks unless it answers
   */
  record Notice(
      KeyEvent.Type type,
      KeyMonitorState from,
      KeyMonitorState to,
      String reason,
      @Nullable Duration lockIn) {}

  /**
   * The result of one step.
   *
   * @param status the next status
   * @param notices the events, in order
   * @param actions the actions
   */
  record Step(Status status, List<Notice> notices, Set<Action> actions) {
    Step {
      notices = List.copyOf(notices);
      actions = actions.isEmpty() ? Set.of() : Set.copyOf(actions);
    }
  }

  // ------------------------------------------------------------------ probe classification

  /**
   * Classifies a probe's results (the "probe verdict" table of docs/key-lifecycle.md).
   *
   * @param description DescribeKey's answer, or {@code null} if it failed
   * @param describeFailure DescribeKey's failure, or {@code null}
   * @param canaryOk whether the canary decrypted to its value
   * @param canaryFailure the canary's failure, or {@code null}
   * @return the observation
   */
  static Observation.Probe classifyProbe(
      @Nullable KeyDescription description,
      @Nullable ByokException describeFailure,
      boolean canaryOk,
      @Nullable ByokException canaryFailure) {
    boolean describeDenied = describeFailure instanceof KeyUnusableException;
    if (description != null && !description.state().usable()) {
      // authoritative whatever the canary says: AWS may keep decrypting after DisableKey
      return new Observation.Probe(
          Verdict.DENIAL, "KMS reports the key " + description.state(), false, false);
    }
    if (canaryOk) {
      return new Observation.Probe(
          Verdict.OK,
          describeFailure instanceof KeyUnusableException refused
              ? "DescribeKey fails (" + refused.getMessage() + ") but the canary decrypts"
              : "canary decrypts",
          false,
          describeDenied);
    }
    if (canaryFailure instanceof KeyUnusableException denied) {
      return new Observation.Probe(
          Verdict.DENIAL, "canary refused: " + denied.reason(), false, describeDenied);
    }
    if (canaryFailure instanceof KmsUnavailableException down) {
      return new Observation.Probe(
          Verdict.TRANSIENT,
          "KMS unreachable: " + down.getMessage(),
          down.throttled(),
          describeDenied);
    }
    // a broken canary or a configuration problem says nothing about revocation
    String why =
        canaryFailure == null
            ? "canary decrypted to the wrong value"
            : canaryFailure instanceof InvalidCiphertextException
                ? "canary rejected: " + canaryFailure.getMessage()
                : "probe failed: " + canaryFailure.getMessage();
    return new Observation.Probe(Verdict.TRANSIENT, why, false, describeDenied);
  }

  // ------------------------------------------------------------------ the function

  /**
   * The transition function.
   *
   * @param s the key's status
   * @param o what was observed
   * @param nowNanos monotonic time
   * @return next status, events and actions
   */
  Step step(Status s, Observation o, long nowNanos) {
    Out out = new Out(s);
    if (o instanceof Observation.Probe p) {
      probe(out, p, nowNanos);
    } else if (o instanceof Observation.DataPath d) {
      dataPath(out, d, nowNanos);
    } else if (o instanceof Observation.Tick) {
      timers(out, nowNanos);
    } else if (o instanceof Observation.Acknowledge) {
      if (s.state() == KeyMonitorState.LOCKED && s.restorePending()) {
        unlock(out, "restore acknowledged by the host");
      }
    }
    return new Step(out.status, out.notices, out.actions);
  }

  private static final class Out {
    Status status;
    final List<Notice> notices = new ArrayList<>();
    final Set<Action> actions = EnumSet.noneOf(Action.class);

    Out(Status status) {
      this.status = status;
    }

    KeyMonitorState state() {
      return status.state();
    }

    void notice(KeyEvent.Type type, KeyMonitorState from, String reason) {
      notices.add(new Notice(type, from, status.state(), reason, null));
    }

    /** Moves to {@code to} and emits the one STATE_CHANGED. */
    void move(KeyMonitorState to, String reason, @Nullable Duration lockIn) {
      KeyMonitorState from = status.state();
      status = status.with(to, reason);
      if (from != to) {
        notices.add(new Notice(KeyEvent.Type.STATE_CHANGED, from, to, reason, lockIn));
      }
    }
  }

  private void probe(Out out, Observation.Probe p, long now) {
    KeyMonitorState s = out.state();
    if (p.throttled()) {
      out.notice(KeyEvent.Type.THROTTLED, s, p.reason());
    }
    switch (p.verdict()) {
      case OK -> {
        if (p.describeDenied() && !out.status.degraded()) {
          out.notice(KeyEvent.Type.MONITORING_DEGRADED, s, p.reason());
        }
        out.status =
            new Status(
                out.status.state(),
                out.status.firstDenialNanos(),
                out.status.unreachableSinceNanos(),
                out.status.restorePending(),
                p.describeDenied(),
                out.status.reason());
        switch (s) {
          case ACTIVE -> out.status = out.status.reason(p.reason());
          case UNREACHABLE -> reachable(out, p.reason());
          case SUSPECT ->
              out.move(
                  KeyMonitorState.ACTIVE,
                  "key answers again within the grace period: " + p.reason(),
                  null);
          case LOCKED -> {
            if (autoUnlock) {
              unlock(out, "key usable again: " + p.reason());
            } else if (!out.status.restorePending()) {
              Status st = out.status;
              out.status =
                  new Status(
                      st.state(),
                      null,
                      null,
                      true,
                      st.degraded(),
                      "key usable again: " + p.reason());
              out.notice(
                  KeyEvent.Type.RESTORE_PENDING_ACKNOWLEDGEMENT,
                  s,
                  "key usable again; waiting for the host to acknowledge");
            }
          }
        }
      }
      case DENIAL -> {
        switch (s) {
          case ACTIVE, UNREACHABLE -> {
            if (grace.isZero()) {
              out.actions.add(Action.PURGE);
              lock(out, "denied (no grace period): " + p.reason());
            } else {
              out.status =
                  new Status(
                      s, now, out.status.unreachableSinceNanos(), false, out.status.degraded(), "");
              out.move(KeyMonitorState.SUSPECT, p.reason(), grace);
              out.actions.add(Action.PURGE); // no cached data key is served while in doubt
            }
          }
          case SUSPECT -> {
            long first = Objects.requireNonNull(out.status.firstDenialNanos());
            if (now - first >= grace.toNanos()) {
              lock(
                  out,
                  "denied for " + Duration.ofNanos(now - first).toSeconds() + " s: " + p.reason());
            } else {
              out.status = out.status.reason(p.reason());
            }
          }
          case LOCKED -> {
            Status st = out.status;
            out.status = new Status(st.state(), null, null, false, st.degraded(), p.reason());
          }
        }
      }
      case TRANSIENT -> {
        switch (s) {
          case ACTIVE -> unreachable(out, p.reason(), now);
          case SUSPECT -> {
            long first = Objects.requireNonNull(out.status.firstDenialNanos());
            if (now - first >= grace.toNanos()) {
              // the grace period is over and the last authoritative answer was a denial
              lock(out, "denied, then unreachable past the grace period: " + out.status.reason());
            }
          }
          default -> {}
        }
        timers(out, now);
      }
    }
  }

  private void dataPath(Out out, Observation.DataPath d, long now) {
    KeyMonitorState s = out.state();
    if (s == KeyMonitorState.LOCKED) {
      return; // the manager refuses a locked key locally; nothing the data path says matters
    }
    switch (d.verdict()) {
      case OK -> {
        if (s == KeyMonitorState.UNREACHABLE) {
          reachable(out, d.reason());
        } else if (s == KeyMonitorState.SUSPECT) {
          out.actions.add(Action.PROBE_NOW); // not authoritative: a probe decides
        }
      }
      case DENIAL -> out.actions.add(Action.PROBE_NOW); // not authoritative: a probe decides
      case TRANSIENT -> {
        if (d.throttled()) {
          out.notice(KeyEvent.Type.THROTTLED, s, d.reason());
        }
        if (s == KeyMonitorState.ACTIVE) {
          unreachable(out, d.reason(), now);
        }
        timers(out, now);
      }
    }
  }

  /** Time-driven transition: the opt-in lock after a long KMS outage. */
  private void timers(Out out, long now) {
    Status st = out.status;
    Long since = st.unreachableSinceNanos();
    if (st.state() == KeyMonitorState.UNREACHABLE
        && lockWhenUnreachableFor != null
        && since != null
        && now - since >= lockWhenUnreachableFor.toNanos()) {
      lock(
          out,
          "KMS unreachable for "
              + Duration.ofNanos(now - since).toMinutes()
              + " min (opt-in policy)");
    }
  }

  private static void reachable(Out out, String reason) {
    KeyMonitorState from = out.state();
    out.move(KeyMonitorState.ACTIVE, "KMS reachable again: " + reason, null);
    out.notice(KeyEvent.Type.KMS_REACHABLE, from, reason);
  }

  private static void unreachable(Out out, String reason, long now) {
    KeyMonitorState from = out.state();
    Status st = out.status;
    out.status = new Status(from, st.firstDenialNanos(), now, false, st.degraded(), st.reason());
    out.move(KeyMonitorState.UNREACHABLE, reason, null);
    out.notice(KeyEvent.Type.KMS_UNREACHABLE, from, reason);
  }

  private static void lock(Out out, String reason) {
    KeyMonitorState from = out.state();
    out.move(KeyMonitorState.LOCKED, reason, null);
    out.actions.add(Action.LOCK);
    out.notice(KeyEvent.Type.LOCKED, from, reason);
  }

  private static void unlock(Out out, String reason) {
    KeyMonitorState from = out.state();
    out.move(KeyMonitorState.ACTIVE, reason, null);
    out.actions.add(Action.UNLOCK);
    out.notice(KeyEvent.Type.UNLOCKED, from, reason);
  }
}
