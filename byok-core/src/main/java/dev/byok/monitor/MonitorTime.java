package dev.byok.monitor;

import java.time.Instant;
import java.time.InstantSource;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The monitor's two clocks: a monotonic ticker for every duration (grace periods, probe intervals,
 * rate limits, idle times) and a wall clock only for the timestamps events carry.
 *
 * @param wall the wall clock
 * @param ticker monotonic nanoseconds
 */
record MonitorTime(InstantSource wall, LongSupplier ticker) {
  /**
   * The system clocks, or, for an injected wall clock without a ticker, a ticker derived from that
   * clock (tests move one manual clock and both follow).
   */
  static MonitorTime of(InstantSource wall, @Nullable LongSupplier ticker) {
    if (ticker != null) {
      return new MonitorTime(wall, ticker);
    }
    if (wall.equals(InstantSource.system())) {
      return new MonitorTime(wall, System::nanoTime);
    }
    return new MonitorTime(wall, () -> nanos(wall.instant()));
  }

  private static long nanos(Instant i) {
    return i.getEpochSecond() * 1_000_000_000L + i.getNano();
  }

  /** One reading of both clocks. */
  record Now(long nanos, Instant wall) {}

  Now now() {
    return new Now(ticker.getAsLong(), wall.instant());
  }
}
