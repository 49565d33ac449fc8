package dev.byok.kms.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.Byok;
import dev.byok.KeyRef;
import dev.byok.KeySlot;
import dev.byok.ReadPolicy;
import dev.byok.RewrapResult;
import dev.byok.kms.local.InMemoryKms;
import dev.byok.kms.local.LocalKmsServer;
import dev.byok.testkit.FakeKms;
import dev.byok.testkit.ManualClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.regions.Region;

/**
 * One client per Region: two fake KMSs (us-east-1, eu-west-1), each behind its own server, and a
 * provider whose client factory points each Region at its server.
 */
class AwsMultiRegionTest {
  private final ManualClock clock = new ManualClock();
  private final FakeKms east = FakeKms.builder().clock(clock).region("us-east-1").build();
  private final FakeKms west = FakeKms.builder().clock(clock).region("eu-west-1").build();
  private final LocalKmsServer eastServer = LocalKmsServer.start(east.api());
  private final LocalKmsServer westServer = LocalKmsServer.start(west.api());
  private final Map<Region, LocalKmsServer> servers =
      Map.of(Region.US_EAST_1, eastServer, Region.EU_WEST_1, westServer);
  private final AwsKmsProvider provider =
      AwsKmsProvider.builder()
          .clientFactory(r -> LocalKms.client(servers.get(r).endpoint(), LocalKms.fastRetries()))
          .build();
  private final String eastArn = east.api().createKey().arn();
  private final String westArn = west.api().createKey().arn();

  @AfterEach
  void tearDown() {
    provider.close();
    eastServer.close();
    westServer.close();
  }

  private Byok byok(String... keks) {
    Byok.Builder b =
        Byok.builder()
            .provider(provider)
            .allowDecryptWith(
                "arn:aws:kms:eu-west-1:111122223333:key/*",
                "arn:aws:kms:us-east-1:111122223333:key/*")
            .slotOrder(
                Comparator.comparing((KeySlot s) -> s.keyArn().contains(":eu-west-1:") ? 0 : 1));
    for (String kek : keks) {
      b.encryptUnder(AwsKmsProvider.PROVIDER_ID + "://" + kek);
    }
    return b.build();
  }

  @Test
  void eachRegionsSlotGoesToItsOwnKmsAndDecryptionFallsBackWhenOneRegionIsDown()
      throws IOException {
    byte[] blob;
    try (Byok writer = byok(westArn, eastArn)) {
      blob = LocalKms.encrypt(writer, "replicated", KmsProviderConformance.CTX);
    }
    assertThat(LocalKms.slotArns(blob)).isEqualTo(westArn + "," + eastArn);
    assertThat(west.api().calls("GenerateDataKey")).isEqualTo(1);
    assertThat(east.api().calls("Encrypt")).isEqualTo(1);

    westServer.dropConnections(LocalKms.MAX_ATTEMPTS); // eu-west-1 unreachable for one whole call
    try (Byok reader = byok(westArn)) {
      assertThat(LocalKms.decrypt(reader, blob, KmsProviderConformance.CTX))
          .isEqualTo("replicated");
    }
    assertThat(westServer.requests("Decrypt")).isEqualTo(LocalKms.MAX_ATTEMPTS);
    assertThat(east.api().callLog())
        .contains(new InMemoryKms.Call("Decrypt", eastArn, InMemoryKms.OK));
  }

  @Test
  void rewrapAcrossRegionsWrapsWithEncryptBecauseReEncryptStaysInOneRegion(@TempDir Path dir)
      throws IOException {
    Path source = dir.resolve("blob");
    Path target = dir.resolve("rewrapped");
    try (Byok writer = byok(westArn)) {
      Files.write(
          source, LocalKms.encrypt(writer, "moved to us-east-1", KmsProviderConformance.CTX));
    }
    RewrapResult r;
    try (Byok mover = byok(eastArn)) {
      r =
          mover.rewrap(
              source,
              target,
              ReadPolicy.of(
                  List.of(KeyRef.of(AwsKmsProvider.PROVIDER_ID, westArn)),
                  KmsProviderConformance.CTX));
    }
    assertThat(r.newSlots()).extracting(KeySlot::keyArn).containsExactly(eastArn);
    assertThat(east.api().calls("ReEncrypt")).isZero();
    assertThat(east.api().calls("Encrypt")).isEqualTo(1);

    west.api().disableKey(westArn); // only the new slot can open it now
    try (Byok reader = byok(eastArn)) {
      assertThat(LocalKms.decrypt(reader, Files.readAllBytes(target), KmsProviderConformance.CTX))
          .isEqualTo("moved to us-east-1");
    }
  }
}
