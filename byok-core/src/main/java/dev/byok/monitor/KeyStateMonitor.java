package dev.byok.monitor;

import dev.byok.ByokException;
import dev.byok.DataKeyManager;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyRef;
import dev.byok.KeyUnusableException;
import dev.byok.KmsCallObserver;
import dev.byok.KmsUnavailableException;
import dev.byok.monitor.KeyStateMachine.Action;
import dev.byok.monitor.KeyStateMachine.Notice;
import dev.byok.monitor.KeyStateMachine.Observation;
import dev.byok.monitor.KeyStateMachine.Status;
import dev.byok.monitor.KeyStateMachine.Verdict;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.KeyState;
import dev.byok.spi.RotationStatus;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches customer keys and tells the host when to lock and unlock the data that depends on them.
 *
 * <p>One monitor serves every tenant: it watches the keys the host names ({@link #watch}) and, by
 * default, every key a {@link DataKeyManager} successfully uses (auto-watch); it forgets an
 * auto-watched key after {@link Builder#forgetUnusedAfter} without a KMS call for it (purging the
 * manager's cached data keys under it, so the next use makes a KMS call and watches it again).
 *
 * <p>Each watched key — the reference the host configured (alias or ARN) and every older key ARN
 * that stored data still depends on — is probed on a jittered schedule: {@code DescribeKey} (state,
 * ARN behind an alias, key material, deletion date), a real cryptographic canary (decrypt of a
 * small value wrapped once under the key), and rotation status at a slower cadence. Data-path KMS
 * calls are observed too, but are not authoritative: a denial (or, while SUSPECT, a success) only
 * asks for an immediate probe. The state machine is {@link KeyStateMachine}; its table is in
 * docs/key-lifecycle.md.
 *
 * <pre>
 *   ACTIVE --transient--> UNREACHABLE --ok--> ACTIVE          (never locks, unless opted in)
 *   ACTIVE/UNREACHABLE --probe denies--> SUSPECT --probe ok--> ACTIVE
 *   SUSPECT --probe denies at >= grace--> LOCKED --probe ok--> ACTIVE (auto, or acknowledged)
 * </pre>
 *
 * <p><b>Events</b> go to listeners on the event executor ({@link Builder#eventExecutor}, default
 * one daemon thread the monitor owns): never on a thread that called byok (a data-path thread only
 * records what it saw; the monitor's round turns that into state), and never while byok holds a
 * lock. Events of one key are delivered in the order of the state changes, one at a time; a LOCKED
 * event is delivered after the data key manager already refuses the key.
 *
 * <p>Thread-safe. Durations use a monotonic ticker and event timestamps the wall clock ({@link
 * Builder#clock}, {@link Builder#ticker}). {@link #runDueProbes()} runs one round and is what the
 * scheduler (owned or the host's) calls every tick — tests call it directly and never sleep. Logs
 * carry key ids and states, never key material.
 */
public final class KeyStateMonitor implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KeyStateMonitor.class);

  private final Map<String, KeyProvider> providers;
  private final @Nullable DataKeyManager keys;
  private final MonitorTime time;
  private final KeyStateMachine machine;
  private final Duration probeInterval;
  private final double jitter;
  private final Duration suspectProbeInterval;
  private final Duration gracePeriod;
  private final Duration rotationCheckInterval;
  private final Duration tick;
  private final boolean autoWatch;
  private final Duration forgetUnusedAfter;
  private final @Nullable ScheduledExecutorService hostScheduler;
  private final @Nullable ExecutorService ownedEventExecutor;
  private final Random random;
  private final EventDispatcher dispatcher;
  private final KmsCallObserver observer = this::onKmsCall;

  /** Data-path observations since the last round, by key id as the call named it. */
  private final ConcurrentHashMap<String, Seen> seen = new ConcurrentHashMap<>();

  // guarded by this
  private final Map<KeyRef, Watched> watched = new LinkedHashMap<>();

  /** Watched keys by configured key id and by resolved ARN: data-path calls name either. */
  private final Map<String, List<Watched>> byId = new HashMap<>();

  // Runnable, KeyEvent or ForgetQueue, in order
  private final ArrayDeque<Object> effects = new ArrayDeque<>();

  /** Effect: forget a key's event queue, in order with its events. */
  private record ForgetQueue(KeyRef key) {}

  private final ProbeRateLimiter limiter;
  private @Nullable ScheduledExecutorService ownedScheduler;
  private @Nullable ScheduledFuture<?> task;
  private boolean closed;

  /** Applies effects in the order they were decided; never held while listeners run. */
  private final ReentrantLock effectLock = new ReentrantLock();

  private KeyStateMonitor(Builder b) {
    this.providers = Map.copyOf(b.providers);
    this.keys = b.keys;
    this.time = MonitorTime.of(b.clock, b.ticker);
    this.machine = new KeyStateMachine(b.gracePeriod, b.autoUnlock, b.lockWhenUnreachableFor);
    this.probeInterval = b.probeInterval;
    this.jitter = b.jitter;
    this.suspectProbeInterval = b.suspectProbeInterval;
    this.gracePeriod = b.gracePeriod;
    this.rotationCheckInterval = b.rotationCheckInterval;
    this.tick = b.tick;
    this.autoWatch = b.autoWatch && b.keys != null;
    this.forgetUnusedAfter = b.forgetUnusedAfter;
    this.hostScheduler = b.scheduler;
    this.random = b.seed == null ? new SecureRandom() : new Random(b.seed);
    this.limiter = new ProbeRateLimiter(b.maxProbesPerSecond);
    Executor events = b.eventExecutor;
    if (events == null) {
      ExecutorService owned =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, "byok-key-events");
                t.setDaemon(true);
                return t;
              });
      this.ownedEventExecutor = owned;
      events = owned;
    } else {
      this.ownedEventExecutor = null;
    }
    this.dispatcher = new EventDispatcher(events);
    if (keys != null) {
      keys.addObserver(observer);
    }
  }

  /** {@return a new builder} */
  public static Builder builder() {
    return new Builder();
  }

  // ------------------------------------------------------------------ per-key state

  private static final class Watched {
    final KeyRef ref;
    final boolean dependent; // an older ARN that stored data still depends on
    boolean auto; // watched because the data path used it; forgotten when unused
    @Nullable String arn;
    @Nullable String materialId;
    @Nullable Canary canary;
    Status status = Status.initial();
    long nextProbe;
    long nextRotationCheck;
    long lastUsed;
    @Nullable Long lastTriggeredProbe;
    boolean inFlight;
    @Nullable Instant deletionNotified;
    @Nullable Boolean rotationEnabled;

    Watched(KeyRef ref, boolean dependent, boolean auto, long now) {
      this.ref = ref;
      this.dependent = dependent;
      this.auto = auto;
      this.nextProbe = now;
      this.nextRotationCheck = now;
      this.lastUsed = now;
      if (ref.keyId().startsWith("arn:") && !ref.keyId().contains(":alias/")) {
        this.arn = ref.keyId();
      }
    }
  }

  /**
   * What the data path saw for one key id since the last round, merged.
   *
   * @param resolvedArn the ARN a successful call answered with
   * @param reachability the last OK or TRANSIENT outcome, or {@code null}
   * @param reachabilityReason its reason
   * @param throttled a call was throttled
   * @param denied a call was denied
   * @param denialReason why
   */
  private record Seen(
      @Nullable String resolvedArn,
      @Nullable Verdict reachability,
      String reachabilityReason,
      boolean throttled,
      boolean denied,
      String denialReason) {
    Seen merge(Seen later) {
      return new Seen(
          later.resolvedArn != null ? later.resolvedArn : resolvedArn,
          later.reachability != null ? later.reachability : reachability,
          later.reachability != null ? later.reachabilityReason : reachabilityReason,
          throttled || later.throttled,
          denied || later.denied,
          later.denied ? later.denialReason : denialReason);
    }
  }

  // ------------------------------------------------------------------ API

  /**
   * Starts watching a key (idempotent); a key already auto-watched becomes explicitly watched and
   * is no longer forgotten when unused. Its first probe is due at once.
   *
   * @param key the key as the host configured it (alias or ARN); its provider must be registered
   * @return this monitor
   * @throws IllegalArgumentException if no provider with the key's id is registered
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
      add(new Watched(key, false, false, time.now().nanos())).auto = false;
    }
    return this;
  }

  /**
   * Stops watching a key (for example an old ARN once no blob depends on it any more). A lock the
   * monitor took stays in the data key manager until {@link DataKeyManager#unlock}.
   *
   * @param key the key
   */
  public void unwatch(KeyRef key) {
    synchronized (this) {
      Watched w = watched.get(key);
      if (w != null) {
        remove(w);
      }
    }
    dispatcher.forget(key);
  }

  /** {@return the keys watched (explicitly and automatically), with their states; a snapshot} */
  public synchronized Map<KeyRef, KeyMonitorState> states() {
    Map<KeyRef, KeyMonitorState> m = new LinkedHashMap<>();
    watched.forEach((k, w) -> m.put(k, w.status.state()));
    return m;
  }

  /**
   * {@return its state}
   *
   * @param key a watched key
   * @throws IllegalArgumentException if the key is not watched
   */
  public synchronized KeyMonitorState state(KeyRef key) {
    return get(key).status.state();
  }

  /**
   * {@return the key ARN it resolves to, or {@code null} before the first successful probe}
   *
   * @param key a watched key
   * @throws IllegalArgumentException if the key is not watched
   */
  public synchronized @Nullable String keyArn(KeyRef key) {
    return get(key).arn;
  }

  /**
   * The guard: returns if the key may be used, throws if it is LOCKED.
   *
   * @param key a watched key
   * @throws KeyUnusableException with reason {@code LOCKED} if the key is locked
   * @throws IllegalArgumentException if the key is not watched
   */
  public synchronized void checkUsable(KeyRef key) {
    Watched w = get(key);
    if (w.status.state() == KeyMonitorState.LOCKED) {
      throw new KeyUnusableException(
          KeyUnusableException.Reason.LOCKED, key.toString(), w.status.reason(), null);
    }
  }

  /**
   * With auto-unlock off: lifts the lock of a key whose canary passes again (after a {@link
   * KeyEvent.Type#RESTORE_PENDING_ACKNOWLEDGEMENT}).
   *
   * @param key a watched key
   * @return whether the key was unlocked (false if no restore was pending)
   * @throws IllegalArgumentException if the key is not watched
   */
  public boolean acknowledgeRestore(KeyRef key) {
    boolean done;
    synchronized (this) {
      Watched w = get(key);
      done = w.status.state() == KeyMonitorState.LOCKED && w.status.restorePending();
      apply(w, new Observation.Acknowledge(), time.now());
    }
    flush();
    return done;
  }

  /**
   * Registers a listener for the events of every key, delivered on the event executor.
   *
   * @param listener receives every event from now on
   * @return this monitor
   */
  public KeyStateMonitor addListener(KeyStateListener listener) {
    dispatcher.addListener(null, listener);
    return this;
  }

  /**
   * Registers a listener for one key's events only: events whose {@link KeyEvent#key()} is {@code
   * key}, or whose {@link KeyEvent#keyArn()} is {@code key}'s key id (a key ARN watched through an
   * alias). The key need not be watched yet.
   *
   * @param key the key (a tenant's KEK)
   * @param listener receives that key's events from now on
   * @return this monitor
   */
  public KeyStateMonitor addListener(KeyRef key, KeyStateListener listener) {
    dispatcher.addListener(Objects.requireNonNull(key, "key"), listener);
    return this;
  }

  /**
   * Removes every registration of a listener.
   *
   * @param listener a registered listener
   */
  public void removeListener(KeyStateListener listener) {
    dispatcher.removeListener(listener);
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
   * @throws IllegalStateException if the monitor is closed
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
      task = s.scheduleWithFixedDelay(this::runSafely, 0, tick.toNanos(), TimeUnit.NANOSECONDS);
    }
    return this;
  }

  private void runSafely() {
    try {
      runDueProbes();
    } catch (Throwable e) { // an Error reaching scheduleWithFixedDelay would cancel every round
      LOG.warn("key monitor round failed", e);
    }
  }

  /**
   * Runs one round: turns what the data path saw since the last round into observations (and
   * auto-watches keys used for the first time), applies timers, forgets unused auto-watched keys,
   * and probes every key whose probe is due, within the rate limit. The scheduler calls this every
   * tick; tests call it after advancing a manual clock.
   *
   * @return how many keys were probed
   */
  public int runDueProbes() {
    List<Watched> due = new ArrayList<>();
    synchronized (this) {
      MonitorTime.Now now = time.now();
      takeDataPathObservations(now);
      limiter.refill(now.nanos());
      for (Watched w : List.copyOf(watched.values())) {
        apply(w, new Observation.Tick(), now);
        if (forgettable(w, now.nanos())) {
          remove(w);
          forget(w);
          continue;
        }
        if (!w.inFlight && w.nextProbe - now.nanos() <= 0 && limiter.tryAcquire()) {
          w.inFlight = true;
          due.add(w);
        }
      }
    }
    flush();
    int i = 0;
    try {
      for (; i < due.size(); i++) {
        try {
          probe(due.get(i));
        } catch (RuntimeException bug) {
          LOG.warn("probe of {} failed", due.get(i).ref, bug); // the other keys are still probed
        }
      }
    } finally {
      if (i < due.size()) { // an Error: the keys not probed yet must not stay in flight forever
        synchronized (this) {
          for (Watched w : due.subList(i, due.size())) {
            w.inFlight = false;
          }
        }
      }
    }
    return due.size();
  }

  /**
   * Probes one key now, regardless of its schedule and the rate limit, on the calling thread.
   *
   * @param key a watched key
   * @throws IllegalArgumentException if the key is not watched
   */
  public void probeNow(KeyRef key) {
    Watched w;
    synchronized (this) {
      w = get(key);
      w.inFlight = true;
    }
    probe(w);
  }

  private long nextNormalProbe(long now) {
    double factor = 1 + jitter * (2 * random.nextDouble() - 1);
    return now + (long) (probeInterval.toNanos() * factor);
  }

  private boolean forgettable(Watched w, long now) {
    // never in doubt (SUSPECT, LOCKED), nor during an outage, when cached data keys are all that
    // serves (UNREACHABLE): forgetting purges them
    return w.auto
        && !w.inFlight
        && w.status.state() == KeyMonitorState.ACTIVE
        && now - w.lastUsed >= forgetUnusedAfter.toNanos();
  }

  /** Called under the lock for an auto-watched key removed as unused. */
  private void forget(Watched w) {
    LOG.info("key {} unused for {}; no longer watched", w.ref, forgetUnusedAfter);
    DataKeyManager m = keys;
    String arn = w.arn;
    if (m != null) {
      // nothing may be served under a key nobody watches: its next use makes a KMS call
      effects.add((Runnable) () -> m.invalidate(arn != null ? arn : w.ref.keyId()));
    }
    effects.add(new ForgetQueue(w.ref)); // after the key's events of the same batch are offered
  }

  // ------------------------------------------------------------------ the index (under the lock)

  /**
   * {@return the watched entry for {@code w.ref}: {@code w}, added and indexed, or the one there}
   */
  private Watched add(Watched w) {
    Watched there = watched.get(w.ref);
    if (there != null) {
      return there;
    }
    watched.put(w.ref, w);
    index(w.ref.keyId(), w);
    String arn = w.arn;
    if (arn != null) {
      index(arn, w);
    }
    return w;
  }

  private void remove(Watched w) {
    if (watched.remove(w.ref, w)) {
      unindex(w.ref.keyId(), w);
      String arn = w.arn;
      if (arn != null) {
        unindex(arn, w);
      }
    }
  }

  private void setArn(Watched w, String arn) {
    String old = w.arn;
    if (arn.equals(old)) {
      return;
    }
    if (old != null && !old.equals(w.ref.keyId())) {
      unindex(old, w);
    }
    w.arn = arn;
    if (watched.get(w.ref) == w) {
      index(arn, w);
    }
  }

  private void index(String id, Watched w) {
    List<Watched> l = byId.computeIfAbsent(id, k -> new ArrayList<>(1));
    if (!l.contains(w)) {
      l.add(w);
    }
  }

  private void unindex(String id, Watched w) {
    List<Watched> l = byId.get(id);
    if (l != null && l.remove(w) && l.isEmpty()) {
      byId.remove(id);
    }
  }

  // ------------------------------------------------------------------ the data path

  private void onKmsCall(
      String operation,
      String keyId,
      @Nullable String resolvedArn,
      @Nullable ByokException failure) {
    Seen s;
    if (failure == null) {
      s =
          new Seen(
              resolvedArn, Verdict.OK, "data-path " + operation + " succeeded", false, false, "");
    } else if (failure instanceof KeyUnusableException denied
        && denied.reason() != KeyUnusableException.Reason.LOCKED) {
      s =
          new Seen(
              null, null, "", false, true, "data-path " + operation + ": " + denied.getMessage());
    } else if (failure instanceof KmsUnavailableException down) {
      s =
          new Seen(
              null,
              Verdict.TRANSIENT,
              "data-path " + operation + ": " + down.getMessage(),
              down.throttled(),
              false,
              "");
    } else {
      return; // corrupt blobs and configuration errors say nothing about the key
    }
    // the only work on the caller's thread: record it; the next round decides
    seen.merge(keyId, s, Seen::merge);
  }

  /** Called under the lock at the start of a round. */
  private void takeDataPathObservations(MonitorTime.Now now) {
    for (String keyId : seen.keySet()) {
      Seen s = seen.remove(keyId);
      if (s == null) {
        continue;
      }
      List<Watched> matching = new ArrayList<>(byId.getOrDefault(keyId, List.of()));
      String resolved = s.resolvedArn;
      if (resolved != null && !resolved.equals(keyId)) {
        for (Watched w : byId.getOrDefault(resolved, List.of())) {
          if (resolved.equals(w.arn) && !matching.contains(w)) {
            matching.add(w);
          }
        }
      }
      boolean matched = !matching.isEmpty();
      for (Watched w : matching) {
        observe(w, s, now);
      }
      if (!matched && autoWatch && s.reachability == Verdict.OK && providers.size() == 1) {
        KeyRef ref;
        try {
          ref = KeyRef.of(providers.keySet().iterator().next(), keyId);
        } catch (IllegalArgumentException notAKeyId) {
          LOG.debug("not watching {}: {}", keyId, notAKeyId.getMessage());
          continue;
        }
        LOG.info("key {} used by the data path; watching it", ref);
        observe(add(new Watched(ref, false, true, now.nanos())), s, now);
      }
    }
  }

  private void observe(Watched w, Seen s, MonitorTime.Now now) {
    w.lastUsed = now.nanos();
    String resolved = s.resolvedArn;
    if (w.arn == null && resolved != null && !w.dependent) {
      setArn(w, resolved); // the data path resolved the configured id before any DescribeKey did
    }
    if (s.reachability != null) {
      apply(w, new Observation.DataPath(s.reachability, s.reachabilityReason, s.throttled), now);
    }
    if (s.denied) {
      apply(w, new Observation.DataPath(Verdict.DENIAL, s.denialReason, false), now);
    }
  }

  // ------------------------------------------------------------------ steps and effects

  /** Called under the lock: one step of the machine, its effects queued in order. */
  private void apply(Watched w, Observation o, MonitorTime.Now now) {
    KeyStateMachine.Step step = machine.step(w.status, o, now.nanos());
    w.status = step.status();
    for (Notice n : step.notices()) {
      effects.add(
          new KeyEvent(
              n.type(),
              w.ref,
              w.arn,
              n.from(),
              n.to(),
              n.reason(),
              now.wall(),
              n.lockIn() == null ? null : now.wall().plus(n.lockIn()),
              null,
              null));
    }
    for (Action a : step.actions()) {
      if (a == Action.PROBE_NOW) {
        long earliest =
            w.lastTriggeredProbe == null
                ? now.nanos()
                : Math.max(now.nanos(), w.lastTriggeredProbe + suspectProbeInterval.toNanos());
        if (w.nextProbe - earliest > 0) {
          w.nextProbe = earliest;
          w.lastTriggeredProbe = earliest;
        }
      } else {
        managerEffect(w, a);
      }
    }
  }

  private void managerEffect(Watched w, Action a) {
    DataKeyManager m = keys;
    if (m == null) {
      return;
    }
    String configured = w.ref.keyId();
    String arn = w.arn;
    switch (a) {
      case PURGE -> {
        String target = arn != null ? arn : configured; // no ARN learned yet: the configured id
        effects.add((Runnable) () -> m.invalidate(target));
      }
      case LOCK -> {
        LOG.warn("key {} LOCKED: {}", w.ref, w.status.reason());
        effects.add(
            (Runnable)
                () -> {
                  m.lock(configured);
                  if (arn != null) {
                    m.lock(arn);
                  }
                });
      }
      case UNLOCK -> {
        LOG.info("key {} unlocked: {}", w.ref, w.status.reason());
        effects.add(
            (Runnable)
                () -> {
                  m.unlock(configured);
                  if (arn != null) {
                    m.unlock(arn);
                  }
                });
      }
      default -> throw new AssertionError(a);
    }
  }

  /**
   * Applies queued effects to the data key manager in the order they were decided, then hands the
   * events to the dispatcher: every manager action of a batch runs before any of its events is
   * offered, since a key's queue may be draining on another thread and would otherwise deliver
   * LOCKED before the manager refuses the key. Called with the monitor's lock not held; listeners
   * run after both locks are released.
   */
  private void flush() {
    List<EventDispatcher.Queue> toStart = new ArrayList<>();
    effectLock.lock();
    try {
      while (true) {
        List<Object> batch;
        synchronized (this) {
          if (effects.isEmpty()) {
            break;
          }
          batch = new ArrayList<>(effects);
          effects.clear();
        }
        for (Object e : batch) {
          if (e instanceof Runnable action) {
            try {
              action.run();
            } catch (RuntimeException bug) {
              LOG.warn("key monitor action failed", bug);
            }
          }
        }
        for (Object e : batch) {
          if (e instanceof ForgetQueue f) {
            dispatcher.forget(f.key());
          } else if (e instanceof KeyEvent event) {
            EventDispatcher.Queue q = dispatcher.offer(event);
            if (q != null) {
              toStart.add(q);
            }
            Consumer<KeyEvent> hook = afterOffer;
            if (hook != null) {
              hook.accept(event);
            }
          }
        }
      }
    } finally {
      effectLock.unlock();
    }
    dispatcher.deliver(toStart);
  }

  /**
   * Tests only: called in {@link #flush} right after each event is offered, to stand for an event
   * thread that drains the key's queue at that moment.
   */
  volatile @Nullable Consumer<KeyEvent> afterOffer;

  // ------------------------------------------------------------------ probing

  private void probe(Watched w) {
    try {
      probeUnflushed(w);
    } finally {
      flush();
    }
  }

  private void probeUnflushed(Watched w) {
    KeyProvider p = Objects.requireNonNull(providers.get(w.ref.providerId()));
    Canary canary;
    String canaryKey;
    boolean rotationDue;
    synchronized (this) {
      canary = w.canary;
      String arn = w.arn;
      canaryKey = w.dependent && arn != null ? arn : w.ref.keyId();
      rotationDue = w.nextRotationCheck - time.now().nanos() <= 0;
    }
    KeyProber.Result r;
    try {
      r = KeyProber.probe(p, w.ref.keyId(), canary, canaryKey, w.dependent, rotationDue);
    } catch (Throwable e) { // the prober maps every RuntimeException: this is an Error
      synchronized (this) {
        w.inFlight = false; // probed again next round
      }
      throw e;
    }

    synchronized (this) {
      MonitorTime.Now now = time.now();
      w.inFlight = false;
      if (watched.get(w.ref) != w) {
        return; // unwatched meanwhile
      }
      if (rotationDue) {
        w.nextRotationCheck = now.nanos() + rotationCheckInterval.toNanos();
      }
      KeyDescription description = r.description();
      Canary made = r.canary();
      if (description != null) {
        // first: on a retarget this hands the old canary to the old ARN's dependent watch
        learnDescription(w, description, now);
      } else if (w.arn == null && made != null && !w.dependent) {
        // DescribeKey refused (degraded) or failed: the canary, made under the configured id,
        // names the ARN behind it, which LOCK and PURGE must reach
        setArn(w, made.keyArn());
      }
      if (r.canaryOk()) {
        w.canary = r.canary();
      } else if (r.canaryFailure() == null
          || r.canaryFailure() instanceof InvalidCiphertextException) {
        w.canary = null; // a broken canary is remade next time
      }
      RotationStatus rotation = r.rotation();
      if (rotation != null && !Objects.equals(w.rotationEnabled, rotation.enabled())) {
        if (w.rotationEnabled != null) {
          info(w, KeyEvent.Type.ROTATION_STATUS_CHANGED, "automatic rotation " + rotation, now);
        }
        w.rotationEnabled = rotation.enabled();
      }
      apply(w, r.observation(), now);
      w.nextProbe = nextProbeAfterProbe(w, now.nanos());
    }
  }

  private long nextProbeAfterProbe(Watched w, long now) {
    Long first = w.status.firstDenialNanos();
    if (w.status.state() != KeyMonitorState.SUSPECT || first == null) {
      return nextNormalProbe(now);
    }
    long next = now + suspectProbeInterval.toNanos();
    long graceEnds = first + gracePeriod.toNanos();
    // a probe exactly when the grace period ends confirms the lock without waiting a full interval
    return graceEnds - now > 0 && graceEnds - next < 0 ? graceEnds : next;
  }

  private void info(Watched w, KeyEvent.Type type, String reason, MonitorTime.Now now) {
    KeyMonitorState s = w.status.state();
    effects.add(new KeyEvent(type, w.ref, w.arn, s, s, reason, now.wall(), null, null, null));
  }

  private void learnDescription(Watched w, KeyDescription d, MonitorTime.Now now) {
    String previous = w.arn;
    KeyMonitorState s = w.status.state();
    if (previous != null && !previous.equals(d.keyArn()) && !w.dependent) {
      String next = d.keyArn();
      setArn(w, next);
      w.materialId = d.currentKeyMaterialId();
      effects.add(
          new KeyEvent(
              KeyEvent.Type.KEY_RETARGETED,
              w.ref,
              next,
              s,
              s,
              w.ref.keyId()
                  + " now points at "
                  + next
                  + "; new blobs use it, old blobs keep "
                  + previous,
              now.wall(),
              null,
              null,
              previous));
      DataKeyManager m = keys;
      if (m != null) {
        effects.add(
            (Runnable)
                () -> {
                  m.allowArn(next);
                  m.retireEncryptionKeys(previous); // new blobs get a data key under the new ARN
                });
      }
      KeyRef old = KeyRef.of(w.ref.providerId(), previous);
      Watched fresh = new Watched(old, true, false, now.nanos());
      Watched dep = add(fresh);
      if (dep == fresh && s == KeyMonitorState.LOCKED) {
        // the manager still refuses the old ARN (locked through the alias): so does its watch,
        // until its own probes pass and unlock it
        dep.status = w.status;
      }
      Canary c = w.canary;
      if (dep.canary == null && c != null && c.keyArn().equals(previous)) {
        dep.canary = c; // the old canary keeps testing the old key
      }
      w.canary = null;
    } else {
      setArn(w, d.keyArn());
      String material = d.currentKeyMaterialId();
      if (w.materialId != null && material != null && !material.equals(w.materialId)) {
        info(
            w,
            KeyEvent.Type.KEY_MATERIAL_ROTATED,
            "key material rotated in place ("
                + w.materialId
                + " -> "
                + material
                + "); old blobs still decrypt",
            now);
      }
      if (material != null) {
        w.materialId = material;
      }
    }
    if (!w.auto && !w.ref.keyId().equals(w.arn)) {
      // an auto-watched entry for the ARN this alias resolves to is the same key: keep one
      KeyRef same = KeyRef.of(w.ref.providerId(), d.keyArn());
      Watched dup = watched.get(same);
      if (dup != null && dup.auto && dup.status.state() == KeyMonitorState.ACTIVE) {
        remove(dup);
      }
    }
    Instant deletion = d.deletionDate();
    if (d.state() == KeyState.PENDING_DELETION
        && deletion != null
        && !deletion.equals(w.deletionNotified)) {
      w.deletionNotified = deletion;
      effects.add(
          new KeyEvent(
              KeyEvent.Type.DELETION_SCHEDULED,
              w.ref,
              w.arn,
              s,
              s,
              "key is scheduled for deletion; cancel before " + deletion + " to keep the data",
              now.wall(),
              null,
              deletion,
              null));
    } else if (d.state() != KeyState.PENDING_DELETION) {
      w.deletionNotified = null;
    }
  }

  /**
   * Stops probing and stops listening to the data key manager; shuts down an owned scheduler (a
   * host's is left running) and, once the events already queued are delivered, the owned event
   * thread. Locks already taken stay until {@link DataKeyManager#unlock}. Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      if (task != null) {
        task.cancel(false);
        task = null;
      }
      if (ownedScheduler != null) {
        ownedScheduler.shutdownNow();
        ownedScheduler = null;
      }
    }
    if (keys != null) {
      keys.removeObserver(observer);
    }
    if (ownedEventExecutor != null) {
      ownedEventExecutor.shutdown();
    }
  }

  @Override
  public synchronized String toString() {
    return "KeyStateMonitor[" + states() + "]";
  }

  /**
   * Builds a {@link KeyStateMonitor}. Defaults: probe every 5 min ±10 %, suspect keys every 15 s,
   * 30 s grace, rotation status every 6 h, never lock for unreachability, auto-unlock, at most 10
   * probes per second, 1 s tick, auto-watch keys the data key manager uses and forget them after 1
   * h unused, events on one owned daemon thread. Setters fail fast naming the bad value. Not
   * thread-safe.
   */
  public static final class Builder {
    private final Map<String, KeyProvider> providers = new LinkedHashMap<>();
    private @Nullable DataKeyManager keys;
    private InstantSource clock = InstantSource.system();
    private @Nullable LongSupplier ticker;
    private Duration probeInterval = Duration.ofMinutes(5);
    private double jitter = 0.1;
    private Duration suspectProbeInterval = Duration.ofSeconds(15);
    private Duration gracePeriod = Duration.ofSeconds(30);
    private Duration rotationCheckInterval = Duration.ofHours(6);
    private @Nullable Duration lockWhenUnreachableFor;
    private boolean autoUnlock = true;
    private double maxProbesPerSecond = 10;
    private Duration tick = Duration.ofSeconds(1);
    private boolean autoWatch = true;
    private Duration forgetUnusedAfter = Duration.ofHours(1);
    private @Nullable ScheduledExecutorService scheduler;
    private @Nullable Executor eventExecutor;
    private @Nullable Long seed;

    private Builder() {}

    /**
     * Configures {@code provider}.
     *
     * @param provider a provider whose keys may be watched
     * @return this builder
     * @throws IllegalArgumentException if a provider with the same id is already registered
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
     * Configures {@code clock}.
     *
     * @param clock wall clock for event timestamps; without a {@link #ticker}, durations follow it
     *     too (tests pass one manual clock)
     * @return this builder
     */
    public Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Configures {@code ticker}.
     *
     * @param nanos monotonic time source for every duration (default {@link System#nanoTime} with
     *     the system clock, else derived from {@link #clock})
     * @return this builder
     */
    public Builder ticker(LongSupplier nanos) {
      this.ticker = Objects.requireNonNull(nanos, "ticker");
      return this;
    }

    /**
     * Configures {@code probeInterval}.
     *
     * @param interval time between probes of a healthy key (default 5 min)
     * @return this builder
     */
    public Builder probeInterval(Duration interval) {
      this.probeInterval = positive(interval, "probeInterval");
      return this;
    }

    /**
     * Configures {@code jitter}.
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
     * Configures {@code suspectProbeInterval}.
     *
     * @param interval time between probes of a SUSPECT key, and the least time between two probes
     *     of one key triggered by data-path results (default 15 s)
     * @return this builder
     */
    public Builder suspectProbeInterval(Duration interval) {
      this.suspectProbeInterval = positive(interval, "suspectProbeInterval");
      return this;
    }

    /**
     * Configures {@code gracePeriod}.
     *
     * @param grace how long a key must stay denied before it is LOCKED (default 30 s): absorbs KMS
     *     eventual consistency; zero locks at the first denying probe
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
     * Configures {@code rotationCheckInterval}.
     *
     * @param interval time between rotation-status checks (default 6 h)
     * @return this builder
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
     * Configures {@code autoUnlock}.
     *
     * @param auto unlock as soon as the canary passes again (default true); false waits for {@link
     *     KeyStateMonitor#acknowledgeRestore}
     * @return this builder
     */
    public Builder autoUnlock(boolean auto) {
      this.autoUnlock = auto;
      return this;
    }

    /**
     * Configures {@code maxProbesPerSecond}.
     *
     * @param rate most probes per second across all keys (default 10)
     * @return this builder
     */
    public Builder maxProbesPerSecond(double rate) {
      if (!(rate > 0)) {
        throw new IllegalArgumentException("maxProbesPerSecond must be > 0, was " + rate);
      }
      this.maxProbesPerSecond = rate;
      return this;
    }

    /**
     * Configures {@code tick}.
     *
     * @param tick how often the scheduler runs a round (default 1 s); data-path observations are
     *     taken up at the next round
     * @return this builder
     */
    public Builder tick(Duration tick) {
      this.tick = positive(tick, "tick");
      return this;
    }

    /**
     * Configures {@code autoWatch}.
     *
     * @param auto watch every key the data key manager makes a successful KMS call with (default
     *     true; needs {@link #dataKeyManager} and exactly one provider)
     * @return this builder
     */
    public Builder autoWatch(boolean auto) {
      this.autoWatch = auto;
      return this;
    }

    /**
     * Configures {@code forgetUnusedAfter}.
     *
     * @param idle how long an auto-watched key may go without a KMS call before the monitor forgets
     *     it and purges the manager's cached data keys under it (default 1 h); only ACTIVE
     *     auto-watched keys are forgotten, never explicitly watched, UNREACHABLE, SUSPECT or LOCKED
     *     ones
     * @return this builder
     */
    public Builder forgetUnusedAfter(Duration idle) {
      this.forgetUnusedAfter = positive(idle, "forgetUnusedAfter");
      return this;
    }

    /**
     * Configures {@code scheduler}.
     *
     * @param scheduler the host's scheduler (never shut down by the monitor); default: an owned
     *     daemon thread
     * @return this builder
     */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * Configures {@code eventExecutor}.
     *
     * @param executor runs listener deliveries (never shut down by the monitor); default: one
     *     daemon thread the monitor owns. With several threads, events of different keys may be
     *     delivered concurrently; one key's events stay in order. A direct executor ({@code
     *     Runnable::run}) delivers on the thread that ran the probe or round (never under a lock).
     * @return this builder
     */
    public Builder eventExecutor(Executor executor) {
      this.eventExecutor = Objects.requireNonNull(executor, "eventExecutor");
      return this;
    }

    /**
     * Configures {@code seed}.
     *
     * @param seed seed for the jitter (tests); default: a secure random
     * @return this builder
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
