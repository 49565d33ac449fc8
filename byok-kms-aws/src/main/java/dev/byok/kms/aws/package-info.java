/**
 * A {@link dev.byok.spi.KeyProvider} for AWS KMS over the AWS SDK for Java v2: {@link
 * dev.byok.kms.aws.AwsKmsProvider}. No AWS type appears in byok-core; none escapes this package's
 * public signatures except the caller-supplied {@code KmsClient}.
 */
@NullMarked
package dev.byok.kms.aws;

import org.jspecify.annotations.NullMarked;
