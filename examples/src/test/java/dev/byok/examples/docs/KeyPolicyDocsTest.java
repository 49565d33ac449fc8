package dev.byok.examples.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.Byok;
import dev.byok.EncryptionContext;
import dev.byok.KeyRef;
import dev.byok.KeyUnusableException;
import dev.byok.ReadPolicy;
import dev.byok.kms.aws.AwsKmsProvider;
import dev.byok.kms.local.InMemoryKms;
import dev.byok.kms.local.LocalKmsServer;
import dev.byok.monitor.KeyEvent;
import dev.byok.monitor.KeyMonitorState;
import dev.byok.monitor.KeyStateMonitor;
import dev.byok.testkit.ManualClock;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * The least-privilege key policy of docs/aws-kms.md ("Minimal permissions"), read from the page
 * itself, put on keys of the local KMS: every call byok makes passes under it through the real AWS
 * SDK (GenerateDataKey, Decrypt, rewrap's ReEncrypt, the monitor's DescribeKey, canary and
 * GetKeyRotationStatus); a policy that drops the host turns its calls into AccessDenied and drives
 * the KeyStateMonitor to LOCKED; restoring the policy unlocks.
 */
class KeyPolicyDocsTest {
  private static final String HOST = "arn:aws:iam::444455556666:role/storage-host";
  private static final String ADMIN = "arn:aws:iam::111122223333:role/key-admin";
  private static final EncryptionContext CTX = EncryptionContext.of("tenant", "acme");

  /** The same key administration without any statement for the host: the host is revoked. */
  private static final String HOST_REVOKED =
      """
      {
        "Version": "2012-10-17",
        "Statement": [
          {
            "Sid": "KeyAdministration",
            "Effect": "Allow",
            "Principal": { "AWS": "arn:aws:iam::111122223333:role/key-admin" },
            "Action": "kms:*",
            "Resource": "*"
          }
        ]
      }
      """;

  private final ManualClock clock = new ManualClock();
  private final InMemoryKms kms = InMemoryKms.builder().clock(clock).build();
  private final LocalKmsServer server =
      LocalKmsServer.builder()
          .kms(kms)
          .principal("AKIDHOST", HOST)
          .principal("AKIDADMIN", ADMIN)
          .start();
  private final KmsClient admin = client("AKIDADMIN");

  @AfterEach
  void stop() {
    admin.close();
    server.close();
  }

  @Test
  void everyByokCallPassesUnderTheDocumentedPolicyAndRevokingTheHostLocks(@TempDir Path dir)
      throws Exception {
    String policy = documentedPolicy();
    String oldKey = kms.createKey("old").arn();
    String key = kms.createKey("current").arn();
    // the lockout check: the account root may not put a policy that would lock the root out
    assertThatThrownBy(() -> kms.putKeyPolicy(key, policy, false))
        .hasMessageContaining("MalformedPolicyDocumentException");
    // the admin may: the default policy's account root covers every caller of the account, and the
    // new policy keeps the admin's kms:PutKeyPolicy; once directly, once over the wire
    kms.asCaller(ADMIN).putKeyPolicy(oldKey, policy, false);
    admin.putKeyPolicy(r -> r.keyId(key).policy(policy));
    assertThat(admin.getKeyPolicy(r -> r.keyId(key)).policy()).isEqualTo(policy);

    try (KmsClient hostClient = client("AKIDHOST");
        AwsKmsProvider host = AwsKmsProvider.builder().client(hostClient).build();
        Byok writer = byok(host, oldKey).build();
        Byok byok = byok(host, key).allowDecryptWith(oldKey).build();
        KeyStateMonitor monitor =
            KeyStateMonitor.builder()
                .provider(host)
                .dataKeyManager(byok.keys())
                .clock(clock)
                .seed(7)
                .eventExecutor(Runnable::run) // events on this thread: read right after each probe
                .build()) {
      KeyRef ref = KeyRef.of(AwsKmsProvider.PROVIDER_ID, key);
      List<KeyEvent> events = new CopyOnWriteArrayList<>();
      monitor.watch(ref).addListener(events::add);

      byte[] blob = encrypt(byok, "snapshot"); // GenerateDataKey
      byok.keys().invalidate(key);
      assertThat(decrypt(byok, blob)).isEqualTo("snapshot"); // Decrypt
      Path old = dir.resolve("old.byok");
      Files.write(old, encrypt(writer, "older"));
      byok.rewrap( // ReEncrypt old key -> current key
          old,
          dir.resolve("rewrapped.byok"),
          ReadPolicy.of(List.of(KeyRef.of(AwsKmsProvider.PROVIDER_ID, oldKey)), CTX));
      monitor.runDueProbes(); // DescribeKey, the canary (Encrypt, Decrypt), GetKeyRotationStatus
      assertThat(monitor.state(ref)).isEqualTo(KeyMonitorState.ACTIVE);

      Set<String> passed =
          server.requests().stream()
              .filter(c -> c.httpStatus() == 200)
              .map(LocalKmsServer.WireCall::operation)
              .collect(Collectors.toSet());
      assertThat(passed)
          .contains(
              "GenerateDataKey",
              "Decrypt",
              "ReEncrypt",
              "DescribeKey",
              "GetKeyRotationStatus",
              "Encrypt");
      assertThat(server.requests())
          .as("no call of byok was refused under the documented policy")
          .noneMatch(c -> c.httpStatus() != 200 && !c.operation().equals("PutKeyPolicy"));

      // the customer revokes the host: its statements leave the key policy
      admin.putKeyPolicy(r -> r.keyId(key).policy(HOST_REVOKED));
      byok.keys().invalidate(key);
      assertThatThrownBy(() -> decrypt(byok, blob))
          .isInstanceOfSatisfying(
              KeyUnusableException.class,
              e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.ACCESS_DENIED));
      assertThat(kms.calls("Decrypt", "AccessDeniedException")).isPositive();
      long t0 = clock.millis();
      while (monitor.state(ref) != KeyMonitorState.LOCKED) {
        clock.advance(Duration.ofSeconds(1));
        monitor.runDueProbes();
        assertThat(clock.millis() - t0)
            .as("locked within the documented 6 min 01 s")
            .isLessThanOrEqualTo(Duration.ofSeconds(361).toMillis());
      }
      assertThat(events).extracting(KeyEvent::type).contains(KeyEvent.Type.LOCKED);

      // restoring the policy restores the host
      events.clear();
      admin.putKeyPolicy(r -> r.keyId(key).policy(policy));
      for (int i = 0; i < 2 && monitor.state(ref) != KeyMonitorState.ACTIVE; i++) {
        clock.advance(Duration.ofMinutes(6)); // one probe interval, jitter included
        monitor.runDueProbes();
      }
      assertThat(monitor.state(ref)).isEqualTo(KeyMonitorState.ACTIVE);
      assertThat(events).extracting(KeyEvent::type).contains(KeyEvent.Type.UNLOCKED);
      assertThat(decrypt(byok, blob)).isEqualTo("snapshot");
    }
  }

  @Test
  void aPolicyPinnedToATenantRefusesAnotherTenantsContext() throws Exception {
    String key = kms.createKey().arn();
    admin.putKeyPolicy(r -> r.keyId(key).policy(documentedPolicyUnchecked()));
    try (KmsClient hostClient = client("AKIDHOST");
        AwsKmsProvider host = AwsKmsProvider.builder().client(hostClient).build();
        Byok byok = byok(host, key).build()) {
      assertThat(encrypt(byok, "acme's")).isNotEmpty();
      assertThatThrownBy(
              () -> {
                try (OutputStream out =
                    byok.newEncryptingStream(
                        new ByteArrayOutputStream(), EncryptionContext.of("tenant", "globex"))) {
                  out.write(1);
                }
              })
          .isInstanceOfSatisfying(
              KeyUnusableException.class,
              e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.ACCESS_DENIED));
    }
  }

  private Byok.Builder byok(AwsKmsProvider provider, String key) {
    return Byok.builder()
        .provider(provider)
        .encryptUnder(KeyRef.of(AwsKmsProvider.PROVIDER_ID, key))
        .clock(clock);
  }

  private static byte[] encrypt(Byok byok, String text) throws IOException {
    ByteArrayOutputStream blob = new ByteArrayOutputStream();
    try (OutputStream out = byok.newEncryptingStream(blob, CTX)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return blob.toByteArray();
  }

  private static String decrypt(Byok byok, byte[] blob) throws IOException {
    try (InputStream in = byok.newDecryptingStream(new ByteArrayInputStream(blob), CTX)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static String documentedPolicyUnchecked() {
    try {
      return documentedPolicy();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String documentedPolicy() throws IOException {
    String page = Files.readString(root().resolve("docs/aws-kms.md"), StandardCharsets.UTF_8);
    Matcher m =
        Pattern.compile("## Minimal permissions\\n.*?```json\\n(.*?)```", Pattern.DOTALL)
            .matcher(page);
    assertThat(m.find()).as("a ```json block under ## Minimal permissions").isTrue();
    return m.group(1);
  }

  private static Path root() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("docs/aws-kms.md"))) {
        return p;
      }
    }
    throw new IllegalStateException("no docs/aws-kms.md above " + Path.of("").toAbsolutePath());
  }

  private KmsClient client(String accessKeyId) {
    return KmsClient.builder()
        .endpointOverride(server.endpoint())
        .region(Region.US_EAST_1)
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKeyId, "secret")))
        .httpClient(UrlConnectionHttpClient.create())
        .build();
  }
}
