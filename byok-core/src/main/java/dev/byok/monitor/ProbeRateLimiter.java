package dev.byok.monitor;

/**
 * A token bucket over monotonic time: at most {@code ratePerSecond} probes per second across all
 * keys, with bursts up to {@code max(1, ratePerSecond)}.
 *
 * <p>Not thread-safe: the monitor calls it under its own lock.
 */
final class ProbeRateLimiter {
  private final double ratePerSecond;
  private final double capacity;
  private double tokens;
  private long lastRefillNanos;
  private boolean started;

  ProbeRateLimiter(double ratePerSecond) {
    if (!(ratePerSecond > 0)) {
      throw new IllegalArgumentException("ratePerSecond must be > 0, was " + ratePerSecond);
    }
    this.ratePerSecond = ratePerSecond;
    this.capacity = Math.max(1, ratePerSecond);
    this.tokens = capacity;
  }

  /**
   * Adds the tokens earned since the last refill.
   *
   * @param nowNanos monotonic time
   */
  void refill(long nowNanos) {
    if (started) {
      double secs = Math.max(0, nowNanos - lastRefillNanos) / 1e9;
      tokens = Math.min(capacity, tokens + secs * ratePerSecond);
    }
    started = true;
    lastRefillNanos = nowNanos;
  }

  /** {@return whether a token was available (and is now taken)} */
  boolean tryAcquire() {
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }
}
