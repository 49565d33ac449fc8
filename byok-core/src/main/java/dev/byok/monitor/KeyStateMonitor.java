package dev.byok.monitor;

import dev.byok.ByokException;
import dev.byok.DataKeyManager;
import dev.byok.EncryptionContext;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyRef;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.KeyState;
import dev.byok.spi.RotationStatus;
import dev.byok.spi.WrappedKey;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches customer keys and tells the host when to lock and unlock the data that depends on them.
 *
 * <p>Each watched key — the reference the host configured (alias or ARN) and every older key ARN
 * that stored data still depends on — is probed on a jittered schedule: {@code DescribeKey} (state,
 * ARN behind an alias, key material, deletion date), a real cryptographic canary (decrypt of a
 * small value wrapped once under the key), and rotation status at a slower cadence. The monitor
 * also learns passively from every KMS call a {@link DataKeyManager} makes.
 *
 * <pre>
 *   ACTIVE --transient--> UNREACHABLE --ok--> ACTIVE          (never locks, unless opted in)
 *   ACTIVE/UNREACHABLE --denial--> SUSPECT --ok--> ACTIVE     (eventual consistency absorbed)
 *   SUSPECT --denied for >= grace--> LOCKED --canary ok--> ACTIVE (auto, or after acknowledgement)
 * </pre>
 *
 * <p>On LOCKED the manager purges and refuses the key and listeners get {@link
 * KeyEvent.Type#LOCKED}; on recovery {@link KeyEvent.Type#UNLOCKED}. The monitor never deletes
 * anything. Defaults and the worst-case arithmetic are in docs/key-lifecycle.md: with the defaults
 * a revoked key is LOCKED about 6 minutes after revocation with no traffic (6 min plus up to three
 * scheduler ticks and probe latency), and 30 s after the first denied data-path call when traffic
 * flows.
 *
 * <p>Thread-safe. Time comes from the injected clock; {@link #runDueProbes()} runs one round and is
 * what the scheduler (owned or the host's) calls every tick — tests call it directly and never
 * sleep. Logs carry key ids and states, never key material.
 */
public final class KeyStateMonitor implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KeyStateMonitor.class);
  static final EncryptionContext CANARY_CONTEXT = EncryptionContext.of("byok-canary", "v1");

  private final Map<String, KeyProvider> providers;
  private final @Nullable DataKeyManager keys;
  private final InstantSource clock;
  private final Duration probeInterval;
  private final double jitter;
  private final Duration suspectProbeInterval;
  private final Duration gracePeriod;
  private final Duration rotationCheckInterval;
  private final @Nullable Duration lockWhenUnreachableFor;
  private final boolean autoUnlock;
  private final double maxProbesPerSecond;
  private final Duration tick;
  private final @Nullable ScheduledExecutorService hostScheduler;
  private final Random random;
  private final dev.byok.KmsCallObserver observer = this::onKmsCall;

  private final Map<KeyRef, Watched> watched = new LinkedHashMap<>();
  private final List<KeyStateListener> listeners = new CopyOnWriteArrayList<>();
  private final Object dispatchLock = new Object();
  private double tokens;
  private @Nullable Instant lastRefill;
  private @Nullable ScheduledExecutorService ownedScheduler;
  private @Nullable ScheduledFuture<?> task;
  private boolean closed;

  private KeyStateMonitor(Builder b) {
    this.providers = Map.copyOf(b.providers);
    this.keys = b.keys;
    this.clock = b.clock;
    this.probeInterval = b.probeInterval;
    this.jitter = b.jitter;
    this.suspectProbeInterval = b.suspectProbeInterval;
    this.gracePeriod = b.gracePeriod;
    this.rotationCheckInterval = b.rotationCheckInterval;
    this.lockWhenUnreachableFor = b.lockWhenUnreachableFor;
    this.autoUnlock = b.autoUnlock;
    this.maxProbesPerSecond = b.maxProbesPerSecond;
    this.tick = b.tick;
    this.hostScheduler = b.scheduler;
    this.random = b.seed == null ? new SecureRandom() : new Random(b.seed);
    this.tokens = Math.max(1, maxProbesPerSecond);
    if (keys != null) {
      keys.addObserver(observer);
    }
  }

  /** {@return a new builder} */
  public static Builder builder() {
    return new Builder();
  }

  // ------------------------------------------------------------------ per-key state

  private static final class Canary {
    final String keyArn;
    final byte[] wrapped;
    final byte[] digest;

    Canary(String keyArn, byte[] wrapped, byte[] digest) {
      this.keyArn = keyArn;
      this.wrapped = wrapped;
      this.digest = digest;
    }
  }

  private static final class Watched {
    final KeyRef ref;
    final boolean dependent; // an older ARN that stored data still depends on
    @Nullable String arn;
    @Nullable String materialId;
    @Nullable Canary canary;
    KeyMonitorState state = KeyMonitorState.ACTIVE;
    Instant nextProbe;
    Instant nextRotationCheck;
    boolean inFlight;
    @Nullable Instant firstDenial;
    @Nullable Instant unreachableSince;
    String reason = "not probed yet";
    @Nullable Instant deletionNotified;
    boolean degraded;
    @Nullable Boolean rotationEnabled;
    boolean restorePending;

    Watched(KeyRef ref, boolean dependent, Instant now) {
      this.ref = ref;
      this.dependent = dependent;
      this.nextProbe = now;
      this.nextRotationCheck = now;
      if (ref.keyId().startsWith("arn:") && !ref.keyId().contains(":alias/")) {
        this.arn = ref.keyId();
      }
    }

    boolean matches(String keyId, @Nullable String resolvedArn) {
      return ref.keyId().equals(keyId)
          || (arn != null && (arn.equals(keyId) || arn.equals(resolvedArn)));
    }
  }

  /** Outcome of one observation. */
  private enum Outcome {
    OK,
    DENIAL,
    TRANSIENT
  }

  // ------------------------------------------------------------------ API

  /**
   * Starts watching a key (idempotent). Its first probe is due at once.
   *
   * @param key the key as the host configured it (alias or ARN); its provider must be registered
   * @return this monitor
   */
  public KeyStateMonitor watch(KeyRef key) {
    Objects.requireNonNull(key, "key");
    if (!providers.containsKey(key.providerId())) {
      throw new IllegalArgumentException(
          "no provider '"
              + key.providerId()
              + "' registered for "
              + key
              + " (have "
              + providers.keySet()
              + ")");
    }
    synchronized (this) {
      watched.computeIfAbsent(key, k -> new Watched(k, false, clock.instant()));
    }
    return this;
  }

  /**
   * Stops watching a key (for example an old ARN once no blob depends on it any more).
   *
   * @param key the key
   */
  public synchronized void unwatch(KeyRef key) {
    watched.remove(key);
  }

  /** {@return the keys watched, with their states; a snapshot} */
  public synchronized Map<KeyRef, KeyMonitorState> states() {
    Map<KeyRef, KeyMonitorState> m = new LinkedHashMap<>();
    watched.forEach((k, w) -> m.put(k, w.state));
    return m;
  }

  /**
   * The current state of a watched key.
   *
   * @param key a watched key
   * @return its state
   * @throws IllegalArgumentException if the key is not watched
   */
  public synchronized KeyMonitorState state(KeyRef key) {
    return get(key).state;
  }

  /**
   * The key ARN a watched key reference resolves to.
   *
   * @param key a watched key
   * @return the key ARN it resolves to, or {@code null} before the first successful probe
   */
  public synchronized @Nullable String keyArn(KeyRef key) {
    return get(key).arn;
  }

  /**
   * The guard: returns if the key may be used, throws if it is LOCKED.
   *
   * @param key a watched key
   * @throws KeyUnusableException with reason {@code LOCKED} if the key is locked
   */
  public synchronized void checkUsable(KeyRef key) {
    Watched w = get(key);
    if (w.state == KeyMonitorState.LOCKED) {
      throw new KeyUnusableException(
          KeyUnusableException.Reason.LOCKED, key.toString(), w.reason, null);
    }
  }

  /**
   * With auto-unlock off: lifts the lock of a key whose canary passes again (after a {@link
   * KeyEvent.Type#RESTORE_PENDING_ACKNOWLEDGEMENT}).
   *
   * @param key a watched key
   * @return whether the key was unlocked (false if no restore was pending)
   */
  public boolean acknowledgeRestore(KeyRef key) {
    List<KeyEvent> events = new ArrayList<>();
    boolean done;
    synchronized (this) {
      Watched w = get(key);
      done = w.state == KeyMonitorState.LOCKED && w.restorePending;
      if (done) {
        unlock(w, "restore acknowledged by the host", clock.instant(), events);
      }
    }
    dispatch(events);
    return done;
  }

  /**
   * Registers a listener for key events.
   *
   * @param listener receives every event from now on
   */
  public void addListener(KeyStateListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Unregisters a listener.
   *
   * @param listener a registered listener
   */
  public void removeListener(KeyStateListener listener) {
    listeners.remove(listener);
  }

  private Watched get(KeyRef key) {
    Watched w = watched.get(key);
    if (w == null) {
      throw new IllegalArgumentException(key + " is not watched");
    }
    return w;
  }

  // ------------------------------------------------------------------ scheduling

  /**
   * Starts probing every tick (default 1 s) on the host's scheduler, or on one daemon thread the
   * monitor owns. Idempotent.
   *
   * @return this monitor
   */
  public synchronized KeyStateMonitor start() {
    if (closed) {
      throw new IllegalStateException("monitor is closed");
    }
    if (task == null) {
      ScheduledExecutorService s = hostScheduler;
      if (s == null) {
        s =
            Executors.newSingleThreadScheduledExecutor(
                r -> {
                  Thread t = new Thread(r, "byok-key-monitor");
                  t.setDaemon(true);
                  return t;
                });
        ownedScheduler = s;
      }
      task = s.scheduleWithFixedDelay(this::runSafely, 0, tick.toMillis(), TimeUnit.MILLISECONDS);
    }
    return this;
  }

  private void runSafely() {
    try {
      runDueProbes();
    } catch (RuntimeException e) {
      LOG.warn("key monitor round failed", e);
    }
  }

  /**
   * Runs one round: probes every key whose probe is due by the clock, within the rate limit, and
   * applies timers (grace expiry, opt-in unreachable lock). The scheduler calls this every tick;
   * tests call it after advancing a manual clock.
   *
   * @return how many keys were probed
   */
  public int runDueProbes() {
    List<Watched> due = new ArrayList<>();
    List<KeyEvent> events = new ArrayList<>();
    synchronized (this) {
      Instant now = clock.instant();
      refill(now);
      for (Watched w : watched.values()) {
        applyTimers(w, now, events);
        if (!w.inFlight && !w.nextProbe.isAfter(now) && tokens >= 1) {
          tokens -= 1;
          w.inFlight = true;
          due.add(w);
        }
      }
    }
    dispatch(events);
    for (Watched w : due) {
      probe(w);
    }
    return due.size();
  }

  /**
   * Probes one key now, regardless of its schedule and the rate limit.
   *
   * @param key a watched key
   */
  public void probeNow(KeyRef key) {
    Watched w;
    synchronized (this) {
      w = get(key);
      w.inFlight = true;
    }
    probe(w);
  }

  private void refill(Instant now) {
    if (lastRefill != null) {
      double secs = Duration.between(lastRefill, now).toNanos() / 1e9;
      tokens =
          Math.min(
              Math.max(1, maxProbesPerSecond), tokens + Math.max(0, secs) * maxProbesPerSecond);
    }
    lastRefill = now;
  }

  private Instant nextNormalProbe(Instant now) {
    double factor = 1 + jitter * (2 * random.nextDouble() - 1);
    return now.plusNanos((long) (probeInterval.toNanos() * factor));
  }

  /** When the current run of denials began; SUSPECT always sets it, {@code now} otherwise. */
  private static Instant firstDenial(Watched w, Instant now) {
    Instant first = w.firstDenial;
    return first != null ? first : now;
  }

  // ------------------------------------------------------------------ probing

  private void probe(Watched w) {
    KeyProvider p =
        Objects.requireNonNull(providers.get(w.ref.providerId()), "provider of a watched key");
    Instant started = clock.instant();
    KeyDescription description = null;
    ByokException describeFailure = null;
    try {
      description = p.describeKey(w.ref.keyId());
    } catch (ByokException e) {
      describeFailure = e;
    }
    // a retargeted alias gets a fresh canary under the key it points at now
    Canary canary;
    synchronized (this) {
      canary = w.canary;
      if (canary != null
          && description != null
          && !description.keyArn().equals(canary.keyArn)
          && !w.dependent) {
        canary = null;
      }
    }
    ByokException canaryFailure = null;
    boolean canaryOk = false;
    try {
      if (canary == null) {
        canary = makeCanary(p, w.dependent && w.arn != null ? w.arn : w.ref.keyId());
      }
      canaryOk = checkCanary(p, canary);
      if (!canaryOk) {
        canaryFailure =
            new InvalidCiphertextException(
                InvalidCiphertextException.Reason.WRAPPED_KEY_REJECTED,
                "canary decrypted to the wrong value");
      }
    } catch (ByokException e) {
      canaryFailure = e;
    }
    RotationStatus rotation = null;
    boolean rotationDue;
    synchronized (this) {
      rotationDue = !w.nextRotationCheck.isAfter(started);
    }
    if (rotationDue && description != null) {
      try {
        rotation = p.rotationStatus(w.ref.keyId());
      } catch (ByokException e) {
        LOG.debug("rotation status of {} unavailable: {}", w.ref, e.getMessage());
      }
    }

    List<KeyEvent> events = new ArrayList<>();
    synchronized (this) {
      Instant now = clock.instant();
      w.inFlight = false;
      if (watched.get(w.ref) != w) {
        return; // unwatched meanwhile
      }
      if (rotationDue) {
        w.nextRotationCheck = now.plus(rotationCheckInterval);
      }
      if (description != null) {
        // first: on a retarget this hands the old canary to the old ARN's dependent watch
        learnDescription(w, description, now, events);
      }
      if (canaryOk) {
        w.canary = canary;
      } else if (canaryFailure instanceof InvalidCiphertextException) {
        w.canary = null; // a broken canary is remade next time
      }
      if (rotation != null && !Objects.equals(w.rotationEnabled, rotation.enabled())) {
        if (w.rotationEnabled != null) {
          events.add(
              event(
                  KeyEvent.Type.ROTATION_STATUS_CHANGED,
                  w,
                  w.state,
                  "automatic rotation " + rotation,
                  now));
        }
        w.rotationEnabled = rotation.enabled();
      }

      Outcome outcome;
      String reason;
      boolean throttled = false;
      if (canaryOk) {
        if (description != null && !description.state().usable()) {
          outcome =
              Outcome.DENIAL; // the KMS says so; the canary will follow (eventual consistency)
          reason = "KMS reports the key " + description.state();
        } else {
          outcome = Outcome.OK;
          reason = "canary decrypts";
          boolean degradedNow = describeFailure instanceof KeyUnusableException;
          if (describeFailure instanceof KeyUnusableException && !w.degraded) {
            events.add(
                event(
                    KeyEvent.Type.MONITORING_DEGRADED,
                    w,
                    w.state,
                    "DescribeKey fails ("
                        + describeFailure.getMessage()
                        + ") but the canary decrypts",
                    now));
          }
          w.degraded = degradedNow;
        }
      } else if (canaryFailure instanceof KeyUnusableException) {
        outcome = Outcome.DENIAL;
        reason = "canary refused: " + ((KeyUnusableException) canaryFailure).reason();
      } else if (description != null && !description.state().usable()) {
        outcome = Outcome.DENIAL;
        reason = "KMS reports the key " + description.state();
      } else if (canaryFailure instanceof KmsUnavailableException) {
        outcome = Outcome.TRANSIENT;
        throttled = ((KmsUnavailableException) canaryFailure).throttled();
        reason = "KMS unreachable: " + canaryFailure.getMessage();
      } else {
        outcome =
            Outcome.TRANSIENT; // a configuration or canary problem says nothing about revocation
        reason =
            "probe failed: " + (canaryFailure == null ? "unknown" : canaryFailure.getMessage());
      }
      apply(w, outcome, reason, throttled, now, events);
      w.nextProbe =
          w.state == KeyMonitorState.SUSPECT
              ? now.plus(suspectProbeInterval)
              : nextNormalProbe(now);
    }
    dispatch(events);
  }

  private Canary makeCanary(KeyProvider p, String keyId) {
    byte[] value = new byte[32];
    new SecureRandom().nextBytes(value);
    try {
      WrappedKey w = p.encrypt(keyId, value, CANARY_CONTEXT);
      return new Canary(w.keyArn(), w.ciphertext(), sha256(value));
    } finally {
      Arrays.fill(value, (byte) 0);
    }
  }

  private static boolean checkCanary(KeyProvider p, Canary c) {
    byte[] value = p.decrypt(c.keyArn, c.wrapped, CANARY_CONTEXT);
    try {
      return MessageDigest.isEqual(sha256(value), c.digest);
    } finally {
      Arrays.fill(value, (byte) 0);
    }
  }

  private static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private void learnDescription(Watched w, KeyDescription d, Instant now, List<KeyEvent> events) {
    String previous = w.arn;
    if (previous != null && !previous.equals(d.keyArn()) && !w.dependent) {
      w.arn = d.keyArn();
      w.materialId = d.currentKeyMaterialId();
      events.add(
          new KeyEvent(
              KeyEvent.Type.KEY_RETARGETED,
              w.ref,
              w.arn,
              w.state,
              w.state,
              w.ref.keyId()
                  + " now points at "
                  + d.keyArn()
                  + "; new blobs use it, old blobs keep "
                  + previous,
              now,
              null,
              null,
              previous));
      if (keys != null) {
        keys.allowArn(d.keyArn());
        keys.retireEncryptionKeys(previous); // new blobs get a data key under the new ARN
      }
      KeyRef old = KeyRef.of(w.ref.providerId(), previous);
      Watched dep = watched.computeIfAbsent(old, k -> new Watched(k, true, now));
      if (dep.canary == null && w.canary != null && w.canary.keyArn.equals(previous)) {
        dep.canary = w.canary; // the old canary keeps testing the old key
      }
      w.canary = null;
    } else {
      w.arn = d.keyArn();
      String material = d.currentKeyMaterialId();
      if (w.materialId != null && material != null && !material.equals(w.materialId)) {
        events.add(
            event(
                KeyEvent.Type.KEY_MATERIAL_ROTATED,
                w,
                w.state,
                "key material rotated in place ("
                    + w.materialId
                    + " -> "
                    + material
                    + "); old blobs still decrypt",
                now));
      }
      if (material != null) {
        w.materialId = material;
      }
    }
    if (d.state() == KeyState.PENDING_DELETION
        && d.deletionDate() != null
        && !d.deletionDate().equals(w.deletionNotified)) {
      w.deletionNotified = d.deletionDate();
      events.add(
          new KeyEvent(
              KeyEvent.Type.DELETION_SCHEDULED,
              w.ref,
              w.arn,
              w.state,
              w.state,
              "key is scheduled for deletion; cancel before "
                  + d.deletionDate()
                  + " to keep the data",
              now,
              null,
              d.deletionDate(),
              null));
    } else if (d.state() != KeyState.PENDING_DELETION) {
      w.deletionNotified = null;
    }
  }

  // ------------------------------------------------------------------ the state machine

  private void apply(
      Watched w,
      Outcome outcome,
      String reason,
      boolean throttled,
      Instant now,
      List<KeyEvent> events) {
    KeyMonitorState s = w.state;
    switch (outcome) {
      case OK:
        w.firstDenial = null;
        w.unreachableSince = null;
        if (s == KeyMonitorState.UNREACHABLE) {
          move(w, KeyMonitorState.ACTIVE, "KMS reachable again: " + reason, now, events);
          events.add(
              event(
                  KeyEvent.Type.KMS_REACHABLE,
                  w,
                  s,
                  reason,
                  now)); // after the move: to() is ACTIVE
        } else if (s == KeyMonitorState.SUSPECT) {
          move(
              w,
              KeyMonitorState.ACTIVE,
              "key answers again within the grace period: " + reason,
              now,
              events);
        } else if (s == KeyMonitorState.LOCKED) {
          if (autoUnlock) {
            unlock(w, "key usable again: " + reason, now, events);
          } else if (!w.restorePending) {
            w.restorePending = true;
            events.add(
                event(
                    KeyEvent.Type.RESTORE_PENDING_ACKNOWLEDGEMENT,
                    w,
                    s,
                    "key usable again; waiting for the host to acknowledge",
                    now));
          }
        } else {
          w.reason = reason;
        }
        break;
      case DENIAL:
        w.unreachableSince = null;
        w.restorePending = false;
        if (s == KeyMonitorState.ACTIVE || s == KeyMonitorState.UNREACHABLE) {
          w.firstDenial = now;
          if (keys != null && w.arn != null) {
            keys.invalidate(w.arn); // no cached data key is served while the key is in doubt
          }
          Instant lockAt = now.plus(gracePeriod);
          w.state = KeyMonitorState.SUSPECT;
          w.reason = reason;
          events.add(
              new KeyEvent(
                  KeyEvent.Type.STATE_CHANGED,
                  w.ref,
                  w.arn,
                  s,
                  KeyMonitorState.SUSPECT,
                  reason,
                  now,
                  lockAt,
                  null,
                  null));
        } else if (s == KeyMonitorState.SUSPECT) {
          w.reason = reason;
          if (!now.isBefore(firstDenial(w, now).plus(gracePeriod))) {
            lock(
                w,
                "denied for "
                    + Duration.between(firstDenial(w, now), now).toSeconds()
                    + " s: "
                    + reason,
                now,
                events);
          }
        } else {
          w.reason = reason;
        }
        break;
      case TRANSIENT:
        if (throttled) {
          events.add(event(KeyEvent.Type.THROTTLED, w, s, reason, now));
        }
        if (s == KeyMonitorState.ACTIVE) {
          w.unreachableSince = now;
          move(w, KeyMonitorState.UNREACHABLE, reason, now, events);
          events.add(
              event(
                  KeyEvent.Type.KMS_UNREACHABLE,
                  w,
                  s,
                  reason,
                  now)); // after the move: to() is UNREACHABLE
        } else if (s == KeyMonitorState.SUSPECT
            && !now.isBefore(firstDenial(w, now).plus(gracePeriod))) {
          // the grace period is over and the last authoritative answer was a denial
          lock(w, "denied, then unreachable past the grace period: " + w.reason, now, events);
        }
        applyTimers(w, now, events);
        break;
      default:
        throw new AssertionError(outcome);
    }
  }

  /** Time-driven transition: the opt-in lock after a long KMS outage. */
  private void applyTimers(Watched w, Instant now, List<KeyEvent> events) {
    if (w.state == KeyMonitorState.UNREACHABLE
        && lockWhenUnreachableFor != null
        && w.unreachableSince != null
        && !now.isBefore(w.unreachableSince.plus(lockWhenUnreachableFor))) {
      lock(
          w,
          "KMS unreachable for "
              + Duration.between(w.unreachableSince, now).toMinutes()
              + " min (opt-in policy)",
          now,
          events);
    }
  }

  private void move(
      Watched w, KeyMonitorState to, String reason, Instant now, List<KeyEvent> events) {
    KeyMonitorState from = w.state;
    w.state = to;
    w.reason = reason;
    if (from != to) {
      events.add(event(KeyEvent.Type.STATE_CHANGED, w, from, reason, now));
    }
  }

  private void lock(Watched w, String reason, Instant now, List<KeyEvent> events) {
    KeyMonitorState from = w.state;
    w.state = KeyMonitorState.LOCKED;
    w.reason = reason;
    w.restorePending = false;
    if (keys != null) {
      keys.lock(w.ref.keyId());
      if (w.arn != null) {
        keys.lock(w.arn);
      }
    }
    LOG.warn("key {} LOCKED: {}", w.ref, reason);
    events.add(event(KeyEvent.Type.STATE_CHANGED, w, from, reason, now));
    events.add(event(KeyEvent.Type.LOCKED, w, from, reason, now));
  }

  private void unlock(Watched w, String reason, Instant now, List<KeyEvent> events) {
    KeyMonitorState from = w.state;
    w.state = KeyMonitorState.ACTIVE;
    w.reason = reason;
    w.restorePending = false;
    w.firstDenial = null;
    if (keys != null) {
      keys.unlock(w.ref.keyId());
      if (w.arn != null) {
        keys.unlock(w.arn);
      }
    }
    LOG.info("key {} unlocked: {}", w.ref, reason);
    events.add(event(KeyEvent.Type.STATE_CHANGED, w, from, reason, now));
    events.add(event(KeyEvent.Type.UNLOCKED, w, from, reason, now));
  }

  private static KeyEvent event(
      KeyEvent.Type type, Watched w, KeyMonitorState from, String reason, Instant now) {
    return new KeyEvent(type, w.ref, w.arn, from, w.state, reason, now, null, null, null);
  }

  // ------------------------------------------------------------------ passive learning

  private void onKmsCall(
      String operation,
      String keyId,
      @Nullable String resolvedArn,
      @Nullable ByokException failure) {
    Outcome outcome;
    boolean throttled = false;
    if (failure == null) {
      outcome = Outcome.OK;
    } else if (failure instanceof KeyUnusableException
        && ((KeyUnusableException) failure).reason() != KeyUnusableException.Reason.LOCKED) {
      outcome = Outcome.DENIAL;
    } else if (failure instanceof KmsUnavailableException) {
      outcome = Outcome.TRANSIENT;
      throttled = ((KmsUnavailableException) failure).throttled();
    } else {
      return; // corrupt blobs and configuration errors say nothing about the key
    }
    List<KeyEvent> events = new ArrayList<>();
    synchronized (this) {
      Instant now = clock.instant();
      for (Watched w : watched.values()) {
        if (w.matches(keyId, resolvedArn)) {
          if (outcome == Outcome.OK && w.state == KeyMonitorState.LOCKED) {
            continue; // only the canary lifts a lock
          }
          String reason =
              "data-path "
                  + operation
                  + (failure == null ? " succeeded" : ": " + failure.getMessage());
          apply(w, outcome, reason, throttled, now, events);
          if (w.state == KeyMonitorState.SUSPECT
              && w.nextProbe.isAfter(now.plus(suspectProbeInterval))) {
            w.nextProbe = now.plus(suspectProbeInterval);
          }
        }
      }
    }
    dispatch(events);
  }

  private void dispatch(List<KeyEvent> events) {
    if (events.isEmpty()) {
      return;
    }
    synchronized (dispatchLock) {
      for (KeyEvent e : events) {
        LOG.info("{}", e);
        for (KeyStateListener l : listeners) {
          try {
            l.onEvent(e);
          } catch (RuntimeException bug) {
            LOG.warn("KeyStateListener {} threw; ignored", l.getClass().getName(), bug);
          }
        }
      }
    }
  }

  /**
   * Stops probing and stops listening to the data key manager; shuts down an owned scheduler (a
   * host's is left running). Locks already taken stay until {@link DataKeyManager#unlock}.
   * Idempotent.
   */
  @Override
  public synchronized void close() {
    closed = true;
    if (keys != null) {
      keys.removeObserver(observer);
    }
    if (task != null) {
      task.cancel(false);
      task = null;
    }
    if (ownedScheduler != null) {
      ownedScheduler.shutdownNow();
      ownedScheduler = null;
    }
  }

  @Override
  public synchronized String toString() {
    return "KeyStateMonitor[" + states() + "]";
  }

  /**
   * Builds a {@link KeyStateMonitor}. Defaults: probe every 5 min ±10 %, suspect keys every 15 s,
   * 30 s grace, rotation status every 6 h, never lock for unreachability, auto-unlock, at most 10
   * probes per second, 1 s tick. Setters fail fast naming the bad value. Not thread-safe.
   */
  public static final class Builder {
    private final Map<String, KeyProvider> providers = new LinkedHashMap<>();
    private @Nullable DataKeyManager keys;
    private InstantSource clock = InstantSource.system();
    private Duration probeInterval = Duration.ofMinutes(5);
    private double jitter = 0.1;
    private Duration suspectProbeInterval = Duration.ofSeconds(15);
    private Duration gracePeriod = Duration.ofSeconds(30);
    private Duration rotationCheckInterval = Duration.ofHours(6);
    private @Nullable Duration lockWhenUnreachableFor;
    private boolean autoUnlock = true;
    private double maxProbesPerSecond = 10;
    private Duration tick = Duration.ofSeconds(1);
    private @Nullable ScheduledExecutorService scheduler;
    private @Nullable Long seed;

    private Builder() {}

    /**
     * Adds a provider whose keys may be watched.
     *
     * @param provider a provider whose keys may be watched
     * @return this builder
     */
    public Builder provider(KeyProvider provider) {
      Objects.requireNonNull(provider, "provider");
      if (providers.putIfAbsent(provider.providerId(), provider) != null) {
        throw new IllegalArgumentException("two providers with id '" + provider.providerId() + "'");
      }
      return this;
    }

    /**
     * The manager to purge, lock and unlock, and to learn from passively.
     *
     * @param keys the data key manager (e.g. {@code byok.keys()})
     * @return this builder
     */
    public Builder dataKeyManager(DataKeyManager keys) {
      this.keys = Objects.requireNonNull(keys, "dataKeyManager");
      return this;
    }

    /**
     * Sets the time source (tests pass a manual clock).
     *
     * @param clock time source (tests pass a manual clock)
     * @return this builder
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Sets the time between probes of a healthy key.
     *
     * @param interval time between probes of a healthy key (default 5 min)
     * @return this builder
     */
    public Builder probeInterval(Duration interval) {
      this.probeInterval = positive(interval, "probeInterval");
      return this;
    }

    /**
     * Sets the random spread of probe intervals.
     *
     * @param fraction each probe interval is multiplied by a random factor in {@code 1 ± fraction}
     *     (default 0.1; 0 to 0.5)
     * @return this builder
     */
    public Builder jitter(double fraction) {
      if (!(fraction >= 0 && fraction <= 0.5)) {
        throw new IllegalArgumentException("jitter must be within 0..0.5, was " + fraction);
      }
      this.jitter = fraction;
      return this;
    }

    /**
     * Sets the time between probes of a SUSPECT key.
     *
     * @param interval time between probes of a SUSPECT key (default 15 s)
     * @return this builder
     */
    public Builder suspectProbeInterval(Duration interval) {
      this.suspectProbeInterval = positive(interval, "suspectProbeInterval");
      return this;
    }

    /**
     * Sets how long a key must stay denied before it is LOCKED.
     *
     * @param grace how long a key must stay denied before it is LOCKED (default 30 s): absorbs KMS
     *     eventual consistency
     * @return this builder
     */
    public Builder gracePeriod(Duration grace) {
      Objects.requireNonNull(grace, "gracePeriod");
      if (grace.isNegative()) {
        throw new IllegalArgumentException("gracePeriod must be >= 0, was " + grace);
      }
      this.gracePeriod = grace;
      return this;
    }

    /**
     * {@return this builder}
     *
     * @param interval time between rotation-status checks (default 6 h)
     */
    public Builder rotationCheckInterval(Duration interval) {
      this.rotationCheckInterval = positive(interval, "rotationCheckInterval");
      return this;
    }

    /**
     * Opt-in: lock a key after the KMS has been unreachable this long (default: never — an outage
     * says nothing about the customer's key).
     *
     * @param duration how long, or {@code null} for never
     * @return this builder
     */
    public Builder lockWhenUnreachableFor(@Nullable Duration duration) {
      this.lockWhenUnreachableFor =
          duration == null ? null : positive(duration, "lockWhenUnreachableFor");
      return this;
    }

    /**
     * {@return this builder}
     *
     * @param auto unlock as soon as the canary passes again (default true); false waits for {@link
     *     KeyStateMonitor#acknowledgeRestore}
     */
    public Builder autoUnlock(boolean auto) {
      this.autoUnlock = auto;
      return this;
    }

    /**
     * {@return this builder}
     *
     * @param rate most probes per second across all keys (default 10)
     */
    public Builder maxProbesPerSecond(double rate) {
      if (!(rate > 0)) {
        throw new IllegalArgumentException("maxProbesPerSecond must be > 0, was " + rate);
      }
      this.maxProbesPerSecond = rate;
      return this;
    }

    /**
     * {@return this builder}
     *
     * @param tick how often the scheduler runs a round (default 1 s)
     */
    public Builder tick(Duration tick) {
      this.tick = positive(tick, "tick");
      return this;
    }

    /**
     * {@return this builder}
     *
     * @param scheduler the host's scheduler (never shut down by the monitor); default: an owned
     *     daemon thread
     */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * {@return this builder}
     *
     * @param seed seed for the jitter (tests); default: a secure random
     */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    private static Duration positive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, was " + d);
      }
      return d;
    }

    /**
     * {@return the monitor (not started: call {@link KeyStateMonitor#start()} or drive {@link
     * KeyStateMonitor#runDueProbes()})}
     *
     * @throws IllegalStateException if no provider is registered
     */
    public KeyStateMonitor build() {
      if (providers.isEmpty()) {
        throw new IllegalStateException("at least one provider is required");
      }
      return new KeyStateMonitor(this);
    }
  }
}
