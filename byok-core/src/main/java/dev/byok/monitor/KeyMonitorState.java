package dev.byok.monitor;

/** What the monitor believes about a customer key. */
public enum KeyMonitorState {
  /** The key answers and its canary decrypts: serve normally. */
  ACTIVE,
  /**
   * The KMS cannot be reached or answers with transient failures. Says nothing about the key: keep
   * serving from cached data keys; never a reason to lock (unless the host opted in).
   */
  UNREACHABLE,
  /**
   * A probe found the key denied (the canary refused, or DescribeKey reports it disabled or pending
   * deletion), but the grace period that absorbs KMS eventual consistency has not passed yet.
   * Cached data keys for it are already purged. Only a passing probe brings it back to ACTIVE; a
   * successful data-path call does not.
   */
  SUSPECT,
  /** The denial is confirmed: cached data keys purged, wrap and unwrap refused; the host locks. */
  LOCKED
}
