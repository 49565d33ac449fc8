/**
 * Key lifecycle monitoring: {@link dev.byok.monitor.KeyStateMonitor} watches customer keys and
 * tells the host, through {@link dev.byok.monitor.KeyStateListener}, when to lock, unlock, treat a
 * key as retargeted or rotated, or warn about a scheduled deletion. One monitor watches every
 * tenant's key; its state machine is a pure function ({@code KeyStateMachine}) and its listeners
 * run on an event executor, never on a caller's thread nor under a lock (docs/key-lifecycle.md).
 *
 * <p>Nothing in this package is {@code null} unless marked {@code @Nullable}.
 */
@NullMarked
package dev.byok.monitor;

import org.jspecify.annotations.NullMarked;
