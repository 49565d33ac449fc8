package dev.byok.kms.local;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.NullMarked;

/**
 * A value with its recent history, for eventual consistency: a change made at {@code t} is seen by
 * readers only from {@code t + delay} on; before that they see the previous value. The first value
 * is seen at once. Not thread-safe: {@link InMemoryKms} guards it with its lock.
 */
@NullMarked
final class Versioned<T> {
  private final List<Instant> times = new ArrayList<>();
  private final List<T> values = new ArrayList<>();

  Versioned(Instant at, T first) {
    times.add(at);
    values.add(first);
  }

  /** {@return the newest value: what the KMS's control plane knows} */
  T latest() {
    return values.get(values.size() - 1);
  }

  /**
   * {@return the newest value changed at or before the cutoff, else the first value}
   *
   * @param cutoff now minus the propagation delay
   */
  T visible(Instant cutoff) {
    for (int i = values.size() - 1; i > 0; i--) {
      if (!times.get(i).isAfter(cutoff)) {
        return values.get(i);
      }
    }
    return values.get(0);
  }

  /**
   * Records a change, dropping history no reader can see any more.
   *
   * @param at when the change was made
   * @param value the new value
   * @param cutoff now minus the propagation delay
   */
  void set(Instant at, T value, Instant cutoff) {
    times.add(at);
    values.add(value);
    while (values.size() > 1 && !times.get(1).isAfter(cutoff)) {
      times.remove(0);
      values.remove(0);
    }
  }
}
