package dev.byok;

import java.util.Map;
import java.util.TreeMap;

/**
 * A snapshot of a {@link DataKeyManager}'s counters: cache hits and misses, KMS calls by operation
 * and outcome, evictions and purges. Carries no key material.
 *
 * <p>Immutable and thread-safe.
 */
public final class KeyCacheStats {
  private final long hits;
  private final long misses;
  private final long evictions;
  private final long purges;
  private final long dataKeysGenerated;
  private final Map<String, Long> kmsCalls;

  KeyCacheStats(
      long hits,
      long misses,
      long evictions,
      long purges,
      long generated,
      Map<String, Long> kmsCalls) {
    this.hits = hits;
    this.misses = misses;
    this.evictions = evictions;
    this.purges = purges;
    this.dataKeysGenerated = generated;
    this.kmsCalls = java.util.Collections.unmodifiableMap(new TreeMap<>(kmsCalls));
  }

  /** {@return decrypt-side lookups answered from the cache} */
  public long hits() {
    return hits;
  }

  /** {@return decrypt-side lookups that needed the KMS} */
  public long misses() {
    return misses;
  }

  /** {@return cached data keys evicted by size, time or their KEK's per-KEK bound (and zeroed)} */
  public long evictions() {
    return evictions;
  }

  /** {@return cached data keys purged because their KEK became unusable (and zeroed)} */
  public long purges() {
    return purges;
  }

  /** {@return data keys generated for encryption} */
  public long dataKeysGenerated() {
    return dataKeysGenerated;
  }

  /**
   * KMS calls by {@code operation/outcome}, e.g. {@code decrypt/ok}, {@code
   * generateDataKey/key-unusable}. Outcomes: ok, transient, key-unusable, invalid-ciphertext,
   * configuration, error.
   *
   * @return the counts; unmodifiable
   */
  public Map<String, Long> kmsCalls() {
    return kmsCalls;
  }

  /**
   * The number of KMS calls of one operation.
   *
   * @param operation e.g. {@code decrypt}
   * @return calls of that operation, any outcome
   */
  public long kmsCalls(String operation) {
    long n = 0;
    for (Map.Entry<String, Long> e : kmsCalls.entrySet()) {
      if (e.getKey().startsWith(operation + "/")) {
        n += e.getValue();
      }
    }
    return n;
  }

  @Override
  public String toString() {
    return "KeyCacheStats[hits="
        + hits
        + ", misses="
        + misses
        + ", evictions="
        + evictions
        + ", purges="
        + purges
        + ", generated="
        + dataKeysGenerated
        + ", kms="
        + kmsCalls
        + "]";
  }
}
