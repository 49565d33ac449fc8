package dev.byok.cli;

import dev.byok.kms.aws.AwsKmsProvider;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.KmsClientBuilder;

/**
 * Where the KMS is: {@code --endpoint} (a {@code byok kms serve} address, or a VPC endpoint) and
 * {@code --region}; defaults from {@code BYOK_KMS_ENDPOINT} and {@code AWS_REGION}. The same flags
 * reach real AWS KMS (no endpoint: the SDK's credential chain) and the local KMS (a loopback
 * endpoint: throw-away credentials, since it does not check signatures). A picocli mixin; not
 * thread-safe.
 */
@NullMarked
final class KmsOptions {
  /** The Region LocalKmsServer uses unless its state file says otherwise. */
  static final String LOCAL_DEFAULT_REGION = "us-east-1";

  @Option(
      names = "--endpoint",
      paramLabel = "URL",
      description =
          "KMS endpoint, e.g. the address `byok kms serve` prints (default: $BYOK_KMS_ENDPOINT; "
              + "unset = AWS KMS)")
  @Nullable URI endpoint;

  @Option(
      names = "--region",
      paramLabel = "REGION",
      description =
          "AWS Region for aliases and bare key ids; ARNs carry their own (default: $AWS_REGION, "
              + "$AWS_DEFAULT_REGION, then the SDK's chain; us-east-1 with a loopback endpoint)")
  @Nullable String region;

  /**
   * @return the endpoint from the flag or the environment, or {@code null} for AWS KMS
   */
  @Nullable URI endpoint(CliIo io) {
    if (endpoint != null) {
      return checked(endpoint, "--endpoint");
    }
    String env = io.env("BYOK_KMS_ENDPOINT");
    return env == null ? null : checked(URI.create(env), "BYOK_KMS_ENDPOINT");
  }

  private static URI checked(URI uri, String source) {
    if (uri.getScheme() == null || uri.getHost() == null) {
      throw new CliException(
          ExitCodes.USAGE, source + " '" + uri + "' must be a URL like http://127.0.0.1:4599");
    }
    return uri;
  }

  /**
   * @return the Region for key ids without one, or {@code null} to let the SDK decide
   */
  @Nullable String region(CliIo io) {
    if (region != null) {
      return region;
    }
    String env = io.env("AWS_REGION");
    if (env == null) {
      env = io.env("AWS_DEFAULT_REGION");
    }
    if (env != null) {
      return env;
    }
    URI ep = endpoint(io);
    return ep != null && isLoopback(ep) ? LOCAL_DEFAULT_REGION : null;
  }

  /**
   * @return a key provider over the AWS SDK for these flags; the caller closes it
   */
  AwsKmsProvider provider(CliIo io) {
    AwsKmsProvider.Builder b = AwsKmsProvider.builder().clientFactory(r -> client(io, r));
    String r = region(io);
    if (r != null) {
      b.region(r);
    }
    return b.build();
  }

  /**
   * @param io the environment
   * @param keyId an ARN (its Region wins), alias or key id, or {@code null}
   * @return a KMS client for the key's Region; the caller closes it
   */
  KmsClient client(CliIo io, @Nullable String keyId) {
    if (keyId != null && keyId.startsWith("arn:")) {
      String[] parts = keyId.split(":", 6);
      if (parts.length == 6 && !parts[3].isEmpty()) {
        return client(io, Region.of(parts[3]));
      }
    }
    String r = region(io);
    if (r != null) {
      return client(io, Region.of(r));
    }
    try {
      return client(io, new DefaultAwsRegionProviderChain().getRegion());
    } catch (RuntimeException e) {
      throw new CliException(ExitCodes.USAGE, "no AWS Region: pass --region or set AWS_REGION", e);
    }
  }

  KmsClient client(CliIo io, Region r) {
    URI ep = endpoint(io);
    KmsClientBuilder b =
        KmsClient.builder()
            .region(r)
            .credentialsProvider(credentials(io, ep))
            .httpClient(
                UrlConnectionHttpClient.builder()
                    .connectionTimeout(Duration.ofSeconds(3))
                    .socketTimeout(Duration.ofSeconds(10))
                    .build())
            .overrideConfiguration(
                ClientOverrideConfiguration.builder()
                    .apiCallTimeout(Duration.ofSeconds(30))
                    .build());
    if (ep != null) {
      b.endpointOverride(ep);
    }
    return b.build();
  }

  private static AwsCredentialsProvider credentials(CliIo io, @Nullable URI ep) {
    if (ep != null
        && isLoopback(ep)
        && io.env("AWS_ACCESS_KEY_ID") == null
        && io.env("AWS_PROFILE") == null) {
      // the local KMS does not verify SigV4; the SDK still needs something to sign with
      return StaticCredentialsProvider.create(
          AwsBasicCredentials.create("byok-local", "byok-local"));
    }
    return DefaultCredentialsProvider.builder().build();
  }

  static boolean isLoopback(URI uri) {
    String host = uri.getHost();
    if (host == null) {
      return false;
    }
    if (host.equals("localhost")) {
      return true;
    }
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
