package dev.byok.kms.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.Byok;
import dev.byok.EncryptionContext;
import dev.byok.KeyRef;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.kms.local.InMemoryKms;
import dev.byok.kms.local.LocalKmsServer;
import dev.byok.monitor.KeyEvent;
import dev.byok.monitor.KeyMonitorState;
import dev.byok.monitor.KeyStateMonitor;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyState;
import dev.byok.testkit.FakeKms;
import dev.byok.testkit.ManualClock;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.regions.Region;

/**
 * Multi-Region keys natively, over the real SDK to two LocalKmsServers (us-east-1 holding the
 * primary, eu-west-1 holding its replica, same key material): a host in eu-west-1 that configures
 * its replica decrypts slots written under the us-east-1 ARN through the replica, never calling
 * us-east-1, and watches the replica's state.
 */
class AwsMultiRegionKeyTest {
  private static final EncryptionContext CTX = EncryptionContext.of("tenant", "acme");

  private final ManualClock clock = new ManualClock();
  private final InMemoryKms east = FakeKms.builder().clock(clock).region("us-east-1").build().api();
  private final InMemoryKms west = FakeKms.builder().clock(clock).region("eu-west-1").build().api();
  private final LocalKmsServer eastServer = LocalKmsServer.start(east);
  private final LocalKmsServer westServer = LocalKmsServer.start(west);
  private final Map<Region, LocalKmsServer> servers =
      Map.of(Region.US_EAST_1, eastServer, Region.EU_WEST_1, westServer);
  private final String primary = east.createMultiRegionKey("orders").arn();
  private final String replica = east.replicateKey(primary, west).arn();

  /** The writer, in us-east-1: no multi-Region configuration. */
  private final AwsKmsProvider eastHost = provider(AwsKmsProvider.builder());

  /** The reader, in eu-west-1: names its replica. */
  private final AwsKmsProvider westHost =
      provider(AwsKmsProvider.builder().multiRegionKey(replica));

  private AwsKmsProvider provider(AwsKmsProvider.Builder b) {
    return b.clientFactory(r -> LocalKms.client(servers.get(r).endpoint(), LocalKms.fastRetries()))
        .build();
  }

  @AfterEach
  void tearDown() {
    eastHost.close();
    westHost.close();
    eastServer.close();
    westServer.close();
  }

  @Test
  void theReplicaSharesTheKeyIdAndDescribesItsConfiguration() {
    assertThat(primary).startsWith("arn:aws:kms:us-east-1:111122223333:key/mrk-");
    assertThat(replica)
        .isEqualTo(primary.replace(":us-east-1:", ":eu-west-1:"))
        .isNotEqualTo(primary);
    InMemoryKms.MultiRegionConfiguration c = west.describeKey(replica).multiRegionConfiguration();
    assertThat(c).isNotNull();
    assertThat(c.multiRegionKeyType()).isEqualTo("REPLICA");
    assertThat(c.primaryKeyArn()).isEqualTo(primary);
    assertThat(c.replicaKeyArns()).containsExactly(replica);
    assertThat(east.describeKey(primary).multiRegionConfiguration().multiRegionKeyType())
        .isEqualTo("PRIMARY");
  }

  @Test
  void aSlotWrittenInAnotherRegionDecryptsThroughTheConfiguredReplicaOnly() {
    GeneratedDataKey dek = eastHost.generateDataKey(primary, CTX);
    assertThat(dek.keyArn()).isEqualTo(primary);
    east.startOutage(); // us-east-1 is down: only the replica can answer
    east.resetCallLog();

    assertThat(westHost.decrypt(primary, dek.wrapped().ciphertext(), CTX))
        .isEqualTo(dek.copyPlaintextKey());
    assertThat(west.callLog())
        .containsExactly(new InMemoryKms.Call("Decrypt", replica, InMemoryKms.OK));
    assertThat(eastServer.requests("Decrypt")).isZero();

    // a host that names no replica calls the slot's own Region, which is down
    assertThatThrownBy(() -> eastHost.decrypt(primary, dek.wrapped().ciphertext(), CTX))
        .isInstanceOf(KmsUnavailableException.class);
  }

  @Test
  void theReplicaActuallyUsedIsTheOneDescribedAndWhoseStateCounts() {
    GeneratedDataKey dek = eastHost.generateDataKey(primary, CTX);
    KeyDescription d = westHost.describeKey(primary);
    assertThat(d.keyArn()).isEqualTo(replica);
    assertThat(d.state()).isEqualTo(KeyState.ENABLED);

    west.disableKey(replica); // the primary stays enabled in us-east-1
    assertThat(westHost.describeKey(primary).state()).isEqualTo(KeyState.DISABLED);
    assertThatThrownBy(() -> westHost.decrypt(primary, dek.wrapped().ciphertext(), CTX))
        .isInstanceOfSatisfying(
            KeyUnusableException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.DISABLED);
              assertThat(e.keyId()).isEqualTo(replica);
            });
    assertThat(eastHost.decrypt(primary, dek.wrapped().ciphertext(), CTX))
        .isEqualTo(dek.copyPlaintextKey());
  }

  @Test
  void theMonitorWatchesTheReplicaActuallyUsed() {
    KeyRef slot = KeyRef.parse(AwsKmsProvider.PROVIDER_ID + "://" + primary);
    east.startOutage(); // the primary's Region is down throughout: every probe goes to the replica
    try (KeyStateMonitor monitor =
        KeyStateMonitor.builder()
            .provider(westHost)
            .clock(clock)
            .seed(7)
            .eventExecutor(Runnable::run)
            .build()) {
      List<KeyEvent> events = new CopyOnWriteArrayList<>();
      monitor.watch(slot).addListener(events::add);
      monitor.runDueProbes();
      assertThat(monitor.state(slot)).isEqualTo(KeyMonitorState.ACTIVE);
      assertThat(monitor.keyArn(slot)).isEqualTo(replica);

      west.disableKey(replica); // only the replica: the primary stays enabled
      long t0 = clock.millis();
      while (monitor.state(slot) != KeyMonitorState.LOCKED) {
        clock.advance(Duration.ofSeconds(1));
        monitor.runDueProbes();
        assertThat(clock.millis() - t0)
            .as("locked within the documented 6 min 01 s")
            .isLessThanOrEqualTo(Duration.ofSeconds(361).toMillis());
      }
      assertThat(events).extracting(KeyEvent::type).contains(KeyEvent.Type.LOCKED);
      assertThat(eastServer.requests("DescribeKey")).isZero();
      assertThat(eastServer.requests("Decrypt")).isZero();
    }
  }

  @Test
  void aRotationOfThePrimaryReachesTheReplica() {
    east.rotateKeyOnDemand(primary);
    GeneratedDataKey dek = eastHost.generateDataKey(primary, CTX);
    assertThat(dek.keyMaterialId()).isEqualTo(west.describeKey(replica).currentKeyMaterialId());
    assertThat(westHost.decrypt(primary, dek.wrapped().ciphertext(), CTX))
        .isEqualTo(dek.copyPlaintextKey());
  }

  @Test
  void throughByokABlobWrittenUnderThePrimaryIsReadInTheReplicasRegion() throws IOException {
    byte[] blob;
    try (Byok writer = byok(eastHost, primary)) {
      blob = LocalKms.encrypt(writer, "replicated", CTX);
    }
    assertThat(LocalKms.slotArns(blob)).isEqualTo(primary);
    east.startOutage();
    try (Byok reader = byok(westHost, replica)) {
      assertThat(LocalKms.decrypt(reader, blob, CTX)).isEqualTo("replicated");
    }
    assertThat(west.calls("Decrypt", InMemoryKms.OK)).isEqualTo(1);
  }

  private Byok byok(AwsKmsProvider provider, String kek) {
    // a multi-Region key's ARNs differ only by Region: the reader allows both exactly
    return Byok.builder()
        .provider(provider)
        .encryptUnder(AwsKmsProvider.PROVIDER_ID + "://" + kek)
        .allowDecryptWith(primary, replica)
        .build();
  }

  @Test
  void theBuilderTakesOnlyMultiRegionKeyArnsOnePerKey() {
    assertThatIllegalArgumentException()
        .isThrownBy(
            () ->
                AwsKmsProvider.builder()
                    .multiRegionKey(
                        "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"))
        .withMessageContaining("1234abcd-12ab");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> AwsKmsProvider.builder().multiRegionKey(replica).multiRegionKey(primary))
        .withMessageContaining(primary);
  }

  @Test
  void onlyArnsOfTheConfiguredKeyAreRedirected() {
    AwsKmsProvider p = AwsKmsProvider.builder().multiRegionKey(replica).build();
    assertThat(p.served(primary)).isEqualTo(replica);
    String otherMrk =
        primary.substring(0, primary.length() - 1) + (primary.endsWith("0") ? "1" : "0");
    assertThat(p.served(otherMrk)).isEqualTo(otherMrk);
    String otherAccount = primary.replace("111122223333", "444455556666");
    assertThat(p.served(otherAccount)).isEqualTo(otherAccount);
    assertThat(p.served("alias/app")).isEqualTo("alias/app");
    p.close();
  }
}
