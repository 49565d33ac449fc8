package dev.byok.kms.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.Byok;
import dev.byok.DataKeyPolicy;
import dev.byok.EncryptionContext;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyRef;
import dev.byok.KeyUnusableException;
import dev.byok.monitor.KeyEvent;
import dev.byok.monitor.KeyMonitorState;
import dev.byok.monitor.KeyStateMonitor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * End to end over Azure: a {@link Byok} on {@link AzureKeyVaultProvider} (official client, loopback
 * HTTPS, bearer challenge) encrypts and decrypts a blob; the customer disables the key and the
 * monitor locks; re-enabled, it unlocks and the blob reads again. Also the conformance fixture's
 * controls, each checked through the provider.
 */
class AzureMonitorEndToEndTest {
  private static final EncryptionContext CTX = EncryptionContext.of("repository", "nightly");

  @Test
  void byokOverKeyVaultEncryptsAndTheMonitorLocksOnDisable() throws Exception {
    try (AzureTestVault vault = new AzureTestVault()) {
      String keyUrl = vault.server.createRsaKey("snapshots");
      KeyRef key = KeyRef.of(AzureKeyVaultProvider.PROVIDER_ID, keyUrl);
      try (Byok byok =
              Byok.builder()
                  .provider(vault.provider)
                  .encryptUnder(key)
                  .dataKeyPolicy(DataKeyPolicy.builder().maxAge(Duration.ofHours(1)).build())
                  .decryptCache(100, Duration.ofHours(1))
                  .clock(vault.clock)
                  .build();
          KeyStateMonitor monitor =
              KeyStateMonitor.builder()
                  .provider(vault.provider)
                  .dataKeyManager(byok.keys())
                  .clock(vault.clock)
                  .seed(7)
                  .eventExecutor(Runnable::run)
                  .build()) {
        List<KeyEvent> events = new CopyOnWriteArrayList<>();
        monitor.watch(key).addListener(events::add);
        byte[] blob = encrypt(byok, "snapshot");
        assertThat(decrypt(byok, blob, CTX)).isEqualTo("snapshot");
        assertThatThrownBy(() -> decrypt(byok, blob, EncryptionContext.of("repository", "other")))
            .isInstanceOf(InvalidCiphertextException.class);
        monitor.runDueProbes();
        assertThat(monitor.state(key)).isEqualTo(KeyMonitorState.ACTIVE);
        assertThat(monitor.keyArn(key)).startsWith(keyUrl + "/");

        vault.server.setEnabled("snapshots", false);
        long t0 = vault.clock.millis();
        while (monitor.state(key) != KeyMonitorState.LOCKED) {
          vault.clock.advance(Duration.ofSeconds(1));
          monitor.runDueProbes();
          assertThat(vault.clock.millis() - t0)
              .as("locked within the documented 6 min 01 s")
              .isLessThanOrEqualTo(Duration.ofSeconds(361).toMillis());
        }
        assertThat(events).extracting(KeyEvent::type).contains(KeyEvent.Type.LOCKED);
        int unwrapsBefore = vault.server.calls("unwrapKey");
        assertThatThrownBy(() -> decrypt(byok, blob, CTX))
            .isInstanceOfSatisfying(
                KeyUnusableException.class,
                e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.LOCKED));
        assertThat(vault.server.calls("unwrapKey")).isEqualTo(unwrapsBefore);

        vault.server.setEnabled("snapshots", true);
        for (int i = 0; i < 2 && monitor.state(key) != KeyMonitorState.ACTIVE; i++) {
          vault.clock.advance(Duration.ofMinutes(6));
          monitor.runDueProbes();
        }
        assertThat(monitor.state(key)).isEqualTo(KeyMonitorState.ACTIVE);
        assertThat(decrypt(byok, blob, CTX)).isEqualTo("snapshot");
      }
    }
  }

  @Test
  void theConformanceFixtureControlsReachTheProvider() {
    try (AzureKmsFixture f = new AzureKmsFixture()) {
      String rsa = f.newKey();
      String oct = f.newKey();
      for (String key : List.of(rsa, oct)) {
        var dk = f.provider().generateDataKey(key, CTX);
        assertThat(f.provider().decrypt(dk.keyArn(), dk.wrapped().ciphertext(), CTX))
            .isEqualTo(dk.copyPlaintextKey());
        f.disable(key);
        assertThat(f.provider().describeKey(key).state()).isEqualTo(dev.byok.spi.KeyState.DISABLED);
        f.enable(key);
        f.revokeAccess(key);
        assertThatThrownBy(() -> f.provider().describeKey(key))
            .isInstanceOf(KeyUnusableException.class);
        f.restoreAccess(key);
        String before = f.provider().describeKey(key).keyArn();
        f.rotate(key);
        assertThat(f.provider().describeKey(key).keyArn()).isNotEqualTo(before);
        f.failNext(3, dev.byok.testkit.conformance.Fault.THROTTLED);
        assertThatThrownBy(() -> f.provider().describeKey(key))
            .isInstanceOf(dev.byok.KmsUnavailableException.class);
        f.destroy(key);
        assertThat(f.provider().describeKey(key).state())
            .isEqualTo(dev.byok.spi.KeyState.PENDING_DELETION);
      }
    }
  }

  private static byte[] encrypt(Byok byok, String text) throws IOException {
    ByteArrayOutputStream bout = new ByteArrayOutputStream();
    try (OutputStream out = byok.newEncryptingStream(bout, CTX)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return bout.toByteArray();
  }

  private static String decrypt(Byok byok, byte[] blob, EncryptionContext context)
      throws IOException {
    try (InputStream in = byok.newDecryptingStream(new ByteArrayInputStream(blob), context)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
