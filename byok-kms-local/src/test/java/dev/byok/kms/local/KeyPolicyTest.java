package dev.byok.kms.local;

import static dev.byok.kms.local.KmsAssertions.assertKmsError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Key policies: PutKeyPolicy/GetKeyPolicy and the documented evaluation subset (principals,
 * actions, explicit Deny, encryption-context conditions, ReEncrypt's two permissions, the lockout
 * check), directly and over the wire with callers identified by their SigV4 access key id.
 */
class KeyPolicyTest {
  private static final String HOST = "arn:aws:iam::444455556666:role/storage-host";
  private static final String ADMIN = "arn:aws:iam::111122223333:role/key-admin";
  private static final String OTHER = "arn:aws:iam::111122223333:role/other";
  private static final Map<String, String> ACME = Map.of("tenant", "acme");

  @RegisterExtension final KmsFixture fake = new KmsFixture();

  private InMemoryKms kms() {
    return fake.api();
  }

  /** Admin may do everything; the host gets {@code hostStatement}'s actions. */
  private static String policy(String... hostStatements) {
    StringBuilder b =
        new StringBuilder(
            "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Admin\",\"Effect\":\"Allow\","
                + "\"Principal\":{\"AWS\":\""
                + ADMIN
                + "\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}");
    for (String s : hostStatements) {
      b.append(',').append(s);
    }
    return b.append("]}").toString();
  }

  private static String host(String effect, String actions, String condition) {
    return "{\"Effect\":\""
        + effect
        + "\",\"Principal\":{\"AWS\":[\""
        + HOST
        + "\"]},\"Action\":"
        + actions
        + ",\"Resource\":\"*\""
        + (condition.isEmpty() ? "" : ",\"Condition\":" + condition)
        + "}";
  }

  private String keyWith(String policy) {
    String arn = kms().createKey().arn();
    kms().asCaller(ADMIN).putKeyPolicy(arn, policy, false);
    return arn;
  }

  @Test
  void theDefaultPolicyLetsEveryCallerOfTheAccountAndNoOneElse() {
    String arn = kms().createKey().arn();

    assertThat(kms().getKeyPolicy(arn))
        .contains("\"arn:aws:iam::111122223333:root\"")
        .contains("\"kms:*\"");
    assertThat(kms().asCaller(OTHER).describeKey(arn).arn()).isEqualTo(arn);
    assertKmsError(() -> kms().asCaller(HOST).describeKey(arn), LocalKmsException.ACCESS_DENIED);
    assertThat(kms().caller()).isEqualTo("arn:aws:iam::111122223333:root");
    assertThatIllegalArgumentException().isThrownBy(() -> kms().asCaller("storage-host"));
  }

  @Test
  void aStatementAllowsOnlyItsPrincipalAndActions() {
    String arn = keyWith(policy(host("Allow", "\"kms:Decrypt\"", "")));
    byte[] blob = kms().asCaller(ADMIN).encrypt(arn, new byte[] {7}, ACME).ciphertextBlob();
    InMemoryKms host = kms().asCaller(HOST);

    assertThat(host.decrypt(blob, ACME, arn).plaintext()).containsExactly(7);
    assertKmsError(() -> host.generateDataKey(arn, ACME, 32), LocalKmsException.ACCESS_DENIED);
    assertKmsError(() -> host.describeKey(arn), LocalKmsException.ACCESS_DENIED);
    assertKmsError(
        () -> kms().asCaller(OTHER).decrypt(blob, ACME, arn), LocalKmsException.ACCESS_DENIED);
    assertKmsError(() -> kms().decrypt(blob, ACME, arn), LocalKmsException.ACCESS_DENIED);
    assertThat(kms().calls("Decrypt", LocalKmsException.ACCESS_DENIED)).isEqualTo(2);
  }

  @Test
  void anExplicitDenyWinsOverAnyAllow() {
    String arn =
        keyWith(
            policy(
                host("Allow", "\"kms:*\"", ""),
                host("Deny", "[\"kms:Decrypt\",\"kms:ReEncrypt*\"]", "")));
    InMemoryKms host = kms().asCaller(HOST);
    byte[] blob = host.generateDataKey(arn, ACME, 32).ciphertextBlob();

    assertKmsError(() -> host.decrypt(blob, ACME, null), LocalKmsException.ACCESS_DENIED);
    assertKmsError(
        () -> host.reEncrypt(blob, ACME, null, arn, ACME), LocalKmsException.ACCESS_DENIED);
    assertThat(host.describeKey(arn).enabled()).isTrue();
  }

  @Test
  void encryptionContextConditionsMatchOnlyCallsThatCarryTheContext() {
    String arn =
        keyWith(
            policy(
                host(
                    "Allow",
                    "[\"kms:GenerateDataKey\",\"kms:Decrypt\",\"kms:DescribeKey\"]",
                    "{\"StringEquals\":{\"kms:EncryptionContext:tenant\":[\"acme\",\"initech\"]},"
                        + "\"StringLike\":{\"kms:EncryptionContext:repo\":\"snap-*\"},"
                        + "\"ForAllValues:StringEquals\":{\"kms:EncryptionContextKeys\":"
                        + "[\"tenant\",\"repo\"]}}")));
    InMemoryKms host = kms().asCaller(HOST);
    Map<String, String> ok = Map.of("tenant", "acme", "repo", "snap-1");

    byte[] blob = host.generateDataKey(arn, ok, 32).ciphertextBlob();
    assertThat(host.decrypt(blob, ok, arn).plaintext()).hasSize(32);
    assertThat(host.generateDataKey(arn, Map.of("tenant", "initech", "repo", "snap-x"), 32))
        .isNotNull();
    for (Map<String, String> refused :
        java.util.List.of(
            Map.of("tenant", "globex", "repo", "snap-1"), // StringEquals: no listed value
            Map.of("tenant", "acme", "repo", "logs-1"), // StringLike: no match
            Map.of("tenant", "acme"), // the repo key is missing
            Map.of("tenant", "acme", "repo", "snap-1", "extra", "x"), // a key not listed
            Map.<String, String>of())) {
      assertKmsError(() -> host.generateDataKey(arn, refused, 32), LocalKmsException.ACCESS_DENIED);
    }
    // DescribeKey carries no encryption context: a statement conditioned on one never covers it
    assertKmsError(() -> host.describeKey(arn), LocalKmsException.ACCESS_DENIED);
  }

  @Test
  void reEncryptNeedsReEncryptFromOnTheSourceAndReEncryptToOnTheDestination() {
    String source = keyWith(policy(host("Allow", "\"kms:ReEncryptFrom\"", "")));
    String destination = keyWith(policy(host("Allow", "\"kms:ReEncryptTo\"", "")));
    byte[] blob = kms().asCaller(ADMIN).encrypt(source, new byte[] {1}, ACME).ciphertextBlob();
    InMemoryKms host = kms().asCaller(HOST);

    byte[] moved = host.reEncrypt(blob, ACME, source, destination, ACME).ciphertextBlob();
    assertThat(kms().asCaller(ADMIN).decrypt(moved, ACME, destination).plaintext())
        .containsExactly(1);
    assertKmsError(
        () -> host.reEncrypt(moved, ACME, destination, source, ACME),
        LocalKmsException.ACCESS_DENIED);
  }

  @Test
  void theLockoutCheckRefusesAPolicyThatLocksOutItsAuthorUnlessBypassed() {
    String arn = kms().createKey().arn();
    String hostOnly = "{\"Statement\":" + host("Allow", "\"kms:Decrypt\"", "") + "}";

    assertKmsError(
        () -> kms().putKeyPolicy(arn, hostOnly, false),
        LocalKmsException.MALFORMED_POLICY_DOCUMENT);
    assertThat(kms().getKeyPolicy(arn)).contains(":root");
    kms().putKeyPolicy(arn, hostOnly, true);
    assertKmsError(() -> kms().getKeyPolicy(arn), LocalKmsException.ACCESS_DENIED); // locked out
  }

  @Test
  void policiesOutsideTheModelledSubsetAreRefusedNotMisread() {
    String arn = kms().createKey().arn();
    for (String bad :
        java.util.List.of(
            "not json",
            "[]",
            "{\"Statement\":[]}",
            "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Resource\":\"*\"}}",
            "{\"Statement\":{\"Effect\":\"Maybe\",\"Principal\":\"*\",\"Action\":\"kms:*\","
                + "\"Resource\":\"*\"}}",
            "{\"Statement\":{\"Effect\":\"Allow\",\"NotPrincipal\":{\"AWS\":\""
                + HOST
                + "\"},"
                + "\"Action\":\"kms:*\",\"Resource\":\"*\"}}",
            "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
                + "\"Resource\":\"*\"}}",
            "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\","
                + "\"Resource\":\"*\",\"Condition\":{\"StringNotEquals\":"
                + "{\"kms:EncryptionContext:tenant\":\"acme\"}}}}",
            "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\","
                + "\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"aws:SourceIp\":\"1.2.3.4\"}}}}",
            "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"bob\"},"
                + "\"Action\":\"kms:*\",\"Resource\":\"*\"}}")) {
      assertKmsError(
          () -> kms().putKeyPolicy(arn, bad, true), LocalKmsException.MALFORMED_POLICY_DOCUMENT);
    }
    assertKmsError(() -> kms().putKeyPolicy(arn, "", true), LocalKmsException.VALIDATION);
    assertThat(kms().getKeyPolicy(arn)).contains(":root"); // nothing was changed
  }

  @Test
  void aPolicyChangeIsSeenAfterTheConsistencyDelayAndDenyAccessStillDenies() {
    String arn = kms().createKey().arn();
    InMemoryKms host = kms().asCaller("arn:aws:iam::111122223333:role/host");
    kms().eventualConsistency(Duration.ofSeconds(30));
    kms()
        .asCaller(ADMIN)
        .putKeyPolicy(arn, policy(), false); // only the admin from now on, once visible

    assertThat(host.describeKey(arn).arn()).isEqualTo(arn);
    fake.clock().advance(Duration.ofSeconds(30));
    assertKmsError(() -> host.describeKey(arn), LocalKmsException.ACCESS_DENIED);
    kms().eventualConsistency(Duration.ZERO);
    kms().denyAccess(arn, true);
    assertKmsError(() -> kms().asCaller(ADMIN).describeKey(arn), LocalKmsException.ACCESS_DENIED);
  }

  @Test
  void aCallInFlightWhenThePolicyChangesIsJudgedByThePolicyAtItsTurn() throws Exception {
    String arn = kms().createKey().arn();
    InMemoryKms host = kms().asCaller("arn:aws:iam::111122223333:role/host");
    byte[] blob = host.encrypt(arn, new byte[] {1}, ACME).ciphertextBlob();
    java.util.concurrent.CountDownLatch waiting = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    // the decrypt's injected latency is served before it takes the KMS's lock: block it there
    kms()
        .injectLatency(
            Duration.ofMillis(1),
            d -> {
              waiting.countDown();
              release.await();
            });
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      java.util.concurrent.Future<?> decrypt = pool.submit(() -> host.decrypt(blob, ACME, arn));
      assertThat(waiting.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      kms().injectLatency(Duration.ZERO, d -> {});
      kms().asCaller(ADMIN).putKeyPolicy(arn, policy(), false); // the host is revoked meanwhile
      release.countDown();

      org.assertj.core.api.Assertions.assertThatThrownBy(decrypt::get)
          .hasCauseInstanceOf(LocalKmsException.class)
          .cause()
          .satisfies(
              e ->
                  assertThat(((LocalKmsException) e).errorCode())
                      .isEqualTo(LocalKmsException.ACCESS_DENIED));
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
  }

  @Test
  void overTheWireTheCallerIsTheAccessKeyIdsPrincipalAndThePolicyIsKept(@TempDir Path dir)
      throws Exception {
    Path state = dir.resolve("kms.json");
    String arn;
    String policy = policy(host("Allow", "\"kms:DescribeKey\"", ""));
    try (LocalKmsServer server =
        LocalKmsServer.builder()
            .stateFile(state)
            .principal("AKIDHOST", HOST)
            .principal("AKIDADMIN", ADMIN)
            .start()) {
      arn = server.kms().createKey().arn();
      JsonObject put = new JsonObject();
      put.addProperty("KeyId", arn);
      put.addProperty("Policy", policy);
      put.addProperty("PolicyName", "default");
      assertThat(post(server, "PutKeyPolicy", put, "AKIDADMIN").status()).isEqualTo(200);

      JsonObject get = new JsonObject();
      get.addProperty("KeyId", arn);
      LocalKmsServerTest.Answer got = post(server, "GetKeyPolicy", get, "AKIDADMIN");
      assertThat(got.body().get("Policy").getAsString()).isEqualTo(policy);
      assertThat(got.body().get("PolicyName").getAsString()).isEqualTo("default");
      assertThat(post(server, "DescribeKey", get, "AKIDHOST").status()).isEqualTo(200);
      LocalKmsServerTest.Answer denied = post(server, "GetKeyPolicy", get, "AKIDHOST");
      assertThat(denied.status()).isEqualTo(400);
      assertThat(denied.errorCode()).isEqualTo("AccessDeniedException");
      assertThat(denied.body().get("message").getAsString()).contains(HOST);
      // an unmapped access key id is a user of the server's account: not named, so denied
      assertThat(post(server, "DescribeKey", get, "AKIDUNKNOWN").errorCode())
          .isEqualTo("AccessDeniedException");
      get.addProperty("PolicyName", "other");
      assertThat(post(server, "GetKeyPolicy", get, "AKIDADMIN").errorCode())
          .isEqualTo("NotFoundException");
    }
    try (LocalKmsServer again = LocalKmsServer.builder().stateFile(state).start()) {
      assertThat(again.kms().asCaller(ADMIN).getKeyPolicy(arn)).isEqualTo(policy);
      assertKmsError(() -> again.kms().describeKey(arn), LocalKmsException.ACCESS_DENIED);
    }
  }

  private static LocalKmsServerTest.Answer post(
      LocalKmsServer server, String operation, JsonObject body, String accessKeyId)
      throws java.io.IOException {
    return LocalKmsServerTest.post(
        server.endpoint(), "TrentService." + operation, body.toString(), accessKeyId);
  }
}
