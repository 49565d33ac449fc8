package dev.byok.monitor;

/**
 * Receives the monitor's events; wire it to the host's own locks (close a repository, stop snapshot
 * jobs, page a human on {@link KeyEvent.Type#DELETION_SCHEDULED}).
 *
 * <p>Called on the monitor's probing thread (or on the thread whose KMS call revealed the change),
 * one event at a time per monitor. Must not block for long; must be thread-safe. Exceptions thrown
 * are logged and ignored.
 */
@FunctionalInterface
public interface KeyStateListener {
  /**
   * Receives one key event.
   *
   * @param event what happened
   */
  void onEvent(KeyEvent event);
}
