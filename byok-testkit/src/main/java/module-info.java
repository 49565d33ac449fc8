/**
 * byok test utilities for hosts: the strict fake KMS provider ({@code FakeKms}, over
 * byok-kms-local's {@code InMemoryKms}, whose module this one re-exports), the manual clock, the
 * tamper suite, and an optional JUnit 5 extension. JUnit is needed only by {@code
 * FakeKmsExtension}.
 */
module dev.byok.testkit {
  requires transitive dev.byok.core;
  requires transitive dev.byok.kms.local;
  requires static org.jspecify;
  requires static org.junit.jupiter.api;

  exports dev.byok.testkit;
}
