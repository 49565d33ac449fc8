package dev.byok.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.Byok;
import dev.byok.KeyRef;
import dev.byok.examples.HostLockExample.Repository;
import dev.byok.examples.HostLockExample.RepositoryLocks;
import dev.byok.monitor.KeyStateMonitor;
import dev.byok.testkit.FakeKms;
import dev.byok.testkit.ManualClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The listener wiring of docs/key-lifecycle.md, driven by a manual clock with the default timings.
 */
class HostLockExampleTest {
  @Test
  void theRepositoryLocksOnRevocationUnlocksOnRestoreAndPagesOnDeletion() {
    ManualClock clock = new ManualClock();
    FakeKms kms = FakeKms.builder().clock(clock).build();
    String arn = kms.api().createKey().arn();
    KeyRef key = KeyRef.of(kms.providerId(), arn);
    Repository repository = new Repository("snapshots");
    RepositoryLocks locks = new RepositoryLocks();
    locks.register(key, repository);
    try (Byok byok = Byok.builder().provider(kms).encryptUnder(key).clock(clock).build();
        KeyStateMonitor monitor =
            KeyStateMonitor.builder()
                .provider(kms)
                .dataKeyManager(byok.keys())
                .clock(clock)
                .seed(1)
                .build()) {
      monitor.watch(key).addListener(locks);
      monitor.runDueProbes();
      assertThat(repository.withAccess(() -> "read")).isEqualTo("read");

      kms.api().disableKey(arn);
      for (int s = 0; s < 361 && !repository.isLocked(); s++) {
        clock.advance(Duration.ofSeconds(1));
        monitor.runDueProbes();
      }
      assertThat(repository.isLocked()).as("locked within the documented 6 min 01 s").isTrue();
      assertThat(repository.snapshotsPaused()).isTrue();
      assertThatThrownBy(() -> repository.withAccess(() -> "read"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("customer's key is unusable");

      kms.api().enableKey(arn);
      clock.advance(Duration.ofMinutes(6));
      monitor.runDueProbes();
      assertThat(repository.isLocked()).isFalse();
      assertThat(repository.withAccess(() -> "read")).isEqualTo("read");

      kms.api().scheduleKeyDeletion(arn, 7);
      clock.advance(Duration.ofMinutes(6));
      monitor.runDueProbes();
      assertThat(locks.pages).singleElement().asString().contains("will be deleted on");
    }
  }
}
