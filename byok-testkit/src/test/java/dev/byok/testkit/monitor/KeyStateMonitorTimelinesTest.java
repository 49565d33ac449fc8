package dev.byok.testkit.monitor;

import static dev.byok.monitor.KeyEvent.Type.DELETION_SCHEDULED;
import static dev.byok.monitor.KeyEvent.Type.KEY_MATERIAL_ROTATED;
import static dev.byok.monitor.KeyEvent.Type.KEY_RETARGETED;
import static dev.byok.monitor.KeyEvent.Type.KMS_REACHABLE;
import static dev.byok.monitor.KeyEvent.Type.KMS_UNREACHABLE;
import static dev.byok.monitor.KeyEvent.Type.LOCKED;
import static dev.byok.monitor.KeyEvent.Type.MONITORING_DEGRADED;
import static dev.byok.monitor.KeyEvent.Type.STATE_CHANGED;
import static dev.byok.monitor.KeyEvent.Type.UNLOCKED;
import static dev.byok.monitor.KeyMonitorState.ACTIVE;
import static dev.byok.monitor.KeyMonitorState.SUSPECT;
import static dev.byok.monitor.KeyMonitorState.UNREACHABLE;
import static dev.byok.testkit.monitor.MonitorHarness.plaintext;
import static dev.byok.testkit.monitor.MonitorHarness.slotArn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.DataKeyPolicy;
import dev.byok.KeyRef;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.kms.local.InMemoryKms;
import dev.byok.monitor.KeyEvent;
import dev.byok.monitor.KeyMonitorState;
import dev.byok.testkit.FakeKmsExtension;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The timelines of issue 5, on the manual clock with the default monitor settings (probe every 5
 * min ± 10 %, suspect probes every 15 s, 30 s grace, 1 s rounds) unless a test says otherwise.
 */
class KeyStateMonitorTimelinesTest {
  private static final KeyMonitorState LOCKED_STATE = KeyMonitorState.LOCKED;
  private static final Duration GRACE = Duration.ofSeconds(30);

  /** Probe interval × (1 + jitter): the longest a healthy key goes unprobed. */
  private static final Duration LONGEST_PROBE_GAP = Duration.ofSeconds(330);

  /** The documented worst case without traffic: longest probe gap + grace + one 1 s round. */
  private static final Duration DOCUMENTED_BOUND = Duration.ofMinutes(6).plusSeconds(1);

  @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();

  private static ExpectedEvent ev(KeyEvent.Type type, KeyMonitorState from, KeyMonitorState to) {
    return ExpectedEvent.of(type, from, to);
  }

  private static void assertUnusable(Runnable call, KeyUnusableException.Reason reason) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            KeyUnusableException.class, e -> assertThat(e.reason()).isEqualTo(reason));
  }

  // ------------------------------------------------------------------ revocation and restore

  @ParameterizedTest(name = "jitter seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 6})
  void keyDisabledRightAfterAProbeIsLockedWithinTheBoundThenUnlockedAtTheNextProbeAfterEnable(
      long seed) {
    MonitorHarness h = MonitorHarness.started(fake, b -> {}, m -> m.seed(seed));
    byte[] blob = h.encrypt(plaintext(1));
    assertThat(h.decrypt(blob)).isEqualTo(plaintext(1));
    assertThat(h.byok.keys().cachedKeys()).isEqualTo(1);

    // worst case: revoked just after a probe, so the next one is a whole jittered interval away
    Instant t0 = h.driveUntilProbed(LONGEST_PROBE_GAP);
    h.api.disableKey(h.keyArn);

    Instant suspectAt = h.driveUntilProbed(LONGEST_PROBE_GAP);
    assertThat(h.monitor.state(h.alias)).as("SUSPECT at the next probe").isEqualTo(SUSPECT);
    assertThat(h.byok.keys().cachedKeys()).as("cached data keys purged once in doubt").isZero();
    Instant lockedAt = h.driveUntil(LOCKED_STATE, GRACE.plusSeconds(1));

    List<KeyEvent> events = h.drain();
    ExpectedEvent.assertEvents(events, ExpectedEvent.deniedThenLocked(GRACE, "DISABLED"));
    assertThat(events.get(0).at()).isEqualTo(suspectAt);
    assertThat(events.get(0).keyArn()).isEqualTo(h.keyArn);
    assertThat(lockedAt)
        .as("locked when the announced grace ends")
        .isEqualTo(events.get(0).lockAt());
    assertThat(events.get(2).at()).isEqualTo(lockedAt);
    Duration took = Duration.between(t0, lockedAt);
    assertThat(took)
        .as("revocation to LOCKED")
        .isLessThanOrEqualTo(DOCUMENTED_BOUND)
        .isLessThanOrEqualTo(Duration.ofMinutes(15));

    h.assertDecryptRefusedLocally(blob);
    int calls = h.api.callLog().size();
    assertUnusable(() -> h.encrypt(plaintext(2)), KeyUnusableException.Reason.LOCKED);
    assertThat(h.api.callLog()).as("KMS calls of a refused encrypt").hasSize(calls);

    h.api.enableKey(h.keyArn);
    int probesBefore = h.api.calls("DescribeKey");
    h.driveUntil(ACTIVE, LONGEST_PROBE_GAP.multipliedBy(2));
    assertThat(h.api.calls("DescribeKey") - probesBefore).as("probes until unlocked").isEqualTo(1);
    ExpectedEvent.assertEvents(
        h.drain(),
        List.of(ev(STATE_CHANGED, LOCKED_STATE, ACTIVE), ev(UNLOCKED, LOCKED_STATE, ACTIVE)));
    assertThat(h.byok.keys().isLocked(h.keyArn)).isFalse();
    assertThat(h.decrypt(blob)).isEqualTo(plaintext(1));
    assertThat(h.decrypt(h.encrypt(plaintext(3)))).isEqualTo(plaintext(3));
  }

  enum Traffic {
    ENCRYPT,
    DECRYPT
  }

  @ParameterizedTest
  @EnumSource(Traffic.class)
  void withDataPathCallsFlowingTheKeyIsSuspectAtTheFirstDenialAndLockedThirtySecondsLater(
      Traffic traffic) {
    // every blob gets its own data key, so every encrypt, and every first decrypt, calls the KMS
    MonitorHarness h =
        MonitorHarness.started(fake, b -> b.dataKeyPolicy(DataKeyPolicy.noReuse()), m -> {});
    List<byte[]> blobs = new ArrayList<>();
    for (int i = 0; i < 80; i++) {
      blobs.add(h.encrypt(plaintext(i)));
    }
    for (int i = 0; i < 40; i++) {
      assertThat(h.decrypt(blobs.get(i)))
          .isEqualTo(plaintext(i)); // 40 data keys under the KEK cached
    }
    h.drive(Duration.ofSeconds(20));
    h.api.disableKey(h.keyArn);
    Instant t0 = h.clock.instant();

    // one call per second, starting at t0, until the monitor locks the key
    int i = 0;
    while (h.monitor.state(h.alias) != LOCKED_STATE) {
      int n = i++;
      Runnable call =
          traffic == Traffic.ENCRYPT
              ? () -> h.encrypt(plaintext(100 + n))
              : () -> h.decrypt(blobs.get(40 + n));
      assertUnusable(call, KeyUnusableException.Reason.DISABLED);
      if (n == 0) {
        assertThat(h.monitor.state(h.alias))
            .as("a data-path denial by itself changes nothing")
            .isEqualTo(ACTIVE);
        h.monitor.runDueProbes(); // the round takes it up: an immediate probe confirms it
        assertThat(h.monitor.state(h.alias))
            .as("SUSPECT in the round after the first denied call")
            .isEqualTo(SUSPECT);
        assertThat(h.byok.keys().cachedKeys()).as("cached data keys purged").isZero();
      }
      h.step();
      assertThat(i).as("seconds of traffic before LOCKED").isLessThanOrEqualTo(60);
    }
    List<KeyEvent> events = h.drain();
    ExpectedEvent.assertEvents(events, ExpectedEvent.deniedThenLocked(GRACE, "DISABLED"));
    assertThat(events.get(0).at()).isEqualTo(t0);
    assertThat(Duration.between(t0, events.get(2).at()))
        .as("first denial to LOCKED")
        .isEqualTo(GRACE);

    int calls = h.api.callLog().size();
    assertUnusable(() -> h.encrypt(plaintext(999)), KeyUnusableException.Reason.LOCKED);
    h.assertDecryptRefusedLocally(blobs.get(79));
    h.assertDecryptRefusedLocally(blobs.get(0));
    assertThat(h.api.callLog()).hasSize(calls);
  }

  // ------------------------------------------------------------------ things that must not lock

  @Test
  void aSixHourOutageNeverLocksCachedReadsKeepWorkingAndNewEncryptsFailRetryably() {
    // a host that means to ride out long outages keeps unwrapped data keys long enough
    MonitorHarness h =
        MonitorHarness.started(fake, b -> b.decryptCache(100, Duration.ofHours(12)), m -> {});
    byte[] blob = h.encrypt(plaintext(1));
    assertThat(h.decrypt(blob)).isEqualTo(plaintext(1));
    Instant dataKeyCreated = h.clock.instant();

    h.api.startOutage();
    byte[] during = h.encrypt(plaintext(2));
    assertThat(slotArn(during)).as("the active data key still encrypts").isEqualTo(h.keyArn);
    Instant end = h.clock.instant().plus(Duration.ofHours(6));
    int encryptsRefused = 0;
    while (h.clock.instant().isBefore(end)) {
      h.drive(Duration.ofMinutes(10));
      long dataPathDecrypts = h.byok.keys().stats().kmsCalls("decrypt");
      assertThat(h.decrypt(blob)).isEqualTo(plaintext(1));
      assertThat(h.decrypt(during)).isEqualTo(plaintext(2));
      assertThat(h.byok.keys().stats().kmsCalls("decrypt"))
          .as("cached reads call no KMS")
          .isEqualTo(dataPathDecrypts);
      assertThat(h.clock.instant()).isAfter(dataKeyCreated.plus(DataKeyPolicy.DEFAULT_MAX_AGE));
      assertThatThrownBy(() -> h.encrypt(plaintext(3)))
          .isInstanceOfSatisfying(
              KmsUnavailableException.class, e -> assertThat(e.retryable()).isTrue());
      encryptsRefused++;
      assertThat(h.monitor.state(h.alias)).isEqualTo(UNREACHABLE);
    }
    assertThat(encryptsRefused).isEqualTo(36);
    ExpectedEvent.assertEvents(
        h.drain(),
        List.of(ev(STATE_CHANGED, ACTIVE, UNREACHABLE), ev(KMS_UNREACHABLE, ACTIVE, UNREACHABLE)));
    assertThat(h.byok.keys().stats().purges()).isZero();
    assertThat(h.byok.keys().isLocked(h.keyArn)).isFalse();

    h.api.endOutage();
    h.driveUntil(ACTIVE, LONGEST_PROBE_GAP);
    ExpectedEvent.assertEvents(
        h.drain(),
        List.of(ev(STATE_CHANGED, UNREACHABLE, ACTIVE), ev(KMS_REACHABLE, UNREACHABLE, ACTIVE)));
    assertThat(h.decrypt(h.encrypt(plaintext(4)))).isEqualTo(plaintext(4));
  }

  @Test
  void oneScriptedDenialThenSuccessDoesNotLock() {
    MonitorHarness h = MonitorHarness.started(fake);
    byte[] blob = h.encrypt(plaintext(1));
    h.api.failNext("Decrypt", "DisabledException"); // the next probe's canary

    h.driveUntilProbed(LONGEST_PROBE_GAP);
    assertThat(h.monitor.state(h.alias)).isEqualTo(SUSPECT);
    h.drive(Duration.ofMinutes(20));

    ExpectedEvent.assertEvents(
        h.drain(),
        List.of(
            ev(STATE_CHANGED, ACTIVE, SUSPECT).lockAfter(GRACE),
            ev(STATE_CHANGED, SUSPECT, ACTIVE)));
    assertThat(h.byok.keys().isLocked(h.keyArn)).isFalse();
    assertThat(h.decrypt(blob)).isEqualTo(plaintext(1));
  }

  @Test
  void aDisableSeenLateThroughEventualConsistencyAndUndoneDoesNotLock() {
    MonitorHarness h =
        MonitorHarness.started(fake, b -> b.dataKeyPolicy(DataKeyPolicy.noReuse()), m -> {});
    byte[] blob = h.encrypt(plaintext(1));
    h.api.eventualConsistency(Duration.ofSeconds(10));
    h.api.disableKey(h.keyArn); // seen from t+10 s
    h.drive(Duration.ofSeconds(5));
    h.api.enableKey(h.keyArn); // seen from t+15 s
    h.drive(Duration.ofSeconds(7));

    // a data-path call inside the window sees the key disabled
    assertUnusable(() -> h.decrypt(blob), KeyUnusableException.Reason.DISABLED);
    h.monitor.runDueProbes(); // the denial triggers a probe, which sees the key disabled too
    assertThat(h.monitor.state(h.alias)).isEqualTo(SUSPECT);
    h.drive(Duration.ofMinutes(20));

    ExpectedEvent.assertEvents(
        h.drain(),
        List.of(
            ev(STATE_CHANGED, ACTIVE, SUSPECT).lockAfter(GRACE),
            ev(STATE_CHANGED, SUSPECT, ACTIVE)));
    assertThat(h.decrypt(blob)).isEqualTo(plaintext(1));
  }

  @Test
  void describeKeyDeniedWhileTheCanaryDecryptsIsDegradedMonitoringNotALock() {
    MonitorHarness h = MonitorHarness.started(fake);
    byte[] blob = h.encrypt(plaintext(1));
    assertThat(h.decrypt(blob)).isEqualTo(plaintext(1));
    h.api.failNext("DescribeKey", "AccessDeniedException");
    h.api.failNext("DescribeKey", "AccessDeniedException");

    Instant first = h.driveUntilProbed(LONGEST_PROBE_GAP);
    h.driveUntilProbed(LONGEST_PROBE_GAP);
    h.driveUntilProbed(LONGEST_PROBE_GAP); // DescribeKey answers again

    assertThat(h.api.calls("DescribeKey", "AccessDeniedException")).isEqualTo(2);
    List<KeyEvent> events = h.drain();
    ExpectedEvent.assertEvents(
        events, List.of(ev(MONITORING_DEGRADED, ACTIVE, ACTIVE).reason("AccessDenied")));
    assertThat(events.get(0).at()).isEqualTo(first);
    assertThat(h.monitor.state(h.alias)).isEqualTo(ACTIVE);
    assertThat(h.byok.keys().stats().purges()).as("nothing purged").isZero();
    assertThat(h.decrypt(blob)).isEqualTo(plaintext(1));
  }

  // ------------------------------------------------------------------ rotation and deletion

  @Test
  void aRetargetedAliasIsSeenWithinOneProbeNewBlobsUseTheNewArnAndTheOldArnStaysWatched() {
    MonitorHarness h =
        MonitorHarness.started(
            fake,
            b -> b.dataKeyPolicy(DataKeyPolicy.builder().maxAge(Duration.ofHours(1)).build()),
            m -> {});
    String oldArn = h.keyArn;
    byte[] old = h.encrypt(plaintext(1)); // not decrypted yet: no data key cached for it

    String newArn = h.api.createKey("rotated app key").arn();
    h.api.updateAlias("alias/app", newArn);
    assertThat(slotArn(h.encrypt(plaintext(3))))
        .as("before the monitor notices: the active data key")
        .isEqualTo(oldArn);

    Instant probed = h.driveUntilProbed(LONGEST_PROBE_GAP);
    KeyEvent retargeted = h.only(KEY_RETARGETED);
    ExpectedEvent.assertEvents(h.drain(), List.of(ev(KEY_RETARGETED, ACTIVE, ACTIVE)));
    assertThat(retargeted.at()).isEqualTo(probed);
    assertThat(retargeted.keyArn()).isEqualTo(newArn);
    assertThat(retargeted.previousArn()).isEqualTo(oldArn);
    assertThat(h.monitor.keyArn(h.alias)).isEqualTo(newArn);

    byte[] fresh = h.encrypt(plaintext(4));
    assertThat(slotArn(fresh)).isEqualTo(newArn);
    assertThat(h.decrypt(fresh)).isEqualTo(plaintext(4));
    int oldArnDecrypts = h.calls("Decrypt", oldArn);
    assertThat(h.decrypt(old)).isEqualTo(plaintext(1));
    assertThat(h.calls("Decrypt", oldArn))
        .as("old blob unwrapped with the old ARN")
        .isEqualTo(oldArnDecrypts + 1);

    // the old ARN is watched as long as data depends on it
    KeyRef oldRef = KeyRef.of(MonitorHarness.PROVIDER, oldArn);
    assertThat(h.monitor.states()).containsEntry(oldRef, ACTIVE);
    int oldArnEncrypts = h.calls("Encrypt", oldArn);
    h.step();
    assertThat(h.calls("DescribeKey", oldArn)).as("the old ARN is probed").isEqualTo(1);
    assertThat(h.calls("Encrypt", oldArn))
        .as("the alias's old canary is handed to the old ARN, not remade")
        .isEqualTo(oldArnEncrypts);
    h.api.disableKey(oldArn);
    h.subject = oldRef;
    h.driveUntil(LOCKED_STATE, Duration.ofMinutes(7));
    assertThat(h.drain())
        .allSatisfy(e -> assertThat(e.key()).isEqualTo(oldRef))
        .extracting(KeyEvent::type)
        .containsExactly(STATE_CHANGED, STATE_CHANGED, LOCKED);
    assertThat(h.monitor.state(h.alias)).isEqualTo(ACTIVE);
    h.assertDecryptRefusedLocally(old);
    assertThat(h.decrypt(fresh)).isEqualTo(plaintext(4));
    assertThat(h.decrypt(h.encrypt(plaintext(5)))).isEqualTo(plaintext(5));
  }

  @Test
  void inPlaceRotationIsInformationalOnly() {
    MonitorHarness h =
        MonitorHarness.started(fake, b -> b.decryptCache(100, Duration.ofHours(1)), m -> {});
    byte[] blob = h.encrypt(plaintext(1));
    assertThat(h.decrypt(blob)).isEqualTo(plaintext(1));
    String before = h.api.describeKey(h.keyArn).currentKeyMaterialId();

    h.api.rotateKeyOnDemand(h.keyArn);
    String after = h.api.describeKey(h.keyArn).currentKeyMaterialId();
    h.driveUntilProbed(LONGEST_PROBE_GAP);
    h.drive(Duration.ofMinutes(15));

    List<KeyEvent> events = h.drain();
    ExpectedEvent.assertEvents(
        events, List.of(ev(KEY_MATERIAL_ROTATED, ACTIVE, ACTIVE).reason(before + " -> " + after)));
    assertThat(events.get(0).keyArn()).isEqualTo(h.keyArn);
    assertThat(h.byok.keys().stats().purges()).isZero();
    long decrypts = h.byok.keys().stats().kmsCalls("decrypt");
    assertThat(h.decrypt(blob)).isEqualTo(plaintext(1));
    assertThat(h.byok.keys().stats().kmsCalls("decrypt")).as("still cached").isEqualTo(decrypts);
  }

  @Test
  void deletionScheduledIsAnnouncedWithItsDateCancelledLeavesTheKeyDisabledAndLockedUntilEnabled() {
    MonitorHarness h = MonitorHarness.started(fake);
    byte[] blob = h.encrypt(plaintext(1));
    InMemoryKms.DeletionSchedule schedule = h.api.scheduleKeyDeletion(h.keyArn, 7);

    h.driveUntil(LOCKED_STATE, Duration.ofMinutes(7));
    h.drive(Duration.ofMinutes(15)); // more probes: announced once
    List<KeyEvent> events = h.drain();
    assertThat(events).hasSize(4);
    ev(DELETION_SCHEDULED, ACTIVE, ACTIVE).check(events.get(0));
    ExpectedEvent.assertEvents(
        events.subList(1, 4), ExpectedEvent.deniedThenLocked(GRACE, "PENDING_DELETION"));
    assertThat(events.get(0).deletionDate()).isEqualTo(schedule.deletionDate());
    assertThat(events.get(0).keyArn()).isEqualTo(h.keyArn);
    assertThat(events.get(0).reason()).contains(schedule.deletionDate().toString());

    h.api.cancelKeyDeletion(h.keyArn);
    assertThat(h.api.describeKey(h.keyArn).keyState()).isEqualTo(dev.byok.spi.KeyState.DISABLED);
    int probes = h.api.calls("DescribeKey");
    h.drive(Duration.ofMinutes(15));
    assertThat(h.api.calls("DescribeKey") - probes)
        .as("probes while Disabled")
        .isGreaterThanOrEqualTo(2);
    assertThat(h.drain()).isEmpty();
    assertThat(h.monitor.state(h.alias)).isEqualTo(LOCKED_STATE);
    h.assertDecryptRefusedLocally(blob);

    h.api.enableKey(h.keyArn);
    h.driveUntil(ACTIVE, LONGEST_PROBE_GAP);
    ExpectedEvent.assertEvents(
        h.drain(),
        List.of(ev(STATE_CHANGED, LOCKED_STATE, ACTIVE), ev(UNLOCKED, LOCKED_STATE, ACTIVE)));
    assertThat(h.decrypt(blob)).isEqualTo(plaintext(1));
  }
}
