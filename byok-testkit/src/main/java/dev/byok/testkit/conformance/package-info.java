/**
 * A public conformance suite for {@link dev.byok.spi.KeyProvider} implementations. Subclass {@link
 * dev.byok.testkit.conformance.KeyProviderConformance} in your provider's tests and return a {@link
 * dev.byok.testkit.conformance.KmsFixture}: your provider wired to a fake (or test instance) of
 * your KMS, plus the controls the suite needs (create, disable, destroy, revoke, rotate, inject
 * transient faults). The suite then checks the SPI contract: round trips, encryption-context
 * binding, the classification of every failure, rotation, thread-safety, stable resolved keys and
 * that no key bytes leak. {@link dev.byok.testkit.conformance.InMemoryKmsFixture} is the fixture
 * for providers that speak AWS KMS to byok-kms-local's {@code InMemoryKms} (directly or through
 * {@code LocalKmsServer}).
 *
 * <p>Needs JUnit 5 ({@code junit-jupiter-api}, an optional dependency of byok-testkit) on the test
 * class path. Nothing in this package is {@code null} unless marked {@code @Nullable}.
 */
@NullMarked
package dev.byok.testkit.conformance;

import org.jspecify.annotations.NullMarked;
