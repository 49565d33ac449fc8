/**
 * A local KMS for development and tests: {@link dev.byok.kms.local.InMemoryKms} (AWS KMS semantics,
 * key policies included) and {@link dev.byok.kms.local.LocalKmsServer} (its AWS KMS JSON 1.1
 * loopback server). No test framework; used by byok-testkit and by the CLI's {@code byok kms
 * serve}.
 */
module dev.byok.kms.local {
  requires transitive dev.byok.core;
  requires com.google.gson;
  requires jdk.httpserver;
  requires static org.jspecify;

  exports dev.byok.kms.local;
  exports dev.byok.kms.local.azure;
}
