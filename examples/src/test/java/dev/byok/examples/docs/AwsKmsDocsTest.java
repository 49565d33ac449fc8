package dev.byok.examples.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.Byok;
import dev.byok.EncryptionContext;
import dev.byok.KeyRef;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.kms.aws.AwsKmsProvider;
import dev.byok.kms.local.InMemoryKms;
import dev.byok.kms.local.LocalKmsServer;
import dev.byok.testkit.FakeKms;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * The samples of docs/aws-kms.md, run against {@link LocalKmsServer}; {@link DocsTest} keeps each
 * marked region and its doc block in step. The samples that build their own client from the SDK's
 * defaults reach the local server through the SDK's own system properties ({@code
 * aws.endpointUrlKms}, {@code aws.accessKeyId}, {@code aws.secretAccessKey}), set for the duration
 * of one call.
 */
class AwsKmsDocsTest {
  private static final EncryptionContext CTX = EncryptionContext.of("repository", "r1");

  /** The provider and the byok instance of the page's first sample; closing closes both. */
  record Setup(AwsKmsProvider kms, Byok byok) implements AutoCloseable {
    @Override
    public void close() {
      byok.close();
      kms.close();
    }
  }

  static Setup setUpWithDefaultCredentials() {
    // docs:begin aws-kms-setup
    AwsKmsProvider kms = AwsKmsProvider.builder().region("eu-west-1").build();   // SDK default credentials
    Byok byok = Byok.builder()
        .provider(kms)
        .encryptUnder("aws-kms://alias/snapshots")            // the customer's key, by alias or ARN
        .allowDecryptWith("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab") // exact
        .build();
    // docs:end aws-kms-setup
    return new Setup(kms, byok);
  }

  /**
   * The caller-owned client of "Retries and time-outs" and the provider over it; closing closes
   * both.
   */
  record Tuned(KmsClient client, AwsKmsProvider kms) implements AutoCloseable {
    @Override
    public void close() {
      kms.close(); // leaves the caller's client open
      client.close();
    }
  }

  static Tuned tunedClient() {
    // docs:begin aws-kms-retries
    KmsClient client = KmsClient.builder()
        .region(Region.EU_WEST_1)
        .overrideConfiguration(c -> c
            .retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder().maxAttempts(5).build())
            .apiCallAttemptTimeout(Duration.ofSeconds(2))
            .apiCallTimeout(Duration.ofSeconds(10)))
        .build();
    AwsKmsProvider kms = AwsKmsProvider.builder().client(client).build();
    // docs:end aws-kms-retries
    return new Tuned(client, kms);
  }

  static Byok multiRegion(AwsKmsProvider kms) {
    // docs:begin aws-kms-multi-region
    Byok byok = Byok.builder().provider(kms)
        .encryptUnder("aws-kms://arn:aws:kms:eu-west-1:111122223333:key/mrk-1234")
        .encryptUnder("aws-kms://arn:aws:kms:us-east-1:111122223333:key/mrk-1234")
        .slotOrder(Comparator.comparing(s -> s.keyArn().contains(":eu-west-1:") ? 0 : 1)) // same Region first
        .build();
    // docs:end aws-kms-multi-region
    return byok;
  }

  @Test
  void theFirstSampleEncryptsThroughTheSdkDefaults() throws Exception {
    FakeKms fake = FakeKms.builder().region("eu-west-1").build();
    String arn = fake.api().createKey().arn();
    fake.api().createAlias("alias/snapshots", arn);
    try (LocalKmsServer server = LocalKmsServer.start(fake.api())) {
      byte[] blob =
          viaSdkDefaults(
              server,
              () -> {
                try (Setup setup = setUpWithDefaultCredentials()) {
                  Byok byok = setup.byok();
                  byte[] envelope = encrypt(byok, "hello");
                  byok.keys().invalidate(arn); // the decryption below asks the KMS again
                  try (InputStream in =
                      byok.newDecryptingStream(new ByteArrayInputStream(envelope), CTX)) {
                    assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8))
                        .isEqualTo("hello");
                  }
                  return envelope;
                }
              });
      assertThat(Byok.inspect(new ByteArrayInputStream(blob)).keySlots())
          .singleElement()
          .satisfies(slot -> assertThat(slot.keyArn()).isEqualTo(arn));
      assertThat(server.requests("GenerateDataKey")).isEqualTo(1);
      assertThat(server.requests("Decrypt")).isEqualTo(1);
    }
  }

  @Test
  void theTunedClientMakesFiveAttempts() throws Exception {
    FakeKms fake = FakeKms.builder().region("eu-west-1").build();
    String arn = fake.api().createKey().arn();
    try (LocalKmsServer server = LocalKmsServer.start(fake.api())) {
      server.serviceUnavailable(5);
      viaSdkDefaults(
          server,
          () -> {
            try (Tuned tuned = tunedClient()) {
              AwsKmsProvider kms = tuned.kms();
              assertThatThrownBy(() -> kms.generateDataKey(arn, CTX))
                  .isInstanceOf(KmsUnavailableException.class);
              assertThat(server.requests("GenerateDataKey"))
                  .as("the SDK's default is 3 attempts")
                  .isEqualTo(5);
              assertThat(kms.generateDataKey(arn, CTX).keyArn()).isEqualTo(arn);
            }
            return null;
          });
    }
  }

  @Test
  void theMultiRegionSampleAsksTheFirstKeysRegion() throws Exception {
    // InMemoryKms has no multi-Region keys (its key ids are UUIDs), so mrk-1234 is unknown in both
    // Regions: this runs the sample's wiring, one server per Region, and sees where it goes.
    try (LocalKmsServer eu =
            LocalKmsServer.start(InMemoryKms.builder().region("eu-west-1").build());
        LocalKmsServer us =
            LocalKmsServer.start(InMemoryKms.builder().region("us-east-1").build())) {
      Map<Region, URI> endpoints =
          Map.of(Region.EU_WEST_1, eu.endpoint(), Region.US_EAST_1, us.endpoint());
      try (AwsKmsProvider kms =
              AwsKmsProvider.builder()
                  .clientFactory(
                      region ->
                          KmsClient.builder()
                              .region(region)
                              .endpointOverride(endpoints.get(region))
                              .credentialsProvider(
                                  StaticCredentialsProvider.create(
                                      AwsBasicCredentials.create("test", "test")))
                              .httpClient(UrlConnectionHttpClient.create())
                              .build())
                  .build();
          Byok byok = multiRegion(kms)) {
        assertThat(byok.encryptionKeys())
            .containsExactly(
                KeyRef.parse("aws-kms://arn:aws:kms:eu-west-1:111122223333:key/mrk-1234"),
                KeyRef.parse("aws-kms://arn:aws:kms:us-east-1:111122223333:key/mrk-1234"));
        assertThatThrownBy(() -> encrypt(byok, "hello"))
            .isInstanceOfSatisfying(
                KeyUnusableException.class,
                e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.NOT_FOUND));
        assertThat(eu.kms().callLog())
            .singleElement()
            .satisfies(
                call -> {
                  assertThat(call.operation()).isEqualTo("GenerateDataKey");
                  assertThat(call.keyId())
                      .isEqualTo("arn:aws:kms:eu-west-1:111122223333:key/mrk-1234");
                });
        assertThat(us.requests()).isEmpty();
      }
    }
  }

  @Test
  void hostTestsItsAwsSetupAgainstALocalKms() throws Exception {
    // docs:begin aws-kms-local-server
    InMemoryKms kms = InMemoryKms.create();
    try (LocalKmsServer server = LocalKmsServer.start(kms);              // 127.0.0.1, a free port
        AwsKmsProvider aws = AwsKmsProvider.builder()
            .endpoint(server.endpoint())
            .region("us-east-1")
            .credentials(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
            .build();
        Byok byok = Byok.builder()
            .provider(aws)
            .encryptUnder("aws-kms://alias/snapshots")
            .allowDecryptWith("arn:aws:kms:us-east-1:111122223333:key/*")
            .build()) {
      String arn = kms.createKey().arn();                               // set up keys like an admin would
      kms.createAlias("alias/snapshots", arn);
      EncryptionContext ctx = EncryptionContext.of("repository", "r1");

      ByteArrayOutputStream blob = new ByteArrayOutputStream();
      try (OutputStream out = byok.newEncryptingStream(blob, ctx)) {
        out.write("hello".getBytes(StandardCharsets.UTF_8));
      }
      assertThat(Byok.inspect(new ByteArrayInputStream(blob.toByteArray())).keySlots().get(0).keyArn())
          .isEqualTo(arn);                                              // the slot records the ARN, not the alias

      byok.keys().invalidate(arn);                                      // forget the cached data key
      kms.disableKey(arn);                                              // the customer disables the key
      assertThatThrownBy(() -> {
        try (InputStream in = byok.newDecryptingStream(new ByteArrayInputStream(blob.toByteArray()), ctx)) {
          in.readAllBytes();
        }
      }).isInstanceOfSatisfying(KeyUnusableException.class,
          e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.DISABLED));
      assertThat(kms.calls("Decrypt", "DisabledException")).isEqualTo(1); // it went over the wire
    }
    // docs:end aws-kms-local-server
  }

  private static byte[] encrypt(Byok byok, String text) throws IOException {
    ByteArrayOutputStream blob = new ByteArrayOutputStream();
    try (OutputStream out = byok.newEncryptingStream(blob, CTX)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return blob.toByteArray();
  }

  interface Body<T> {
    T run() throws Exception;
  }

  /**
   * Runs {@code body} with the SDK's KMS endpoint and default credentials pointed at {@code server}
   * through the SDK's system properties, and restores them afterwards.
   */
  private static <T> T viaSdkDefaults(LocalKmsServer server, Body<T> body) throws Exception {
    Map<String, String> settings =
        Map.of(
            "aws.endpointUrlKms", server.endpoint().toString(),
            "aws.accessKeyId", "test",
            "aws.secretAccessKey", "test");
    Map<String, String> before = new HashMap<>();
    for (String name : settings.keySet()) {
      before.put(name, System.getProperty(name));
    }
    settings.forEach(System::setProperty);
    try {
      return body.run();
    } finally {
      for (String name : List.copyOf(settings.keySet())) {
        String old = before.get(name);
        if (old == null) {
          System.clearProperty(name);
        } else {
          System.setProperty(name, old);
        }
      }
    }
  }
}
