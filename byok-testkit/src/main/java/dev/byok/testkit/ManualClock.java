package dev.byok.testkit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;

/**
 * A {@link Clock} that only moves when a test moves it, so tests of time-dependent behaviour
 * (deletion dates, eventual consistency, cache expiry) never sleep.
 *
 * <p>Thread-safe: {@link #advance} and {@link #set} may race with readers on other threads; every
 * reader sees either the old or the new instant. The zone is UTC; {@link #withZone} returns a view
 * in another zone that shares this clock's instant. Nothing here accepts or returns {@code null}.
 */
@NullMarked
public final class ManualClock extends Clock {
  /** The instant a clock made by {@link #ManualClock()} starts at: 2030-01-01T00:00:00Z. */
  public static final Instant DEFAULT_START = Instant.parse("2030-01-01T00:00:00Z");

  private final Object lock = new Object();
  private Instant now;

  /** Creates a clock at {@link #DEFAULT_START}. */
  public ManualClock() {
    this(DEFAULT_START);
  }

  /**
   * Creates a clock at the given instant.
   *
   * @param start the first instant the clock reports
   */
  public ManualClock(Instant start) {
    this.now = Objects.requireNonNull(start, "start");
  }

  /**
   * Moves the clock forward.
   *
   * @param duration how far; zero is allowed
   * @return the new instant
   * @throws IllegalArgumentException if the duration is negative (use {@link #set} to go back)
   */
  public Instant advance(Duration duration) {
    Objects.requireNonNull(duration, "duration");
    if (duration.isNegative()) {
      throw new IllegalArgumentException("duration must not be negative, was " + duration);
    }
    synchronized (lock) {
      now = now.plus(duration);
      return now;
    }
  }

  /**
   * Sets the clock to any instant, earlier or later.
   *
   * @param instant the new instant
   */
  public void set(Instant instant) {
    Objects.requireNonNull(instant, "instant");
    synchronized (lock) {
      now = instant;
    }
  }

  @Override
  public Instant instant() {
    synchronized (lock) {
      return now;
    }
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    Objects.requireNonNull(zone, "zone");
    if (zone.equals(ZoneOffset.UTC)) {
      return this;
    }
    ManualClock source = this;
    return new Clock() {
      @Override
      public ZoneId getZone() {
        return zone;
      }

      @Override
      public Clock withZone(ZoneId other) {
        return source.withZone(other);
      }

      @Override
      public Instant instant() {
        return source.instant();
      }
    };
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o == this;
  }

  @Override
  public int hashCode() {
    return System.identityHashCode(this);
  }

  @Override
  public String toString() {
    return "ManualClock[" + instant() + "]";
  }
}
