package dev.byok.monitor;

/**
 * Receives the monitor's events; wire it to the host's own locks (close a repository, stop snapshot
 * jobs, page a human on {@link KeyEvent.Type#DELETION_SCHEDULED}).
 *
 * <p>Called on the monitor's event executor ({@link KeyStateMonitor.Builder#eventExecutor}, by
 * default one daemon thread the monitor owns): never on a thread that called byok, never while byok
 * holds a lock, so a listener may take locks the host holds around byok calls. One key's events
 * arrive in order, one at a time; a LOCKED event arrives after the data key manager already refuses
 * the key. Should not block for long (it delays that key's later events, and on the default thread
 * everyone's); must be thread-safe when the executor has several threads. Exceptions thrown are
 * logged and ignored.
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
