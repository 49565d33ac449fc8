package dev.byok.monitor;

import dev.byok.KeyRef;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers events to listeners on an {@link Executor}, one serial queue per watched key: events of
 * one key reach every listener in the order the monitor produced them, one at a time; events of
 * different keys may be delivered concurrently if the executor has several threads.
 *
 * <p>{@link #offer} only queues (call it under the monitor's lock to fix the order); {@link
 * #deliver} hands queues to the executor and must be called with no lock held. Listeners therefore
 * never run under a byok lock and, unless the host supplies a direct executor, never on a thread
 * that called byok.
 *
 * <p>Thread-safe.
 */
final class EventDispatcher {
  private static final Logger LOG = LoggerFactory.getLogger(EventDispatcher.class);

  private record Registration(@Nullable KeyRef key, KeyStateListener listener) {
    boolean wants(KeyEvent e) {
      return key == null || key.equals(e.key()) || key.keyId().equals(e.keyArn());
    }
  }

  private final Executor executor;
  private final List<Registration> listeners = new CopyOnWriteArrayList<>();
  private final Map<KeyRef, Queue> queues = new ConcurrentHashMap<>();

  EventDispatcher(Executor executor) {
    this.executor = Objects.requireNonNull(executor, "executor");
  }

  void addListener(@Nullable KeyRef key, KeyStateListener listener) {
    listeners.add(new Registration(key, Objects.requireNonNull(listener, "listener")));
  }

  void removeListener(KeyStateListener listener) {
    listeners.removeIf(r -> r.listener == listener);
  }

  /**
   * Queues an event on its key's queue.
   *
   * @return the queue if it must be handed to the executor by {@link #deliver}, else {@code null}
   */
  @Nullable Queue offer(KeyEvent event) {
    boolean[] start = new boolean[1];
    // under the map's bin lock: forget cannot drop the queue between lookup and add
    Queue q =
        queues.compute(
            event.key(),
            (k, there) -> {
              Queue x = there != null ? there : new Queue(k);
              start[0] = x.add(event);
              return x;
            });
    return start[0] ? q : null;
  }

  /** Hands queues that {@link #offer} returned to the executor. Call with no lock held. */
  void deliver(List<Queue> toStart) {
    Throwable first = null;
    for (Queue q : toStart) {
      try {
        q.start();
      } catch (Throwable e) { // a direct executor running a listener that threw an Error
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first instanceof Error error) {
      throw error; // after every queue was started: none stays scheduled without a drain
    } else if (first instanceof RuntimeException bug) {
      throw bug;
    }
  }

  /**
   * Forgets a key's queue (after unwatch); events still queued are delivered. A queue still
   * draining is kept until it is idle, so a key never has two drains at once.
   */
  void forget(KeyRef key) {
    queues.computeIfPresent(key, (k, q) -> q.forget() ? null : q);
  }

  /** One key's events, delivered by at most one executor task at a time. */
  final class Queue {
    private final KeyRef key;
    private final ArrayDeque<KeyEvent> pending = new ArrayDeque<>();
    private boolean scheduled;
    private boolean forgotten;

    Queue(KeyRef key) {
      this.key = key;
    }

    /** {@return whether a drain must be started} */
    synchronized boolean add(KeyEvent e) {
      forgotten = false; // watched again
      pending.add(e);
      if (scheduled) {
        return false;
      }
      scheduled = true;
      return true;
    }

    /**
     * {@return whether the queue is idle and may be dropped now; else it drops itself when idle}
     */
    synchronized boolean forget() {
      if (!scheduled && pending.isEmpty()) {
        return true;
      }
      forgotten = true;
      return false;
    }

    private synchronized boolean idleAndForgotten() {
      return forgotten && !scheduled && pending.isEmpty();
    }

    synchronized int clear() {
      int n = pending.size();
      pending.clear();
      scheduled = false;
      return n;
    }

    private synchronized @Nullable KeyEvent next() {
      KeyEvent e = pending.poll();
      if (e == null) {
        scheduled = false;
      }
      return e;
    }

    /** Hands this queue's drain to the executor; on refusal its events are dropped (logged). */
    void start() {
      try {
        executor.execute(this::drain);
      } catch (RejectedExecutionException e) {
        LOG.warn("key event executor refused delivery; {} event(s) dropped", clear());
        dropIfForgotten();
      }
    }

    void drain() {
      boolean done = false;
      try {
        for (KeyEvent e = next(); e != null; e = next()) {
          LOG.info("{}", e);
          for (Registration r : listeners) {
            if (r.wants(e)) {
              try {
                r.listener.onEvent(e);
              } catch (RuntimeException bug) {
                LOG.warn(
                    "KeyStateListener {} threw; ignored", r.listener.getClass().getName(), bug);
              }
            }
          }
        }
        done = true;
      } finally {
        if (!done && resume()) {
          // an Error from a listener ends this task: the key's later events still get delivered
          start();
        }
        dropIfForgotten();
      }
    }

    /**
     * After a drain ended abnormally: whether events are still pending (the drain stays scheduled
     * and must be restarted), else the queue goes idle.
     */
    private synchronized boolean resume() {
      if (pending.isEmpty()) {
        scheduled = false;
        return false;
      }
      return true;
    }

    private void dropIfForgotten() {
      queues.computeIfPresent(key, (k, q) -> q == this && q.idleAndForgotten() ? null : q);
    }
  }
}
