package dev.byok.kms.aws;

import dev.byok.Byok;
import dev.byok.DataKeyPolicy;
import dev.byok.EncryptionContext;
import dev.byok.KeySlot;
import dev.byok.kms.local.InMemoryKms;
import dev.byok.kms.local.LocalKmsServer;
import dev.byok.spi.KeyProvider;
import dev.byok.testkit.FakeKms;
import dev.byok.testkit.ManualClock;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.stream.Collectors;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * One test world: a {@link FakeKms} on a manual clock, a {@link LocalKmsServer} in front of it, a
 * real SDK {@link KmsClient} pointed at the server (static credentials, the JDK HTTP client, the
 * standard retry strategy with {@link #MAX_ATTEMPTS} attempts and no back-off so tests stay fast),
 * and an {@link AwsKmsProvider} over that caller-owned client.
 */
final class LocalKms implements AutoCloseable {
  /** Attempts per SDK call, the first one included. */
  static final int MAX_ATTEMPTS = 3;

  static final StaticCredentialsProvider CREDENTIALS =
      StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDEXAMPLE", "not-checked"));

  final ManualClock clock = new ManualClock();
  final FakeKms kms;
  final LocalKmsServer server;
  final KmsClient client;
  final AwsKmsProvider provider;

  LocalKms() {
    this(FakeKms.DEFAULT_PROVIDER_ID);
  }

  /**
   * @param fakeProviderId the provider id of {@link #kms}, to make it interchangeable with AWS's
   */
  LocalKms(String fakeProviderId) {
    kms = FakeKms.builder().clock(clock).providerId(fakeProviderId).build();
    server = LocalKmsServer.start(kms.api());
    client = client(server.endpoint(), fastRetries());
    provider = AwsKmsProvider.builder().client(client).build();
  }

  InMemoryKms api() {
    return kms.api();
  }

  /**
   * @return a new key's ARN
   */
  String newKey() {
    return api().createKey().arn();
  }

  static KmsClient client(URI endpoint, ClientOverrideConfiguration config) {
    return KmsClient.builder()
        .endpointOverride(endpoint)
        .region(Region.US_EAST_1)
        .credentialsProvider(CREDENTIALS)
        .httpClient(UrlConnectionHttpClient.create())
        .overrideConfiguration(config)
        .build();
  }

  /**
   * The SDK's standard retries, {@link #MAX_ATTEMPTS} attempts, no back-off, no circuit breaker.
   */
  static ClientOverrideConfiguration fastRetries() {
    return ClientOverrideConfiguration.builder()
        .retryStrategy(
            AwsRetryStrategy.standardRetryStrategy().toBuilder()
                .maxAttempts(MAX_ATTEMPTS)
                .backoffStrategy(BackoffStrategy.retryImmediately())
                .throttlingBackoffStrategy(BackoffStrategy.retryImmediately())
                .circuitBreakerEnabled(false)
                .build())
        .apiCallTimeout(Duration.ofSeconds(10))
        .build();
  }

  /**
   * A Byok over {@code provider} that encrypts under {@code aws-kms://<kek>}, a fresh data key per
   * blob.
   */
  static Byok byok(KeyProvider provider, String kek) {
    return Byok.builder()
        .provider(provider)
        .encryptUnder(AwsKmsProvider.PROVIDER_ID + "://" + kek)
        .allowDecryptWith("arn:aws:kms:us-east-1:111122223333:key/*")
        .dataKeyPolicy(DataKeyPolicy.noReuse())
        .build();
  }

  static byte[] encrypt(Byok byok, String text, EncryptionContext context) throws IOException {
    ByteArrayOutputStream bout = new ByteArrayOutputStream();
    try (OutputStream out = byok.newEncryptingStream(bout, context)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return bout.toByteArray();
  }

  static String decrypt(Byok byok, byte[] blob, EncryptionContext context) throws IOException {
    try (InputStream in = byok.newDecryptingStream(new ByteArrayInputStream(blob), context)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /**
   * @return the key ARNs of the blob's slots, comma-separated, in header order
   */
  static String slotArns(byte[] blob) throws IOException {
    return Byok.inspect(new ByteArrayInputStream(blob)).keySlots().stream()
        .map(KeySlot::keyArn)
        .collect(Collectors.joining(","));
  }

  @Override
  public void close() {
    provider.close();
    client.close();
    server.close();
  }
}
