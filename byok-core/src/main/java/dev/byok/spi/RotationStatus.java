package dev.byok.spi;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * Automatic rotation of a KEK (AWS {@code GetKeyRotationStatus}).
 *
 * <p>Immutable and thread-safe.
 */
public final class RotationStatus {
  private final boolean enabled;
  private final @Nullable Integer periodDays;
  private final @Nullable Instant nextRotation;

  /**
   * Creates the value.
   *
   * @param enabled whether automatic rotation is on
   * @param periodDays the rotation period, or {@code null}
   * @param nextRotation the next scheduled rotation, or {@code null}
   */
  public RotationStatus(
      boolean enabled, @Nullable Integer periodDays, @Nullable Instant nextRotation) {
    this.enabled = enabled;
    this.periodDays = periodDays;
    this.nextRotation = nextRotation;
  }

  /** {@return whether automatic rotation is on} */
  public boolean enabled() {
    return enabled;
  }

  /** {@return the rotation period in days, or {@code null}} */
  public @Nullable Integer periodDays() {
    return periodDays;
  }

  /** {@return the next scheduled rotation, or {@code null}} */
  public @Nullable Instant nextRotation() {
    return nextRotation;
  }

  @Override
  public String toString() {
    return "RotationStatus["
        + (enabled ? "enabled" : "disabled")
        + (periodDays == null ? "" : ", every " + periodDays + " days")
        + (nextRotation == null ? "" : ", next " + nextRotation)
        + "]";
  }
}
