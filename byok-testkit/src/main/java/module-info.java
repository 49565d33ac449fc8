/**
 * byok test utilities for hosts: the strict fake KMS provider ({@code FakeKms}, over
 * byok-kms-local's {@code InMemoryKms}, whose module this one re-exports), the manual clock, the
 * tamper suite, an optional JUnit 5 extension, and the provider conformance suite ({@code
 * dev.byok.testkit.conformance}). JUnit is needed only by {@code FakeKmsExtension} and the
 * conformance suite.
 */
module dev.byok.testkit {
  requires transitive dev.byok.core;
  requires transitive dev.byok.kms.local;
  requires static org.jspecify;
  requires static org.junit.jupiter.api;

  exports dev.byok.testkit;
  exports dev.byok.testkit.conformance;
}
