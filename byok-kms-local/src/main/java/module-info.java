/**
 * A local KMS for development and tests: {@link dev.byok.kms.local.InMemoryKms} (AWS KMS semantics,
 * key policies included) and {@link dev.byok.kms.local.LocalKmsServer} (its AWS KMS JSON 1.1
 * loopback server), and a Google Cloud KMS gRPC test server ({@link
 * dev.byok.kms.local.gcp.GcpTestServer}, optional grpc dependencies). No test framework; used by
 * byok-testkit and by the CLI's {@code byok kms serve}.
 */
module dev.byok.kms.local {
  requires transitive dev.byok.core;
  requires com.google.gson;
  requires jdk.httpserver;
  requires static org.jspecify;
  // the Cloud KMS test server (dev.byok.kms.local.gcp): optional dependencies, read when present
  requires static io.grpc;
  requires static io.grpc.stub;
  requires static io.grpc.protobuf;
  requires static io.grpc.inprocess;
  requires static com.google.protobuf;
  requires static proto.google.cloud.kms.v1;

  exports dev.byok.kms.local;
  exports dev.byok.kms.local.gcp;
  exports dev.byok.kms.local.azure;
}
