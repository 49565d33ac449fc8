package dev.byok.monitor;

import dev.byok.KeyRef;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One thing the monitor learned about a watched key. Carries no key material.
 *
 * <p>Immutable and thread-safe.
 */
public final class KeyEvent {
  /** Kinds of events. */
  public enum Type {
    /** The key moved between {@link KeyMonitorState}s; see {@link #from()} and {@link #to()}. */
    STATE_CHANGED,
    /** The key is LOCKED: lock the data that depends on it. */
    LOCKED,
    /** The key is usable again and the lock is lifted: unlock. */
    UNLOCKED,
    /**
     * The key is usable again but the monitor waits for {@link KeyStateMonitor#acknowledgeRestore}
     * before unlocking (auto-unlock off).
     */
    RESTORE_PENDING_ACKNOWLEDGEMENT,
    /** An alias now points at another key ARN: new blobs use it; old blobs keep the old ARN. */
    KEY_RETARGETED,
    /** The key's material was rotated in place (same ARN). Informational. */
    KEY_MATERIAL_ROTATED,
    /** The key is scheduled for deletion on {@link #deletionDate()}: humans can still cancel. */
    DELETION_SCHEDULED,
    /** The KMS stopped answering (transient failures). */
    KMS_UNREACHABLE,
    /** The KMS answers again. */
    KMS_REACHABLE,
    /** The KMS throttled a probe or a data-path call. */
    THROTTLED,
    /**
     * Monitoring-only permissions fail (e.g. {@code DescribeKey} denied) while the canary decrypt
     * passes: the key works, but the monitor sees less. Not a lock.
     */
    MONITORING_DEGRADED,
    /** Automatic rotation was turned on or off. Informational. */
    ROTATION_STATUS_CHANGED
  }

  private final Type type;
  private final KeyRef key;
  private final @Nullable String keyArn;
  private final KeyMonitorState from;
  private final KeyMonitorState to;
  private final String reason;
  private final Instant at;
  private final @Nullable Instant lockAt;
  private final @Nullable Instant deletionDate;
  private final @Nullable String previousArn;

  KeyEvent(
      Type type,
      KeyRef key,
      @Nullable String keyArn,
      KeyMonitorState from,
      KeyMonitorState to,
      String reason,
      Instant at,
      @Nullable Instant lockAt,
      @Nullable Instant deletionDate,
      @Nullable String previousArn) {
    this.type = Objects.requireNonNull(type);
    this.key = Objects.requireNonNull(key);
    this.keyArn = keyArn;
    this.from = from;
    this.to = to;
    this.reason = reason;
    this.at = at;
    this.lockAt = lockAt;
    this.deletionDate = deletionDate;
    this.previousArn = previousArn;
  }

  /** {@return the kind of event} */
  public Type type() {
    return type;
  }

  /** {@return the watched key as the host named it (an alias, or an ARN)} */
  public KeyRef key() {
    return key;
  }

  /** {@return the key ARN concerned, or {@code null} if not known yet} */
  public @Nullable String keyArn() {
    return keyArn;
  }

  /** {@return the state before} */
  public KeyMonitorState from() {
    return from;
  }

  /** {@return the state after} */
  public KeyMonitorState to() {
    return to;
  }

  /** {@return why, in plain words} */
  public String reason() {
    return reason;
  }

  /** {@return when the monitor learned it (monitor clock)} */
  public Instant at() {
    return at;
  }

  /**
   * {@return for SUSPECT: when the key will be locked unless it answers again; else {@code null}}
   */
  public @Nullable Instant lockAt() {
    return lockAt;
  }

  /** {@return for DELETION_SCHEDULED: the deletion date; else {@code null}} */
  public @Nullable Instant deletionDate() {
    return deletionDate;
  }

  /** {@return for KEY_RETARGETED: the ARN the alias pointed at before; else {@code null}} */
  public @Nullable String previousArn() {
    return previousArn;
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder().append(type).append(' ').append(key);
    if (keyArn != null && !keyArn.equals(key.keyId())) {
      b.append(" (").append(keyArn).append(')');
    }
    if (from != to) {
      b.append(' ').append(from).append("->").append(to);
    }
    b.append(": ").append(reason);
    if (lockAt != null) {
      b.append(", locks at ").append(lockAt);
    }
    if (deletionDate != null) {
      b.append(", deletion on ").append(deletionDate);
    }
    if (previousArn != null) {
      b.append(", was ").append(previousArn);
    }
    return b.append(" @").append(at).toString();
  }
}
