/**
 * byok's {@link dev.byok.spi.KeyProvider} for AWS KMS, over the AWS SDK v2 {@code KmsClient}.
 *
 * <p>Exports {@code dev.byok.kms.aws} only. The AWS SDK modules it reads are automatic modules
 * named by the SDK's own {@code Automatic-Module-Name}; {@code AwsKmsProvider.Builder} takes SDK
 * types (a {@code KmsClient}, a credentials provider), so the SDK modules are read transitively.
 */
module dev.byok.kms.aws {
  requires transitive dev.byok.core;
  requires transitive software.amazon.awssdk.services.kms;
  requires transitive software.amazon.awssdk.auth;
  requires transitive software.amazon.awssdk.regions;
  requires software.amazon.awssdk.awscore;
  requires software.amazon.awssdk.core;
  requires software.amazon.awssdk.http;
  requires software.amazon.awssdk.http.urlconnection;
  requires static org.jspecify;

  exports dev.byok.kms.aws;
}
