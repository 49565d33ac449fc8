package dev.byok;

import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.WrappedKey;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every KMS call of a {@link DataKeyManager} goes through {@link #call}: it is counted by operation
 * and outcome, reported to the {@link KmsCallObserver}s, and a provider that breaks its contract by
 * throwing something other than a {@link ByokException} is turned into one, so no raw runtime
 * exception crosses the API.
 *
 * <p>Observers run on the thread that made the call, after it returned, and never while byok holds
 * a lock (no KMS call is made inside a lock or a map computation). Thread-safe.
 */
final class KmsMeter {
  private static final Logger LOG = LoggerFactory.getLogger(KmsMeter.class);

  private final Map<String, KeyProvider> providers;
  private final ConcurrentHashMap<String, LongAdder> calls = new ConcurrentHashMap<>();
  private final List<KmsCallObserver> observers = new CopyOnWriteArrayList<>();

  KmsMeter(Map<String, KeyProvider> providers) {
    this.providers = Map.copyOf(providers);
  }

  Map<String, KeyProvider> providers() {
    return providers;
  }

  @Nullable KeyProvider providerOrNull(String providerId) {
    return providers.get(providerId);
  }

  KeyProvider provider(String providerId) {
    KeyProvider p = providers.get(providerId);
    if (p == null) {
      throw new ByokConfigurationException(
          "no KeyProvider with id '"
              + providerId
              + "' is configured (have "
              + providers.keySet()
              + ")");
    }
    return p;
  }

  void addObserver(KmsCallObserver observer) {
    observers.add(Objects.requireNonNull(observer, "observer"));
  }

  void removeObserver(KmsCallObserver observer) {
    observers.remove(observer);
  }

  /** Calls the KMS through {@code body}; counts, reports, and classifies what it throws. */
  <T> T call(String operation, String keyId, Supplier<T> body) {
    String outcome = "error";
    try {
      T t;
      try {
        t = body.get();
      } catch (ByokException e) {
        throw e;
      } catch (RuntimeException bug) {
        // a provider must classify its failures; one that does not still must not leak a raw
        // runtime exception through byok's API: report it as a transient KMS failure
        throw new KmsUnavailableException(
            "KMS provider failed on " + operation + " with " + bug.getClass().getName(),
            false,
            bug);
      }
      if (t == null) {
        throw new KmsUnavailableException(
            "KMS provider returned nothing for " + operation + " on " + keyId, false, null);
      }
      outcome = "ok";
      notifyObservers(operation, keyId, resolvedArn(keyId, t), null);
      return t;
    } catch (KmsUnavailableException e) {
      outcome = "transient";
      notifyObservers(operation, keyId, null, e);
      throw e;
    } catch (KeyUnusableException e) {
      outcome = "key-unusable";
      notifyObservers(operation, keyId, null, e);
      throw e;
    } catch (InvalidCiphertextException e) {
      outcome = "invalid-ciphertext";
      notifyObservers(operation, keyId, null, e);
      throw e;
    } catch (ByokConfigurationException e) {
      outcome = "configuration";
      notifyObservers(operation, keyId, null, e);
      throw e;
    } finally {
      calls.computeIfAbsent(operation + "/" + outcome, x -> new LongAdder()).increment();
      if (LOG.isDebugEnabled()) {
        LOG.debug("kms {} {} -> {}", operation, keyId, outcome);
      }
    }
  }

  Map<String, Long> snapshot() {
    Map<String, Long> out = new LinkedHashMap<>();
    calls.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  private static @Nullable String resolvedArn(String keyId, Object result) {
    if (result instanceof GeneratedDataKey g) {
      return g.keyArn();
    }
    if (result instanceof WrappedKey w) {
      return w.keyArn();
    }
    if (result instanceof KeyDescription d) {
      return d.keyArn();
    }
    return keyId.startsWith("arn:") ? keyId : null;
  }

  private void notifyObservers(
      String operation, String keyId, @Nullable String arn, @Nullable ByokException e) {
    for (KmsCallObserver o : observers) {
      try {
        o.onCall(operation, keyId, arn, e);
      } catch (RuntimeException bug) {
        LOG.warn("KmsCallObserver {} threw; ignored", o.getClass().getName(), bug);
      }
    }
  }
}
