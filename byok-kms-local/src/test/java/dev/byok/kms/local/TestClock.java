package dev.byok.kms.local;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A clock that moves only when told to (byok-testkit's TestClock is downstream of this module). */
final class TestClock extends Clock {
  private volatile Instant now = Instant.parse("2030-01-01T00:00:00Z");

  /**
   * Moves the clock forward; also usable as an {@link InMemoryKms.Sleeper} ({@code
   * clock::advance}).
   */
  void advance(Duration d) {
    now = now.plus(d);
  }

  @Override
  public Instant instant() {
    return now;
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("UTC only");
  }
}
