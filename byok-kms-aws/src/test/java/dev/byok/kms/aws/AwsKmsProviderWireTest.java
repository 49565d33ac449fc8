package dev.byok.kms.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.Byok;
import dev.byok.ByokConfigurationException;
import dev.byok.EncryptionContext;
import dev.byok.KmsUnavailableException;
import dev.byok.kms.local.InMemoryKms;
import dev.byok.kms.local.LocalKmsServer;
import dev.byok.spi.GeneratedDataKey;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * AwsKmsProvider through the real SDK client against LocalKmsServer: retries, wire faults, ARNs.
 */
class AwsKmsProviderWireTest {
  private static final EncryptionContext CTX =
      EncryptionContext.of("tenant", "acme", "repository", "r1");

  private final LocalKms kms = new LocalKms();

  @AfterEach
  void tearDown() {
    kms.close();
  }

  private GeneratedDataKey dataKey() {
    GeneratedDataKey dek = kms.provider.generateDataKey(kms.newKey(), CTX);
    kms.server.resetRequestLog();
    kms.api().resetCallLog();
    return dek;
  }

  private byte[] decrypt(GeneratedDataKey dek) {
    return kms.provider.decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CTX);
  }

  @Test
  void throttlingIsRetriedByTheSdkAndSurfacesAsTransientOnlyWhenEveryAttemptIsThrottled() {
    GeneratedDataKey dek = dataKey();
    for (int i = 0; i < LocalKms.MAX_ATTEMPTS - 1; i++) {
      kms.api().failNext("Decrypt", "ThrottlingException");
    }
    assertThat(decrypt(dek)).isEqualTo(dek.copyPlaintextKey()); // the last attempt got through
    assertThat(kms.api().calls("Decrypt")).isEqualTo(LocalKms.MAX_ATTEMPTS);

    kms.api().resetCallLog();
    for (int i = 0; i < LocalKms.MAX_ATTEMPTS; i++) {
      kms.api().failNext("Decrypt", "ThrottlingException");
    }
    assertThatThrownBy(() -> decrypt(dek))
        .isInstanceOfSatisfying(
            KmsUnavailableException.class, e -> assertThat(e.throttled()).isTrue());
    assertThat(kms.api().calls("Decrypt", "ThrottlingException")).isEqualTo(LocalKms.MAX_ATTEMPTS);
    kms.api().checkNoUnconsumedFaults();
  }

  @Test
  void aDroppedConnectionIsRetriedAndTransientWhenItPersists() {
    GeneratedDataKey dek = dataKey();
    kms.server.dropConnections(1);
    assertThat(decrypt(dek)).isEqualTo(dek.copyPlaintextKey());
    assertThat(kms.server.requests())
        .extracting(LocalKmsServer.WireCall::outcome)
        .containsExactly(LocalKmsServer.DROPPED, InMemoryKms.OK);

    kms.server.resetRequestLog();
    kms.server.dropConnections(LocalKms.MAX_ATTEMPTS);
    assertThatThrownBy(() -> decrypt(dek))
        .isInstanceOfSatisfying(
            KmsUnavailableException.class,
            e -> {
              assertThat(e.throttled()).isFalse();
              assertThat(e.retryable()).isTrue();
            })
        .rootCause()
        .isInstanceOf(IOException.class);
    assertThat(kms.server.requests("Decrypt")).isEqualTo(LocalKms.MAX_ATTEMPTS);
    assertThat(kms.api().calls("Decrypt")).as("no dropped request reached the fake").isEqualTo(1);
  }

  @Test
  void a503StormIsRetriedAndTransientWhenItOutlastsTheRetries() {
    GeneratedDataKey dek = dataKey();
    kms.server.serviceUnavailable(LocalKms.MAX_ATTEMPTS - 1);
    assertThat(decrypt(dek)).isEqualTo(dek.copyPlaintextKey());
    assertThat(kms.server.requests())
        .extracting(LocalKmsServer.WireCall::httpStatus)
        .containsExactly(503, 503, 200);

    kms.server.serviceUnavailable(LocalKms.MAX_ATTEMPTS);
    assertThatThrownBy(() -> decrypt(dek))
        .isInstanceOfSatisfying(
            KmsUnavailableException.class, e -> assertThat(e.throttled()).isFalse())
        .hasMessageContaining("ServiceUnavailableException");
  }

  @Test
  void aSlowKmsIsTransientOnceTheSdkTimesOut() {
    GeneratedDataKey dek = dataKey();
    kms.server.slowResponses(Duration.ofMillis(20));
    assertThat(decrypt(dek)).isEqualTo(dek.copyPlaintextKey()); // slow but within the time-outs

    kms.server.slowResponses(Duration.ofSeconds(5)); // the server threads are interrupted on close
    ClientOverrideConfiguration impatient =
        LocalKms.fastRetries().toBuilder()
            .apiCallAttemptTimeout(Duration.ofMillis(60))
            .apiCallTimeout(Duration.ofMillis(250))
            .build();
    try (KmsClient client = LocalKms.client(kms.server.endpoint(), impatient);
        AwsKmsProvider provider = AwsKmsProvider.builder().client(client).build()) {
      assertThatThrownBy(() -> provider.decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CTX))
          .isInstanceOfSatisfying(
              KmsUnavailableException.class, e -> assertThat(e.throttled()).isFalse())
          .hasMessageContaining("could not reach AWS KMS");
    }
  }

  @Test
  void decryptSendsTheSlotArnAndRefusesAnAnswerFromAnotherKey() {
    String other = kms.newKey();
    GeneratedDataKey dek = dataKey();
    assertThat(decrypt(dek)).isEqualTo(dek.copyPlaintextKey());
    assertThat(kms.api().callLog())
        .containsExactly(new InMemoryKms.Call("Decrypt", dek.keyArn(), InMemoryKms.OK));

    kms.server.rewriteNextResponse("Decrypt", json -> json.replace(dek.keyArn(), other));
    assertThatThrownBy(() -> decrypt(dek))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining(other)
        .hasMessageContaining("refusing");
  }

  @Test
  void aliasRetargetedNewBlobsCarryTheNewArnAndOldBlobsDecryptWithTheOldOne() throws IOException {
    String first = kms.newKey();
    String second = kms.newKey();
    kms.api().createAlias("alias/snapshots", first);
    byte[] before;
    byte[] after;
    try (Byok byok = byok()) {
      before = encrypt(byok, "written before");
      kms.api().updateAlias("alias/snapshots", second);
      after = encrypt(byok, "written after");
    }
    assertThat(LocalKms.slotArns(before)).isEqualTo(first);
    assertThat(LocalKms.slotArns(after)).isEqualTo(second);

    kms.api().resetCallLog();
    try (Byok reader = byok()) { // a fresh cache: every data key comes from KMS
      assertThat(decrypt(reader, before)).isEqualTo("written before");
      assertThat(decrypt(reader, after)).isEqualTo("written after");
    }
    assertThat(kms.api().callLog())
        .containsExactly(
            new InMemoryKms.Call("Decrypt", first, InMemoryKms.OK),
            new InMemoryKms.Call("Decrypt", second, InMemoryKms.OK));
  }

  @Test
  void afterRotationOnDemandEveryBlobStillDecrypts() throws IOException {
    String arn = kms.newKey();
    kms.api().createAlias("alias/snapshots", arn);
    String firstMaterial = kms.api().describeKey(arn).currentKeyMaterialId();
    byte[] before;
    byte[] after;
    try (Byok byok = byok()) {
      before = encrypt(byok, "old material");
      kms.api().rotateKeyOnDemand(arn);
      after = encrypt(byok, "new material");
    }
    assertThat(kms.provider.describeKey("alias/snapshots").currentKeyMaterialId())
        .isNotEqualTo(firstMaterial);
    assertThat(LocalKms.slotArns(before)).isEqualTo(arn);
    assertThat(LocalKms.slotArns(after)).isEqualTo(arn);
    try (Byok reader = byok()) {
      assertThat(decrypt(reader, before)).isEqualTo("old material");
      assertThat(decrypt(reader, after)).isEqualTo("new material");
    }
  }

  @Test
  void aCallerOwnedClientIsNotClosedByTheProvider() {
    String arn = kms.newKey();
    AwsKmsProvider provider = AwsKmsProvider.builder().client(kms.client).build();
    assertThat(provider.describeKey(arn).keyArn()).isEqualTo(arn);
    provider.close();
    provider.close(); // idempotent
    assertThat(kms.client.describeKey(b -> b.keyId(arn)).keyMetadata().arn()).isEqualTo(arn);
  }

  @Test
  void aProviderBuiltFromAnEndpointTalksToTheServer() throws IOException {
    String arn = kms.newKey();
    kms.api().createAlias("alias/snapshots", arn);
    try (AwsKmsProvider provider =
        AwsKmsProvider.builder()
            .endpoint(kms.server.endpoint())
            .region("us-east-1")
            .credentials(LocalKms.CREDENTIALS)
            .build()) {
      GeneratedDataKey dek = provider.generateDataKey("alias/snapshots", CTX);
      assertThat(dek.keyArn()).isEqualTo(arn);
      assertThat(provider.decrypt(arn, dek.wrapped().ciphertext(), CTX))
          .isEqualTo(dek.copyPlaintextKey());
      assertThat(provider.rotationStatus("alias/snapshots").enabled()).isFalse();
      assertThat(provider.toString()).contains("us-east-1");
    }
  }

  @Test
  void theServerBindsLoopbackOnlyAndRefusesAnyOtherAddress() throws IOException {
    assertThat(InetAddress.getByName(kms.server.endpoint().getHost()).isLoopbackAddress()).isTrue();
    for (String address : List.of("0.0.0.0", "::", "192.0.2.10")) {
      InetAddress a = InetAddress.getByName(address);
      assertThatThrownBy(() -> LocalKmsServer.builder().bindAddress(a))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("loopback");
    }
  }

  @Test
  void keysAliasesAndMaterialSurviveARestartWithAStateFile(@TempDir Path dir) {
    Path state = dir.resolve("kms-state.json");
    GeneratedDataKey before;
    GeneratedDataKey after;
    String arn;
    try (LocalKmsServer server = LocalKmsServer.builder().stateFile(state).start();
        KmsClient client = LocalKms.client(server.endpoint(), LocalKms.fastRetries());
        AwsKmsProvider provider = AwsKmsProvider.builder().client(client).build()) {
      arn = client.createKey(b -> b.description("persisted")).keyMetadata().arn();
      client.createAlias(b -> b.aliasName("alias/kept").targetKeyId(arn));
      before = provider.generateDataKey("alias/kept", CTX);
      client.rotateKeyOnDemand(b -> b.keyId(arn));
      after = provider.generateDataKey("alias/kept", CTX);
    }
    assertThat(state).exists();
    try (LocalKmsServer server = LocalKmsServer.builder().stateFile(state).start();
        KmsClient client = LocalKms.client(server.endpoint(), LocalKms.fastRetries());
        AwsKmsProvider provider = AwsKmsProvider.builder().client(client).build()) {
      assertThat(provider.describeKey("alias/kept").keyArn()).isEqualTo(arn);
      assertThat(provider.decrypt(arn, before.wrapped().ciphertext(), CTX))
          .isEqualTo(before.copyPlaintextKey());
      assertThat(provider.decrypt(arn, after.wrapped().ciphertext(), CTX))
          .isEqualTo(after.copyPlaintextKey());
      assertThat(client.listKeyRotations(b -> b.keyId(arn)).rotations()).hasSize(1);
    }
  }

  private Byok byok() {
    return LocalKms.byok(kms.provider, "alias/snapshots");
  }

  private static byte[] encrypt(Byok byok, String text) throws IOException {
    return LocalKms.encrypt(byok, text, CTX);
  }

  private static String decrypt(Byok byok, byte[] blob) throws IOException {
    return LocalKms.decrypt(byok, blob, CTX);
  }
}
