package dev.byok.spi;

import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What the KMS says about a KEK: its resolved identifier (behind an alias), state, deletion date
 * when pending deletion, and current key material id where reported.
 *
 * <p>Immutable and thread-safe.
 */
public final class KeyDescription {
  private final String keyArn;
  private final KeyState state;
  private final @Nullable Instant deletionDate;
  private final @Nullable String currentKeyMaterialId;

  /**
   * Creates the value.
   *
   * @param keyArn resolved key identifier
   * @param state lifecycle state
   * @param deletionDate when the key will be deleted, or {@code null}
   * @param currentKeyMaterialId current key material id, or {@code null} if not reported
   */
  public KeyDescription(
      String keyArn,
      KeyState state,
      @Nullable Instant deletionDate,
      @Nullable String currentKeyMaterialId) {
    this.keyArn = Objects.requireNonNull(keyArn, "keyArn");
    this.state = Objects.requireNonNull(state, "state");
    this.deletionDate = deletionDate;
    this.currentKeyMaterialId = currentKeyMaterialId;
  }

  /** {@return the resolved key identifier} */
  public String keyArn() {
    return keyArn;
  }

  /** {@return the state} */
  public KeyState state() {
    return state;
  }

  /** {@return the scheduled deletion date, or {@code null}} */
  public @Nullable Instant deletionDate() {
    return deletionDate;
  }

  /** {@return the current key material id, or {@code null}} */
  public @Nullable String currentKeyMaterialId() {
    return currentKeyMaterialId;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof KeyDescription)) {
      return false;
    }
    KeyDescription d = (KeyDescription) o;
    return keyArn.equals(d.keyArn)
        && state == d.state
        && Objects.equals(deletionDate, d.deletionDate)
        && Objects.equals(currentKeyMaterialId, d.currentKeyMaterialId);
  }

  @Override
  public int hashCode() {
    return Objects.hash(keyArn, state, deletionDate, currentKeyMaterialId);
  }

  @Override
  public String toString() {
    return "KeyDescription["
        + keyArn
        + ", "
        + state
        + (deletionDate == null ? "" : ", deletion " + deletionDate)
        + (currentKeyMaterialId == null ? "" : ", material " + currentKeyMaterialId)
        + "]";
  }
}
