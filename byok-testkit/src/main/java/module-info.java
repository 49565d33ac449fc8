/**
 * byok test utilities for hosts: the strict fake KMS ({@code FakeKms}) and its loopback
 * KMS-protocol server ({@code LocalKmsServer}), the manual clock, the tamper suite, and an optional
 * JUnit 5 extension. JUnit is needed only by {@code FakeKmsExtension}.
 */
module dev.byok.testkit {
  requires transitive dev.byok.core;
  requires com.google.gson;
  requires jdk.httpserver;
  requires static org.jspecify;
  requires static org.junit.jupiter.api;

  exports dev.byok.testkit;
}
