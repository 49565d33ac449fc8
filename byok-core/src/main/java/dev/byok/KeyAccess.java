package dev.byok;

import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Which KEKs a {@link DataKeyManager} may unwrap with, and which are locked.
 *
 * <p>A slot's key is allowed when it is a KEK byok wrapped a data key under, matches an {@code
 * allowKeys} entry, satisfies the host's predicate, or is the resolved ARN of a trusted KEK named
 * by alias. Aliases are resolved with {@code DescribeKey} (a call about the host's own key, never
 * about a header's), single-flight — concurrent first reads share one call — and again at most once
 * per {@link #ALIAS_REFRESH} after a success, or per {@link #FORCED_REFRESH} when a key does not
 * match the last resolution (the alias may have been retargeted since) — unless the key's ARN is in
 * another account or Region than the resolution's, which no retarget can reach. A resolution that
 * <em>fails</em> is not remembered: the read fails with the retryable {@link
 * KmsUnavailableException} (an outage is never reported as a wrong key), and the next read asks
 * again.
 *
 * <p>Thread-safe; no lock is held during a KMS call.
 */
final class KeyAccess {
  /** How long a successful alias resolution is trusted before a non-allowed key re-resolves. */
  static final Duration ALIAS_REFRESH = Duration.ofMinutes(1);

  /**
   * How old a successful alias resolution must be before a key that does not match it forces a
   * fresh one (an alias retargeted within {@link #ALIAS_REFRESH}).
   */
  static final Duration FORCED_REFRESH = Duration.ofSeconds(1);

  private final KmsMeter kms;
  private final LongSupplier nanoTicker;
  private final List<String> allowPatterns;
  private final @Nullable Predicate<String> hostPolicy;
  private final List<KeyRef> aliases;
  private final Set<String> learnedArns = ConcurrentHashMap.newKeySet();
  private final Set<String> locked = ConcurrentHashMap.newKeySet();
  private final ConcurrentHashMap<KeyRef, Resolution> resolutions = new ConcurrentHashMap<>();

  /** One alias's latest successful resolution (or none) and the call in flight, if any. */
  private static final class Resolution {
    final Set<String> arns = ConcurrentHashMap.newKeySet();
    volatile @Nullable String latest;
    volatile long resolvedAt;
    volatile boolean resolved;
    volatile @Nullable CompletableFuture<String> inFlight;
  }

  KeyAccess(
      KmsMeter kms,
      LongSupplier nanoTicker,
      List<String> allowPatterns,
      @Nullable Predicate<String> hostPolicy,
      List<KeyRef> trustedKeks) {
    this.kms = kms;
    this.nanoTicker = nanoTicker;
    this.allowPatterns = List.copyOf(allowPatterns);
    this.hostPolicy = hostPolicy;
    List<KeyRef> named = new java.util.ArrayList<>();
    for (KeyRef k : trustedKeks) {
      if (looksLikeArn(k.keyId())) {
        learnedArns.add(k.keyId());
      } else if (kms.providerOrNull(k.providerId()) != null) {
        named.add(k);
      }
    }
    this.aliases = List.copyOf(named);
  }

  /**
   * {@code arn:partition:kms:region:account} of a key ARN, or null for a key id that is not an ARN
   * (a provider without ARNs): an alias can only ever name a key of its own account and Region.
   */
  static @Nullable String accountAndRegion(String keyArn) {
    if (!looksLikeArn(keyArn)) {
      return null;
    }
    String[] parts = keyArn.split(":", 6);
    return parts.length == 6
        ? String.join(":", parts[0], parts[1], parts[2], parts[3], parts[4])
        : null;
  }

  static boolean looksLikeArn(String keyId) {
    return keyId.startsWith("arn:") && !keyId.contains(":alias/");
  }

  void learn(String keyArn) {
    learnedArns.add(Objects.requireNonNull(keyArn, "keyArn"));
  }

  /** Allowed without any KMS call: learned, by pattern, or by the host's predicate. */
  boolean allowedLocally(String keyArn) {
    if (learnedArns.contains(keyArn) || matchesPattern(keyArn)) {
      return true;
    }
    Predicate<String> p = hostPolicy;
    if (p == null) {
      return false;
    }
    try {
      return p.test(keyArn);
    } catch (RuntimeException bug) {
      throw new ByokConfigurationException(
          "the host's decrypt key policy threw " + bug.getClass().getName() + " for " + keyArn,
          bug);
    }
  }

  /**
   * Whether a slot's key may be unwrapped with. Resolves configured aliases when the key is not
   * otherwise allowed.
   *
   * @throws KmsUnavailableException if an alias could not be resolved because the KMS failed
   *     transiently: the key may well be allowed, so this is retryable, not a refusal
   */
  boolean allowed(String providerId, String keyArn) {
    if (allowedLocally(keyArn)) {
      return true;
    }
    return namedBy(aliases, providerId, keyArn);
  }

  /**
   * Whether {@code providerId}'s {@code keyArn} is one of {@code keks}: same provider, and equal to
   * one named by ARN, or the resolved ARN of one named by alias (DescribeKey, single-flight, at
   * most once per {@link #ALIAS_REFRESH} after a success, never remembered after a failure).
   *
   * @throws KmsUnavailableException if an alias could not be resolved for a transient reason
   * @throws ByokConfigurationException if an alias could not be resolved for any other reason
   */
  boolean namedBy(List<KeyRef> keks, String providerId, String keyArn) {
    List<KeyRef> unresolved = new java.util.ArrayList<>();
    for (KeyRef k : keks) {
      if (!k.providerId().equals(providerId)) {
        continue; // the same key id under another provider is another key
      }
      if (k.keyId().equals(keyArn)) {
        return true;
      }
      if (!looksLikeArn(k.keyId())) {
        Resolution r = resolutions.computeIfAbsent(k, a -> new Resolution());
        if (r.arns.contains(keyArn)) {
          return true;
        }
        unresolved.add(k);
      }
    }
    ByokException failure = null;
    KeyRef failedAlias = null;
    for (KeyRef alias : unresolved) {
      try {
        // a fresh resolution that names another key may predate a retarget: ask again, at most
        // once per FORCED_REFRESH per alias (a hostile header cannot make more calls than that)
        String current = resolve(alias, ALIAS_REFRESH);
        if (keyArn.equals(current)) {
          return true;
        }
        String scope = current == null ? null : accountAndRegion(current);
        if (scope != null && !scope.equals(accountAndRegion(keyArn))) {
          continue; // an alias names keys of its own account and Region only: no retarget helps
        }
        if (keyArn.equals(resolve(alias, FORCED_REFRESH))) {
          return true;
        }
      } catch (ByokException e) {
        failure = e;
        failedAlias = alias;
      }
    }
    if (failure instanceof KmsUnavailableException u) {
      throw new KmsUnavailableException(
          "could not resolve a configured KEK alias to check whether "
              + keyArn
              + " is allowed: "
              + u.getMessage(),
          u.throttled(),
          u);
    }
    if (failure != null) {
      // the host's own alias is deleted or DescribeKey is denied: a configuration problem, never a
      // verdict on the header's key (which would purge and retire another KEK's data keys)
      throw new ByokConfigurationException(
          "could not resolve configured alias "
              + failedAlias
              + " to check whether "
              + keyArn
              + " is allowed: "
              + failure.getMessage(),
          failure);
    }
    return false;
  }

  /**
   * Whether {@code providerId}'s {@code keyArn} is one of {@code keks} (same provider) as far as is
   * known without a KMS call.
   */
  boolean namedLocally(List<KeyRef> keks, String providerId, String keyArn) {
    for (KeyRef k : keks) {
      if (!k.providerId().equals(providerId)) {
        continue; // the same key id under another provider is another key
      }
      if (k.keyId().equals(keyArn)) {
        return true;
      }
      Resolution r = looksLikeArn(k.keyId()) ? null : resolutions.get(k);
      if (r != null && r.arns.contains(keyArn)) {
        return true;
      }
    }
    return false;
  }

  /** The key ARNs {@code kek} is known to stand for (itself if it is an ARN). */
  Set<String> knownArns(KeyRef kek) {
    if (looksLikeArn(kek.keyId())) {
      return Set.of(kek.keyId());
    }
    Resolution r = resolutions.get(kek);
    return r == null ? Set.of() : Set.copyOf(r.arns);
  }

  /**
   * {@code keyId} and, when it is a configured key id such as an alias (not an ARN), every key ARN
   * it was learned to stand for, under any provider: what a lock or purge by that id must reach.
   */
  Set<String> expand(String keyId) {
    if (looksLikeArn(keyId)) {
      return Set.of(keyId);
    }
    Set<String> out = new java.util.LinkedHashSet<>();
    out.add(keyId);
    resolutions.forEach(
        (k, r) -> {
          if (k.keyId().equals(keyId)) {
            out.addAll(r.arns);
          }
        });
    return out;
  }

  /** Records that a data key generated or wrapped under {@code kek} came back under {@code arn}. */
  void learn(KeyRef kek, String arn) {
    learnedArns.add(arn);
    if (!looksLikeArn(kek.keyId())) {
      resolutions.computeIfAbsent(kek, a -> new Resolution()).arns.add(arn);
    }
  }

  /**
   * The ARN behind {@code alias}: the last resolution if it is younger than {@code maxAge}, else
   * one DescribeKey shared by every concurrent caller.
   */
  private @Nullable String resolve(KeyRef alias, Duration maxAge) {
    Resolution r = resolutions.computeIfAbsent(alias, a -> new Resolution());
    long now = nanoTicker.getAsLong();
    if (r.resolved && now - r.resolvedAt < maxAge.toNanos()) {
      return r.latest;
    }
    CompletableFuture<String> mine = new CompletableFuture<>();
    CompletableFuture<String> running;
    synchronized (r) { // only to elect one caller; no I/O under it
      running = r.inFlight;
      if (running == null) {
        r.inFlight = mine;
      }
    }
    if (running == null) {
      try {
        KeyProvider p = kms.provider(alias.providerId());
        KeyDescription d =
            kms.call("describeKey", alias.keyId(), () -> p.describeKey(alias.keyId()));
        learnedArns.add(d.keyArn());
        r.arns.add(d.keyArn());
        r.latest = d.keyArn();
        r.resolvedAt = nanoTicker.getAsLong();
        r.resolved = true;
        mine.complete(d.keyArn());
      } catch (RuntimeException e) {
        mine.completeExceptionally(e);
      } finally {
        synchronized (r) {
          r.inFlight = null;
        }
      }
      running = mine;
    }
    return join(running);
  }

  static <T> T join(CompletableFuture<T> f) {
    try {
      return f.join();
    } catch (CompletionException e) {
      Throwable c = e.getCause();
      if (c instanceof RuntimeException re) {
        throw re;
      }
      if (c instanceof Error err) {
        throw err;
      }
      throw e;
    } catch (java.util.concurrent.CancellationException e) {
      throw new KmsUnavailableException("a shared KMS call was cancelled", false, e);
    }
  }

  private boolean matchesPattern(String keyArn) {
    for (String p : allowPatterns) {
      if (p.endsWith("*") ? keyArn.startsWith(p.substring(0, p.length() - 1)) : keyArn.equals(p)) {
        return true;
      }
    }
    return false;
  }

  // ------------------------------------------------------------------ locks

  void lock(String keyId) {
    locked.add(keyId);
  }

  void unlock(String keyId) {
    locked.remove(keyId);
  }

  boolean isLocked(String keyId) {
    return locked.contains(keyId);
  }

  boolean anyLocked() {
    return !locked.isEmpty();
  }

  static KeyUnusableException lockedError(String keyArn) {
    return new KeyUnusableException(
        KeyUnusableException.Reason.LOCKED,
        keyArn,
        "the KEK is locked after a confirmed revocation",
        null);
  }
}
