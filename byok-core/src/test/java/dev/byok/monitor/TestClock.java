package dev.byok.monitor;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicReference;

/** A wall clock that only moves when a test moves it; the monitor derives its ticker from it. */
final class TestClock implements InstantSource {
  private final AtomicReference<Instant> now =
      new AtomicReference<>(Instant.parse("2030-01-01T00:00:00Z"));

  @Override
  public Instant instant() {
    return now.get();
  }

  Instant advance(Duration d) {
    return now.updateAndGet(i -> i.plus(d));
  }
}
