package dev.byok.kms.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.Byok;
import dev.byok.ByokConfigurationException;
import dev.byok.DataKeyPolicy;
import dev.byok.EncryptionContext;
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
 * A {@link Byok} instance over {@link GcpKmsProvider}, the official client and the Cloud KMS test
 * server: blobs round-trip; the owner disables the key, the monitor locks within its bound and
 * reads are refused without a KMS call; enabled again, it unlocks; a rotation retargets new blobs
 * to the new version while old blobs keep decrypting.
 */
class GcpMonitorEndToEndTest {
  private static final EncryptionContext CTX = EncryptionContext.of("repository", "nightly");

  @Test
  void aBlobRoundTripsAndDisableLocksThenEnableUnlocks() throws Exception {
    try (GcpKmsFixture f = new GcpKmsFixture()) {
      String key = f.newKey();
      KeyRef ref = KeyRef.of(GcpKmsProvider.PROVIDER_ID, key);
      try (Byok byok =
              Byok.builder()
                  .provider(f.provider())
                  .encryptUnder(ref)
                  .dataKeyPolicy(DataKeyPolicy.builder().maxAge(Duration.ofHours(1)).build())
                  .decryptCache(100, Duration.ofHours(1))
                  .clock(f.clock())
                  .build();
          KeyStateMonitor monitor =
              KeyStateMonitor.builder()
                  .provider(f.provider())
                  .dataKeyManager(byok.keys())
                  .clock(f.clock())
                  .seed(7)
                  .eventExecutor(Runnable::run)
                  .build()) {
        List<KeyEvent> events = new CopyOnWriteArrayList<>();
        monitor.watch(ref).addListener(events::add);
        byte[] blob = encrypt(byok, "snapshot");
        assertThat(monitor.runDueProbes()).isEqualTo(1);
        assertThat(decrypt(byok, blob)).isEqualTo("snapshot");
        assertThat(Byok.inspect(new ByteArrayInputStream(blob)).keySlots())
            .singleElement()
            .satisfies(s -> assertThat(s.keyArn()).isEqualTo(key + "/cryptoKeyVersions/1"));
        assertThat(monitor.state(ref)).isEqualTo(KeyMonitorState.ACTIVE);
        assertThat(monitor.keyArn(ref)).isEqualTo(key + "/cryptoKeyVersions/1");

        f.disable(key);
        long t0 = f.clock().millis();
        while (monitor.state(ref) != KeyMonitorState.LOCKED) {
          f.clock().advance(Duration.ofSeconds(1));
          monitor.runDueProbes();
          assertThat(f.clock().millis() - t0)
              .as("locked within the documented 6 min 01 s")
              .isLessThanOrEqualTo(Duration.ofSeconds(361).toMillis());
        }
        assertThat(events).extracting(KeyEvent::type).contains(KeyEvent.Type.LOCKED);
        int decrypts = f.kms().calls("Decrypt");
        assertThatThrownBy(() -> decrypt(byok, blob))
            .isInstanceOfSatisfying(
                KeyUnusableException.class,
                e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.LOCKED));
        assertThat(f.kms().calls("Decrypt"))
            .as("a locked key is refused without a KMS call")
            .isEqualTo(decrypts);

        events.clear();
        f.enable(key);
        for (int i = 0; i < 2 && monitor.state(ref) != KeyMonitorState.ACTIVE; i++) {
          f.clock().advance(Duration.ofMinutes(6));
          monitor.runDueProbes();
        }
        assertThat(monitor.state(ref)).isEqualTo(KeyMonitorState.ACTIVE);
        assertThat(events).extracting(KeyEvent::type).contains(KeyEvent.Type.UNLOCKED);
        assertThat(decrypt(byok, blob)).isEqualTo("snapshot");

        // rotation: the primary version changes; the monitor sees a new resolved key
        events.clear();
        f.rotate(key);
        for (int i = 0; i < 2 && monitor.keyArn(ref).endsWith("/1"); i++) {
          f.clock().advance(Duration.ofMinutes(6));
          monitor.runDueProbes();
        }
        assertThat(monitor.keyArn(ref)).isEqualTo(key + "/cryptoKeyVersions/2");
        assertThat(events).extracting(KeyEvent::type).contains(KeyEvent.Type.KEY_RETARGETED);
        byte[] newer = encrypt(byok, "after rotation");
        assertThat(Byok.inspect(new ByteArrayInputStream(newer)).keySlots())
            .singleElement()
            .satisfies(s -> assertThat(s.keyArn()).isEqualTo(key + "/cryptoKeyVersions/2"));
        assertThat(decrypt(byok, newer)).isEqualTo("after rotation");
        assertThat(decrypt(byok, blob)).isEqualTo("snapshot");
      }
    }
  }

  @Test
  void afterRotationAFreshInstanceReadsOldVersionsOnlyWhenTheKeysVersionsAreAllowed()
      throws Exception {
    try (GcpKmsFixture f = new GcpKmsFixture()) {
      String key = f.newKey();
      KeyRef ref = KeyRef.of(GcpKmsProvider.PROVIDER_ID, key);
      byte[] blob;
      try (Byok before = Byok.builder().provider(f.provider()).encryptUnder(ref).build()) {
        blob = encrypt(before, "under version 1");
      }
      f.rotate(key);
      try (Byok strict = Byok.builder().provider(f.provider()).encryptUnder(ref).build()) {
        int decrypts = f.kms().calls("Decrypt");
        assertThatThrownBy(() -> decrypt(strict, blob))
            .as("the CryptoKey resolves to its primary version only, like an alias")
            .isInstanceOf(ByokConfigurationException.class)
            .hasMessageContaining("allow-list");
        assertThat(f.kms().calls("Decrypt")).isEqualTo(decrypts);
      }
      try (Byok host =
          Byok.builder()
              .provider(f.provider())
              .encryptUnder(ref)
              .allowDecryptWith(key + "/cryptoKeyVersions/*")
              .build()) {
        assertThat(decrypt(host, blob)).isEqualTo("under version 1");
        assertThat(decrypt(host, encrypt(host, "under version 2"))).isEqualTo("under version 2");
      }
    }
  }

  @Test
  void revokedIamLocksAndDisablingOnlyAnOldVersionLocksOnlyItsBlobs() throws Exception {
    try (GcpKmsFixture f = new GcpKmsFixture()) {
      String key = f.newKey();
      String v1 = key + "/cryptoKeyVersions/1";
      KeyRef ref = KeyRef.of(GcpKmsProvider.PROVIDER_ID, key);
      KeyRef old = KeyRef.of(GcpKmsProvider.PROVIDER_ID, v1);
      try (Byok byok =
              Byok.builder()
                  .provider(f.provider())
                  .encryptUnder(ref)
                  .allowDecryptWith(key + "/cryptoKeyVersions/*")
                  .clock(f.clock())
                  .build();
          KeyStateMonitor monitor =
              KeyStateMonitor.builder()
                  .provider(f.provider())
                  .dataKeyManager(byok.keys())
                  .clock(f.clock())
                  .seed(11)
                  .eventExecutor(Runnable::run)
                  .build()) {
        monitor.watch(ref);
        byte[] first = encrypt(byok, "v1 blob");
        monitor.runDueProbes();
        f.rotate(key);
        for (int i = 0; i < 2 && monitor.keyArn(ref).equals(v1); i++) {
          f.clock().advance(Duration.ofMinutes(6));
          monitor.runDueProbes();
        }
        assertThat(monitor.keyArn(ref)).isEqualTo(key + "/cryptoKeyVersions/2");
        byte[] second = encrypt(byok, "v2 blob");

        f.kms().setEnabled(v1, false);
        lockWithinBound(f, monitor, old);
        assertThat(monitor.state(ref)).isEqualTo(KeyMonitorState.ACTIVE);
        assertThat(decrypt(byok, second)).isEqualTo("v2 blob");
        assertThatThrownBy(() -> decrypt(byok, first)).isInstanceOf(KeyUnusableException.class);

        f.revokeAccess(key);
        lockWithinBound(f, monitor, ref);
        assertThatThrownBy(() -> decrypt(byok, second))
            .isInstanceOfSatisfying(
                KeyUnusableException.class,
                e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.LOCKED));
      }
    }
  }

  private static void lockWithinBound(GcpKmsFixture f, KeyStateMonitor monitor, KeyRef ref) {
    long t0 = f.clock().millis();
    while (monitor.state(ref) != KeyMonitorState.LOCKED) {
      f.clock().advance(Duration.ofSeconds(1));
      monitor.runDueProbes();
      assertThat(f.clock().millis() - t0)
          .as(ref + " locked within the documented 6 min 01 s")
          .isLessThanOrEqualTo(Duration.ofSeconds(361).toMillis());
    }
  }

  private static byte[] encrypt(Byok byok, String text) throws IOException {
    ByteArrayOutputStream bout = new ByteArrayOutputStream();
    try (OutputStream out = byok.newEncryptingStream(bout, CTX)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return bout.toByteArray();
  }

  private static String decrypt(Byok byok, byte[] blob) throws IOException {
    try (InputStream in = byok.newDecryptingStream(new ByteArrayInputStream(blob), CTX)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
