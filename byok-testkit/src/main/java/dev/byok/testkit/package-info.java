/**
 * Test utilities for hosts of byok. {@link dev.byok.testkit.TamperSuite} runs every known way of
 * tampering with an envelope through any decryption path (yours or byok's) and reports what was not
 * rejected. Nothing in this package is {@code null} unless marked {@code @Nullable}; nothing in it
 * depends on a test framework.
 */
@NullMarked
package dev.byok.testkit;

import org.jspecify.annotations.NullMarked;
