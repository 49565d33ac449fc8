package dev.byok.examples;

import dev.byok.Byok;
import dev.byok.KeyRef;
import dev.byok.monitor.KeyEvent;
import dev.byok.monitor.KeyStateListener;
import dev.byok.monitor.KeyStateMonitor;
import dev.byok.testkit.FakeKms;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * How a host wires the key state monitor into its own locking: a {@link Repository} (think: a
 * snapshot repository or an index) that refuses reads and writes while its customer's key is
 * locked, pauses its snapshot job, and pages a human when the key is scheduled for deletion. This
 * is the example docs/key-lifecycle.md points to; {@code HostLockExampleTest} runs it.
 *
 * <p>Why this cannot deadlock: every repository operation holds the read lock while it calls byok,
 * and the LOCKED listener takes the write lock. The monitor never runs a listener on a thread that
 * called byok, nor while byok holds a lock: a read whose KMS call is denied only records the denial
 * and fails; the monitor's round confirms it with a probe and delivers LOCKED on its event thread,
 * where the write lock waits for that read (and every other in flight) to finish.
 */
public final class HostLockExample {
  private HostLockExample() {}

  /** The host's own notion of a repository, with its own lock. */
  public static final class Repository {
    private final String name;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private volatile boolean locked;
    private volatile String lockReason = "";
    private volatile boolean snapshotsPaused;

    public Repository(String name) {
      this.name = name;
    }

    /** Closes the repository: in-flight operations finish, new ones are refused. */
    public void lockForKeyRevocation(String reason) {
      lock.writeLock().lock(); // waits for in-flight reads and writes
      try {
        locked = true;
        lockReason = reason;
        snapshotsPaused = true;
      } finally {
        lock.writeLock().unlock();
      }
    }

    public void unlock() {
      lock.writeLock().lock();
      try {
        locked = false;
        lockReason = "";
        snapshotsPaused = false;
      } finally {
        lock.writeLock().unlock();
      }
    }

    /**
     * Every read or write of the repository goes through here, holding the read lock for the whole
     * operation (byok calls included).
     */
    public <T> T withAccess(java.util.function.Supplier<T> operation) {
      lock.readLock().lock();
      try {
        if (locked) {
          throw new IllegalStateException(
              "repository "
                  + name
                  + " is locked: the customer's key is unusable ("
                  + lockReason
                  + ")");
        }
        return operation.get();
      } finally {
        lock.readLock().unlock();
      }
    }

    public boolean isLocked() {
      return locked;
    }

    public boolean snapshotsPaused() {
      return snapshotsPaused;
    }
  }

  /** The listener: maps monitor events onto the repositories that depend on each key. */
  public static final class RepositoryLocks implements KeyStateListener {
    private final ConcurrentHashMap<KeyRef, List<Repository>> byKey = new ConcurrentHashMap<>();
    final List<String> pages = new ArrayList<>();

    public void register(KeyRef key, Repository repository) {
      byKey
          .computeIfAbsent(key, k -> new java.util.concurrent.CopyOnWriteArrayList<>())
          .add(repository);
    }

    @Override
    public void onEvent(KeyEvent event) {
      List<Repository> repositories = byKey.getOrDefault(event.key(), List.of());
      switch (event.type()) {
        case LOCKED:
          repositories.forEach(r -> r.lockForKeyRevocation(event.reason()));
          break;
        case UNLOCKED:
          repositories.forEach(Repository::unlock);
          break;
        case DELETION_SCHEDULED:
          synchronized (pages) {
            pages.add(
                "key "
                    + event.key()
                    + " will be deleted on "
                    + event.deletionDate()
                    + ": the customer can still cancel; after that the data is gone");
          }
          break;
        default:
          break; // retarget, rotation, reachability: informational for this host
      }
    }
  }

  /** A short run: watch a key, revoke it, see the repository lock; restore it, see it unlock. */
  public static void main(String[] args) throws InterruptedException {
    FakeKms kms = FakeKms.create();
    String arn = kms.api().createKey().arn();
    KeyRef key = KeyRef.of(kms.providerId(), arn);
    Repository repository = new Repository("snapshots");
    RepositoryLocks locks = new RepositoryLocks();
    locks.register(key, repository);
    try (Byok byok = Byok.builder().provider(kms).encryptUnder(key).build();
        KeyStateMonitor monitor =
            KeyStateMonitor.builder()
                .provider(kms)
                .dataKeyManager(byok.keys())
                .gracePeriod(Duration.ZERO)
                .build()) {
      // events arrive on the monitor's event thread: this example waits for them
      BlockingQueue<KeyEvent.Type> handled = new LinkedBlockingQueue<>();
      monitor.watch(key).addListener(key, locks).addListener(key, e -> handled.add(e.type()));
      monitor.probeNow(key);
      kms.api().disableKey(arn);
      monitor.probeNow(key); // LOCKED (grace period zero for the example)
      awaitEvent(handled, KeyEvent.Type.LOCKED);
      System.out.println("after revocation: locked=" + repository.isLocked());
      kms.api().enableKey(arn);
      monitor.probeNow(key);
      awaitEvent(handled, KeyEvent.Type.UNLOCKED);
      System.out.println("after restore: locked=" + repository.isLocked());
    }
  }

  private static void awaitEvent(BlockingQueue<KeyEvent.Type> handled, KeyEvent.Type type)
      throws InterruptedException {
    for (KeyEvent.Type t = null; t != type; ) {
      t = handled.poll(30, TimeUnit.SECONDS);
      if (t == null) {
        throw new IllegalStateException("no " + type + " event within 30 s");
      }
    }
  }
}
