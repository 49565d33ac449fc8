/**
 * Test utilities for hosts of byok. {@link dev.byok.testkit.TamperSuite} runs every known way of
 * tampering with an envelope through any decryption path (yours or byok's) and reports what was not
 * rejected; {@link dev.byok.testkit.FakeKms} is a strict KMS provider over byok-kms-local's
 * in-memory KMS; {@link dev.byok.testkit.ManualClock} drives time. Nothing in this package is
 * {@code null} unless marked {@code @Nullable}. Only {@link dev.byok.testkit.FakeKmsExtension}
 * depends on a test framework (JUnit 5, an optional dependency: add {@code junit-jupiter-api} to
 * use it); every other class works with any test framework or none.
 */
@NullMarked
package dev.byok.testkit;

import org.jspecify.annotations.NullMarked;
