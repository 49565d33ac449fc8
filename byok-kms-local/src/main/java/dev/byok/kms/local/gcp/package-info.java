/**
 * A Google Cloud KMS test server: {@link dev.byok.kms.local.gcp.GcpKms} (key rings, crypto keys and
 * their versions with Cloud KMS states, IAM denial per key, fault injection) served over gRPC by
 * {@link dev.byok.kms.local.gcp.GcpTestServer}, so the official Cloud KMS Java client can be tested
 * without a cloud account.
 *
 * <p>Needs grpc ({@code grpc-api}, {@code grpc-stub}, {@code grpc-protobuf}, {@code
 * grpc-inprocess}) and {@code proto-google-cloud-kms-v1} at run time: byok-kms-local declares them
 * optional. Nothing in this package is {@code null} unless marked {@code @Nullable}.
 */
@NullMarked
package dev.byok.kms.local.gcp;

import org.jspecify.annotations.NullMarked;
