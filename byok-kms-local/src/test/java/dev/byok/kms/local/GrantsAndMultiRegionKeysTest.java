package dev.byok.kms.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Grants (CreateGrant, grant tokens, eventual consistency, RevokeGrant) and multi-Region keys (mrk-
 * ids, programmatic replication into another Region's KMS, shared key material, rotation of the
 * primary reaching replicas, DescribeKey's MultiRegionConfiguration), directly and over the wire;
 * {@code failNextCalls}.
 */
class GrantsAndMultiRegionKeysTest {
  private static final String HOST = "arn:aws:iam::111122223333:role/storage-host";
  private static final Map<String, String> CTX = Map.of("tenant", "acme");

  private final TestClock clock = new TestClock();
  private final InMemoryKms kms = InMemoryKms.builder().clock(clock).build();
  private final InMemoryKms west = InMemoryKms.builder().clock(clock).region("eu-west-1").build();

  private static final String ADMIN = "arn:aws:iam::111122223333:role/key-admin";
  private static final String ADMIN_ONLY =
      "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\""
          + ADMIN
          + "\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}";

  /** The key admin's view: the only caller the key policy of {@link #adminOnlyKey} allows. */
  private final InMemoryKms admin = kms.asCaller(ADMIN);

  private String adminOnlyKey() {
    String arn = kms.createKey().arn();
    admin.putKeyPolicy(arn, ADMIN_ONLY, false);
    return arn;
  }

  private static void assertCode(Runnable call, String code) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            LocalKmsException.class, e -> assertThat(e.errorCode()).isEqualTo(code));
  }

  @Test
  void aNewGrantWorksAtOnceWithItsTokenAndForEveryoneOnceConsistent() {
    String key = adminOnlyKey();
    InMemoryKms host = kms.asCaller(HOST);
    byte[] blob = admin.encrypt(key, new byte[] {1, 2, 3}, CTX).ciphertextBlob();
    assertCode(() -> host.decrypt(blob, CTX, key), LocalKmsException.ACCESS_DENIED);

    kms.eventualConsistency(Duration.ofMinutes(5));
    InMemoryKms.Grant grant = admin.createGrant(key, HOST, Set.of("Decrypt"));
    assertThat(grant.toString()).doesNotContain(grant.grantToken());
    assertCode(() -> host.decrypt(blob, CTX, key), LocalKmsException.ACCESS_DENIED);
    InMemoryKms withToken = host.withGrantTokens(List.of(grant.grantToken()));
    assertThat(withToken.decrypt(blob, CTX, key).plaintext()).containsExactly(1, 2, 3);
    // only the granted operations, only for the grantee
    assertCode(() -> withToken.encrypt(key, new byte[] {1}, CTX), LocalKmsException.ACCESS_DENIED);
    InMemoryKms other =
        kms.asCaller("arn:aws:iam::111122223333:role/other")
            .withGrantTokens(List.of(grant.grantToken()));
    assertCode(() -> other.decrypt(blob, CTX, key), LocalKmsException.ACCESS_DENIED);

    clock.advance(Duration.ofMinutes(5));
    assertThat(host.decrypt(blob, CTX, key).plaintext()).containsExactly(1, 2, 3);

    admin.revokeGrant(key, grant.grantId());
    assertCode(() -> host.decrypt(blob, CTX, key), LocalKmsException.ACCESS_DENIED);
    assertCode(() -> withToken.decrypt(blob, CTX, key), LocalKmsException.INVALID_GRANT_TOKEN);
    assertThat(kms.callLog())
        .extracting(InMemoryKms.Call::operation)
        .contains("CreateGrant", "RevokeGrant");
  }

  @Test
  void grantsAreValidated() {
    String key = kms.createKey().arn();
    assertCode(
        () -> kms.createGrant(key, "storage-host", Set.of("Decrypt")),
        LocalKmsException.VALIDATION);
    assertCode(
        () -> kms.createGrant(key, HOST, Set.of("PutKeyPolicy")), LocalKmsException.VALIDATION);
    assertCode(
        () -> kms.createGrant("alias/x", HOST, Set.of("Decrypt")), LocalKmsException.NOT_FOUND);
    assertCode(() -> kms.revokeGrant(key, "nope"), LocalKmsException.NOT_FOUND);
    assertCode(
        () -> kms.withGrantTokens(List.of("bogus")).describeKey(key),
        LocalKmsException.INVALID_GRANT_TOKEN);
    assertThatIllegalArgumentException().isThrownBy(() -> kms.withGrantTokens(List.of(" ")));
  }

  @Test
  void aReplicaInAnotherRegionSharesTheKeyIdAndMaterial() {
    InMemoryKms.KeyMetadata primary = kms.createMultiRegionKey("orders");
    assertThat(primary.keyId()).matches("mrk-[0-9a-f]{32}");
    InMemoryKms.KeyMetadata replica = kms.replicateKey(primary.arn(), west);
    assertThat(replica.keyId()).isEqualTo(primary.keyId());
    assertThat(replica.arn()).isEqualTo(primary.arn().replace(":us-east-1:", ":eu-west-1:"));
    assertThat(replica.multiRegionConfiguration())
        .isEqualTo(
            new InMemoryKms.MultiRegionConfiguration(
                "REPLICA", primary.arn(), List.of(replica.arn())));
    assertThat(kms.describeKey(primary.arn()).multiRegionConfiguration())
        .isEqualTo(
            new InMemoryKms.MultiRegionConfiguration(
                "PRIMARY", primary.arn(), List.of(replica.arn())));
    assertThat(kms.createKey().multiRegionConfiguration()).isNull();

    byte[] blob = kms.encrypt(primary.arn(), new byte[] {7}, CTX).ciphertextBlob();
    assertThat(west.decrypt(blob, CTX, replica.arn()).keyId()).isEqualTo(replica.arn());
    byte[] back = west.encrypt(replica.arn(), new byte[] {8}, CTX).ciphertextBlob();
    assertThat(kms.decrypt(back, CTX, null).plaintext()).containsExactly(8);

    // rotation of the primary reaches the replica; the replica cannot rotate itself
    kms.rotateKeyOnDemand(primary.arn());
    byte[] rotated = kms.encrypt(primary.arn(), new byte[] {9}, CTX).ciphertextBlob();
    assertThat(west.decrypt(rotated, CTX, replica.arn()).plaintext()).containsExactly(9);
    assertThat(west.describeKey(replica.arn()).currentKeyMaterialId())
        .isEqualTo(kms.describeKey(primary.arn()).currentKeyMaterialId());
    assertCode(
        () -> west.rotateKeyOnDemand(replica.arn()), LocalKmsException.UNSUPPORTED_OPERATION);

    // each Region has its own state
    west.disableKey(replica.arn());
    assertCode(() -> west.decrypt(blob, CTX, replica.arn()), LocalKmsException.DISABLED);
    assertThat(kms.decrypt(blob, CTX, primary.arn()).plaintext()).containsExactly(7);
  }

  @Test
  void onlyAPrimaryIsReplicatedOnceIntoAnotherRegionOfTheAccount() {
    String primary = kms.createMultiRegionKey("orders").arn();
    String replica = kms.replicateKey(primary, west).arn();
    assertCode(() -> kms.replicateKey(primary, west), LocalKmsException.ALREADY_EXISTS);
    assertCode(
        () -> kms.replicateKey(kms.createKey().arn(), west),
        LocalKmsException.UNSUPPORTED_OPERATION);
    assertCode(
        () -> kms.replicateKey(primary, InMemoryKms.builder().clock(clock).build()),
        LocalKmsException.VALIDATION);
    assertCode(
        () ->
            kms.replicateKey(
                primary,
                InMemoryKms.builder()
                    .clock(clock)
                    .region("eu-central-1")
                    .accountId("444455556666")
                    .build()),
        LocalKmsException.VALIDATION);
    InMemoryKms third = InMemoryKms.builder().clock(clock).region("ap-south-1").build();
    assertCode(() -> west.replicateKey(replica, third), LocalKmsException.UNSUPPORTED_OPERATION);
  }

  @Test
  void overTheWireCreateKeyMakesMultiRegionKeysAndGrantTokensArePassedOn() throws Exception {
    try (LocalKmsServer server =
        LocalKmsServer.builder()
            .kms(kms)
            .principal("AKIDHOST", HOST)
            .principal("AKIDADMIN", ADMIN)
            .start()) {
      LocalKmsServerTest.Answer created =
          LocalKmsServerTest.post(
              server.endpoint(), "TrentService.CreateKey", "{\"MultiRegion\":true}", true);
      assertThat(created.status()).isEqualTo(200);
      JsonObject m = created.body().getAsJsonObject("KeyMetadata");
      assertThat(m.get("MultiRegion").getAsBoolean()).isTrue();
      assertThat(
              m.getAsJsonObject("MultiRegionConfiguration").get("MultiRegionKeyType").getAsString())
          .isEqualTo("PRIMARY");
      String arn = m.get("Arn").getAsString();
      admin.putKeyPolicy(arn, ADMIN_ONLY, false);
      kms.replicateKey(arn, west);
      assertThat(
              LocalKmsServerTest.post(
                      server.endpoint(),
                      "TrentService.DescribeKey",
                      "{\"KeyId\":\"" + arn + "\"}",
                      "AKIDADMIN")
                  .body()
                  .getAsJsonObject("KeyMetadata")
                  .getAsJsonObject("MultiRegionConfiguration")
                  .getAsJsonArray("ReplicaKeys")
                  .get(0)
                  .getAsJsonObject()
                  .get("Region")
                  .getAsString())
          .isEqualTo("eu-west-1");

      kms.eventualConsistency(Duration.ofMinutes(5));
      LocalKmsServerTest.Answer grant =
          LocalKmsServerTest.post(
              server.endpoint(),
              "TrentService.CreateGrant",
              "{\"KeyId\":\""
                  + arn
                  + "\",\"GranteePrincipal\":\""
                  + HOST
                  + "\",\"Operations\":[\"DescribeKey\"]}",
              "AKIDADMIN");
      assertThat(grant.status()).isEqualTo(200);
      String token = grant.body().get("GrantToken").getAsString();
      String describe = "{\"KeyId\":\"" + arn + "\"";
      assertThat(
              LocalKmsServerTest.post(
                      server.endpoint(), "TrentService.DescribeKey", describe + "}", "AKIDHOST")
                  .errorCode())
          .isEqualTo("AccessDeniedException");
      assertThat(
              LocalKmsServerTest.post(
                      server.endpoint(),
                      "TrentService.DescribeKey",
                      describe + ",\"GrantTokens\":[\"" + token + "\"]}",
                      "AKIDHOST")
                  .status())
          .isEqualTo(200);
      assertThat(
              LocalKmsServerTest.post(
                      server.endpoint(),
                      "TrentService.DescribeKey",
                      describe + ",\"GrantTokens\":[\"forged\"]}",
                      "AKIDHOST")
                  .errorCode())
          .isEqualTo("InvalidGrantTokenException");
    }
  }

  @Test
  void failNextCallsFailsTheNextCallsOfAnyOperation() {
    String key = kms.createKey().arn();
    kms.failNextCalls(2, LocalKmsException.THROTTLING);
    assertThat(kms.unconsumedFaults())
        .containsExactly("*: ThrottlingException", "*: ThrottlingException");
    assertCode(() -> kms.describeKey(key), LocalKmsException.THROTTLING);
    assertCode(() -> kms.encrypt(key, new byte[] {1}, CTX), LocalKmsException.THROTTLING);
    assertThat(kms.describeKey(key).keyState()).isNotNull();
    kms.checkNoUnconsumedFaults();
    assertThatIllegalArgumentException()
        .isThrownBy(() -> kms.failNextCalls(0, "ThrottlingException"));
    assertThatIllegalArgumentException().isThrownBy(() -> kms.failNextCalls(1, "Nope"));
  }
}
