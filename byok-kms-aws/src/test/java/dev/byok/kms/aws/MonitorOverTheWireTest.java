package dev.byok.kms.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.Byok;
import dev.byok.DataKeyPolicy;
import dev.byok.EncryptionContext;
import dev.byok.KeyRef;
import dev.byok.KeyUnusableException;
import dev.byok.monitor.KeyEvent;
import dev.byok.monitor.KeyMonitorState;
import dev.byok.monitor.KeyStateMonitor;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Issue 5's end-to-end timeline over the wire: the monitor probes through {@link AwsKmsProvider},
 * the real AWS SDK client and {@code LocalKmsServer}; the customer disables the key, the host is
 * told to lock, reads are refused without a KMS call, the key comes back and the host is told to
 * unlock.
 */
class MonitorOverTheWireTest {
  private static final EncryptionContext CTX = EncryptionContext.of("repository", "nightly");

  @Test
  void disableLocksWithinTheDocumentedBoundAndEnableUnlocks() throws Exception {
    try (LocalKms local = new LocalKms(AwsKmsProvider.PROVIDER_ID)) {
      String arn = local.newKey();
      local.api().createAlias("alias/snapshots", arn);
      KeyRef alias = KeyRef.parse("aws-kms://alias/snapshots");
      try (Byok byok =
              Byok.builder()
                  .provider(local.provider)
                  .encryptUnder(alias)
                  .dataKeyPolicy(DataKeyPolicy.builder().maxAge(Duration.ofHours(1)).build())
                  .decryptCache(100, Duration.ofHours(1))
                  .clock(local.clock)
                  .build();
          KeyStateMonitor monitor =
              KeyStateMonitor.builder()
                  .provider(local.provider)
                  .dataKeyManager(byok.keys())
                  .clock(local.clock)
                  .seed(7)
                  // events on the round's thread: asserted right after the round, no waiting
                  .eventExecutor(Runnable::run)
                  .build()) {
        List<KeyEvent> events = new CopyOnWriteArrayList<>();
        monitor.watch(alias).addListener(events::add);
        byte[] blob = LocalKms.encrypt(byok, "snapshot", CTX);
        assertThat(monitor.runDueProbes()).isEqualTo(1);
        assertThat(monitor.state(alias)).isEqualTo(KeyMonitorState.ACTIVE);
        assertThat(monitor.keyArn(alias)).isEqualTo(arn);

        local.api().disableKey(arn);
        long t0 = local.clock.millis();
        while (monitor.state(alias) != KeyMonitorState.LOCKED) {
          local.clock.advance(Duration.ofSeconds(1));
          monitor.runDueProbes();
          assertThat(local.clock.millis() - t0)
              .as("locked within the documented 6 min 01 s")
              .isLessThanOrEqualTo(Duration.ofSeconds(361).toMillis());
        }
        int decryptsBeforeLock = local.api().calls("Decrypt");
        assertThat(events.stream().map(KeyEvent::type).collect(Collectors.toList()))
            .containsSubsequence(KeyEvent.Type.STATE_CHANGED, KeyEvent.Type.LOCKED);
        assertThatThrownBy(() -> LocalKms.decrypt(byok, blob, CTX))
            .isInstanceOfSatisfying(
                KeyUnusableException.class,
                e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.LOCKED));
        assertThat(local.api().calls("Decrypt"))
            .as("a locked key is refused without a KMS call")
            .isEqualTo(decryptsBeforeLock);

        events.clear();
        local.api().enableKey(arn);
        for (int i = 0; i < 2 && monitor.state(alias) != KeyMonitorState.ACTIVE; i++) {
          local.clock.advance(Duration.ofMinutes(6)); // one probe interval, jitter included
          monitor.runDueProbes();
        }
        assertThat(monitor.state(alias))
            .as("unlocked within two probes")
            .isEqualTo(KeyMonitorState.ACTIVE);
        assertThat(events).extracting(KeyEvent::type).contains(KeyEvent.Type.UNLOCKED);
        assertThat(LocalKms.decrypt(byok, blob, CTX)).isEqualTo("snapshot");
      }
    }
  }
}
