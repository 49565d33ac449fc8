/**
 * Key lifecycle monitoring: {@link dev.byok.monitor.KeyStateMonitor} watches customer keys and
 * tells the host, through {@link dev.byok.monitor.KeyStateListener}, when to lock, unlock, treat a
 * key as retargeted or rotated, or warn about a scheduled deletion.
 *
 * <p>Nothing in this package is {@code null} unless marked {@code @Nullable}.
 */
@NullMarked
package dev.byok.monitor;

import org.jspecify.annotations.NullMarked;
