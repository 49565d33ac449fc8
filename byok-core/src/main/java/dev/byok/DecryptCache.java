package dev.byok;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The decrypt side's cache of unwrapped data keys, with single-flight loading, revocation epochs,
 * per-KEK bounds and a short memory of rejected wrapped keys.
 *
 * <ul>
 *   <li><b>No lock during KMS I/O:</b> a miss elects one loader through a map of futures; the
 *       loader calls the KMS on its own thread with no lock held, everyone else waits on the future
 *       (which parks a virtual thread instead of pinning it).
 *   <li><b>Epochs:</b> a load records its KEK's {@link Epochs#stamp stamp} when it starts; if an
 *       invalidation, lock or close moved it by the time the KMS answered, the key is zeroed and
 *       discarded — never cached, never handed out — and the caller starts over.
 *   <li><b>Leases:</b> callers get a private single-use copy ({@link DataKey#lease}); a purge
 *       zeroes the cached key at once while a copy already handed out stays usable until its user
 *       destroys it.
 *   <li><b>Per-KEK bound:</b> one KEK holds at most {@code perKek} entries; past that it evicts one
 *       of its own, so one tenant cannot evict the others. The per-KEK index also makes {@link
 *       #invalidate} proportional to that KEK's entries, not to the cache.
 * </ul>
 *
 * <p>Thread-safe.
 */
final class DecryptCache {
  /** How many times one read starts a load over after revocations overtook it. */
  static final int MAX_STALE_RETRIES = 3;

  /** How many times one read starts over because cache pressure evicted its freshly loaded key. */
  static final int MAX_EVICTED_RETRIES = 16;

  /**
   * How long a rejected wrapped key is remembered: a wrapped key the KMS refused as invalid, or an
   * ACCESS_DENIED for one slot under one header's context (keyed by a digest of both). A grant or
   * key policy change that allows that request again takes effect for that blob at most this long
   * after the denial (AWS KMS itself may take minutes to apply a policy change).
   */
  static final Duration REJECTION_TTL = Duration.ofMinutes(1);

  private static final int MAX_REJECTIONS = 10_000;

  /** Cache key: one slot of one data key (public bytes only). */
  static final class SlotKey {
    final String dekId;
    final byte[] commitment;
    final String providerId;
    final String keyArn;
    final byte[] wrapped;
    final int hash;

    SlotKey(EnvelopeHeader h, KeySlot s) {
      this.dekId = h.dekIdHex();
      this.commitment = h.keyCommitment();
      this.providerId = s.providerId();
      this.keyArn = s.keyArn();
      this.wrapped = s.wrappedKey();
      this.hash = (dekId.hashCode() * 31 + keyArn.hashCode()) * 31 + Arrays.hashCode(wrapped);
    }

    @Override
    public boolean equals(@Nullable Object o) {
      return o instanceof SlotKey k
          && dekId.equals(k.dekId)
          && Arrays.equals(commitment, k.commitment)
          && providerId.equals(k.providerId)
          && keyArn.equals(k.keyArn)
          && Arrays.equals(wrapped, k.wrapped);
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public String toString() {
      return dekId + "@" + providerId + "://" + keyArn;
    }
  }

  /** A loaded key and the epoch stamp its load started under. */
  private static final class Entry {
    final DataKey key;
    final long stamp;

    Entry(DataKey key, long stamp) {
      this.key = key;
      this.stamp = stamp;
    }
  }

  private final Epochs epochs;
  private final @Nullable Cache<SlotKey, Entry> cache;
  private final long perKek;
  private final ConcurrentHashMap<SlotKey, CompletableFuture<Entry>> loading =
      new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Set<SlotKey>> byKek = new ConcurrentHashMap<>();
  private final Cache<ByteBuffer, ByokException> rejected;
  private final LongAdder perKekEvictions = new LongAdder();
  private volatile boolean closed;

  DecryptCache(Epochs epochs, long maxEntries, long perKek, Duration ttl, Ticker ticker) {
    this.epochs = epochs;
    this.perKek = perKek;
    this.cache =
        maxEntries == 0
            ? null
            : Caffeine.newBuilder()
                .maximumSize(maxEntries)
                .expireAfterWrite(ttl)
                .ticker(ticker)
                .recordStats()
                .executor(Runnable::run) // zero on removal synchronously, not later on a pool
                .removalListener(
                    (@Nullable SlotKey k, @Nullable Entry v, RemovalCause cause) -> {
                      if (v != null) {
                        v.key.destroy();
                      }
                      if (k != null) {
                        unindex(k);
                      }
                    })
                .build();
    this.rejected =
        Caffeine.newBuilder()
            .maximumSize(MAX_REJECTIONS)
            .expireAfterWrite(REJECTION_TTL)
            .ticker(ticker)
            .build();
  }

  boolean caching() {
    return cache != null;
  }

  private boolean valid(Entry e, String keyArn) {
    return !closed && epochs.stamp(keyArn) == e.stamp;
  }

  /** A lease on the cached key for {@code k}, or {@code null} (absent, stale or purged). */
  @Nullable DataKey leaseCached(SlotKey k) {
    Cache<SlotKey, Entry> c = cache;
    if (c == null) {
      return null;
    }
    Entry e = c.getIfPresent(k);
    if (e == null || !valid(e, k.keyArn)) {
      return null;
    }
    return e.key.lease();
  }

  /** Whether a valid key for {@code k} is cached (it was unwrapped and checked). */
  boolean contains(SlotKey k) {
    Cache<SlotKey, Entry> c = cache;
    Entry e = c == null ? null : c.getIfPresent(k);
    return e != null && valid(e, k.keyArn) && !e.key.isDestroyed();
  }

  /**
   * Returns a lease on the data key of {@code k}: cached, or unwrapped by {@code unwrap} once for
   * all concurrent callers. {@code precheck} runs before every attempt (e.g. the lock check) and
   * may throw.
   */
  DataKey leaseOrLoad(SlotKey k, Runnable precheck, Supplier<DataKey> unwrap) {
    int evicted = 0;
    for (int attempt = 0; ; attempt++) {
      if (closed) {
        throw closedError();
      }
      if (evicted > MAX_EVICTED_RETRIES) {
        throw new KmsUnavailableException(
            "the data key of "
                + k
                + " was evicted before it could be used, "
                + evicted
                + " times (the decrypt cache is too small for the load); retry",
            false,
            null);
      }
      if (attempt > MAX_STALE_RETRIES) {
        throw new KmsUnavailableException(
            "the data key of "
                + k
                + " was revoked while it was being unwrapped, "
                + attempt
                + " times; retry",
            false,
            null);
      }
      // the stamp is read before the lock check: a lock that lands after the check moved it, so
      // whatever this attempt loads is stale (never "checked unlocked, then stamped after lock")
      long stamp = epochs.stamp(k.keyArn);
      precheck.run();
      Cache<SlotKey, Entry> c = cache;
      if (c == null) {
        long now = epochs.stamp(k.keyArn);
        if (now != stamp) {
          precheck.run(); // as in load: no KMS call for a key locked since the check
          stamp = now;
        }
        DataKey key = unwrap.get();
        if (!closed && epochs.stamp(k.keyArn) == stamp) {
          key.markSingleUse(); // nobody caches it: its one user destroys it
          return key;
        }
        key.destroy();
        continue;
      }
      DataKey hit = leaseCached(k);
      if (hit != null) {
        return hit;
      }
      CompletableFuture<Entry> mine = new CompletableFuture<>();
      CompletableFuture<Entry> running = loading.putIfAbsent(k, mine);
      if (running == null) {
        // a load may have published and left between the miss above and this election: take
        // its entry instead of asking the KMS a second time for the same data key
        Entry done = c.getIfPresent(k);
        DataKey late = done != null && valid(done, k.keyArn) ? done.key.lease() : null;
        if (late != null) {
          loading.remove(k, mine);
          mine.complete(done); // whoever joined this election in between leases the same entry
          return late;
        }
        DataKey own = load(c, k, stamp, precheck, unwrap, mine);
        if (own != null) {
          return own; // leased before publishing: an eviction right after cannot take it away
        }
        running = mine; // failed (join throws) or stale
      }
      Entry e = KeyAccess.join(running);
      loading.remove(k, running); // never join a finished load twice
      if (valid(e, k.keyArn)) {
        DataKey lease = e.key.lease();
        if (lease != null) {
          return lease;
        }
        // valid but already evicted and zeroed (cache pressure, not a revocation): not stale
        evicted++;
        attempt--;
      }
      // revoked while loading (or just after): start over, which asks the KMS again
    }
  }

  /**
   * Loads {@code k} as the elected loader; returns the loader's own lease (taken before the entry
   * is published), or null if the load turned out stale. Completes {@code f} either way.
   */
  private @Nullable DataKey load(
      Cache<SlotKey, Entry> c,
      SlotKey k,
      long checkedStamp,
      Runnable precheck,
      Supplier<DataKey> unwrap,
      CompletableFuture<Entry> f) {
    boolean published = false;
    Entry e = null;
    DataKey own = null;
    try {
      long stamp = checkedStamp; // read before the caller's lock check
      long now = epochs.stamp(k.keyArn);
      if (now != stamp) {
        // revoked since the caller's check: a lock fails here, with no KMS call; the new stamp was
        // read before this check, so a lock landing after it still makes this load stale
        precheck.run();
        stamp = now;
      }
      e = new Entry(unwrap.get(), stamp); // the KMS call: no lock held
      if (valid(e, k.keyArn)) {
        own = e.key.lease(); // before publishing: once cached, any eviction may zero e.key
        publish(c, k, e);
        // an invalidation that moved the epoch after the check above either saw the entry in its
        // scan, or is seen by this second check: either way the entry does not survive it
        boolean fresh = valid(e, k.keyArn);
        published = fresh || !c.asMap().remove(k, e);
        if (!fresh && own != null) {
          own.destroy();
          own = null;
        }
      }
      loading.remove(k, f); // before completing: a caller that finds it stale starts a new load
      f.complete(e);
      return own;
    } catch (RuntimeException | Error t) {
      if (own != null) {
        own.destroy();
      }
      loading.remove(k, f);
      f.completeExceptionally(t);
      return null;
    } finally {
      if (e != null && !published) {
        e.key.destroy(); // stale: zeroed, never cached; waiters see it is stale and start over
      }
    }
  }

  private void publish(Cache<SlotKey, Entry> c, SlotKey k, Entry e) {
    c.put(k, e);
    // indexed after the put, in the same bin as the removal listener's unindex: a concurrent
    // removal of an older entry for k cannot drop this one from the index
    Set<SlotKey> own =
        byKek.compute(
            k.keyArn,
            (arn, set) -> {
              Set<SlotKey> s = set == null ? ConcurrentHashMap.newKeySet() : set;
              s.add(k);
              return s;
            });
    // per-KEK bound: past it, this KEK evicts one of its own entries, never another KEK's
    if (own.size() > perKek) {
      Iterator<SlotKey> it = own.iterator();
      while (own.size() > perKek && it.hasNext()) {
        SlotKey victim = it.next();
        // never the entry just published, nor one whose loader has not yet handed it to its waiters
        if (!victim.equals(k) && !loading.containsKey(victim)) {
          if (c.asMap().remove(victim) != null) {
            perKekEvictions.increment(); // the removal listener unindexes it
          } else {
            unindex(victim); // absent: unindexed unless re-published meanwhile (then it stays)
          }
        }
      }
    }
  }

  private void unindex(SlotKey k) {
    Cache<SlotKey, Entry> c = cache;
    byKek.computeIfPresent(
        k.keyArn,
        (arn, set) -> {
          if (c == null || !c.asMap().containsKey(k)) {
            set.remove(k);
          }
          return set.isEmpty() ? null : set;
        });
  }

  /**
   * Purges the KEK's cached keys (zeroed by the removal listener). The caller moved its epoch
   * first, so loads in flight are stale.
   */
  int purge(String keyArn) {
    Cache<SlotKey, Entry> c = cache;
    if (c == null) {
      return 0;
    }
    Set<SlotKey> own = byKek.get(keyArn);
    if (own == null) {
      return 0;
    }
    int n = 0;
    for (SlotKey k : own.toArray(new SlotKey[0])) {
      if (c.asMap().remove(k) != null) {
        n++;
      }
    }
    return n;
  }

  /** Refuses every later use; the caller moved every epoch. Purges and zeroes everything. */
  void close() {
    closed = true;
    Cache<SlotKey, Entry> c = cache;
    if (c != null) {
      c.invalidateAll();
      c.cleanUp();
    }
    rejected.invalidateAll();
  }

  boolean isClosed() {
    return closed;
  }

  static ByokConfigurationException closedError() {
    return new ByokConfigurationException("this byok instance is closed");
  }

  long size() {
    Cache<SlotKey, Entry> c = cache;
    return c == null ? 0 : c.estimatedSize();
  }

  long evictions() {
    Cache<SlotKey, Entry> c = cache;
    return (c == null ? 0 : c.stats().evictionCount()) + perKekEvictions.sum();
  }

  /** Test hook: the cached key itself (not a lease), or {@code null}. */
  @Nullable DataKey cachedKey(SlotKey k) {
    Cache<SlotKey, Entry> c = cache;
    Entry e = c == null ? null : c.getIfPresent(k);
    return e == null ? null : e.key;
  }

  // ------------------------------------------------------------------ rejected wrapped keys

  static ByteBuffer digest(EnvelopeHeader h, KeySlot s) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(h.immutableBytes());
      md.update(s.providerId().getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      md.update(s.keyArn().getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      md.update(s.wrappedKey());
      return ByteBuffer.wrap(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JRE", e);
    }
  }

  /** Throws again, without a KMS call, what unwrapping this wrapped key failed with lately. */
  void throwIfRejected(ByteBuffer digest) {
    ByokException e = rejected.getIfPresent(digest);
    if (e instanceof InvalidCiphertextException ice) {
      throw new InvalidCiphertextException(
          ice.reason(), "rejected recently, not sent to the KMS again: " + ice.getMessage(), null);
    }
    if (e instanceof KeyUnusableException denied) {
      throw new KeyUnusableException(
          denied.reason(),
          denied.keyId(),
          "denied recently for this slot and context, not sent to the KMS again (for up to "
              + REJECTION_TTL.toSeconds()
              + " s after the denial)",
          null);
    }
    if (e != null) {
      throw new ByokConfigurationException(
          "rejected recently, not sent to the KMS again: " + e.getMessage());
    }
  }

  void rememberRejected(ByteBuffer digest, ByokException e) {
    rejected.put(digest, e);
  }
}
