package dev.byok.examples.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.Byok;
import dev.byok.KeyRef;
import dev.byok.examples.HostLockExample.Repository;
import dev.byok.monitor.KeyMonitorState;
import dev.byok.monitor.KeyStateMonitor;
import dev.byok.spi.KeyProvider;
import dev.byok.testkit.FakeKms;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The wiring excerpt of docs/key-lifecycle.md ("Wiring it into the host's lock"), run on the
 * monitor's own daemon thread; {@link DocsTest} keeps the two in step. The full timeline with a
 * manual clock is {@code HostLockExampleTest}.
 */
class KeyLifecycleDocsTest {
  /** Whatever the host uses to reach a human. */
  interface Pager {
    void page(String message);
  }

  private final Map<KeyRef, List<Repository>> repositoriesByKey = new ConcurrentHashMap<>();
  private final BlockingQueue<String> pages = new LinkedBlockingQueue<>();
  private final Pager pager = pages::add;

  private List<Repository> repositories(KeyRef key) {
    return repositoriesByKey.getOrDefault(key, List.of());
  }

  /** What {@link #wire} builds; closing it stops the monitor. */
  record Wired(Byok byok, KeyStateMonitor monitor) implements AutoCloseable {
    @Override
    public void close() {
      monitor.close();
      byok.close();
    }
  }

  private Wired wire(KeyProvider kms, KeyRef key) {
    // docs:begin key-lifecycle-wiring
    Byok byok = Byok.builder().provider(kms).encryptUnder(key).build();
    KeyStateMonitor monitor = KeyStateMonitor.builder()
        .provider(kms)
        .dataKeyManager(byok.keys())      // locks purge and refuse there; data-path calls feed the monitor
        .build();
    monitor.watch(key).addListener(key, event -> {   // this tenant's events, on the event thread
      switch (event.type()) {
        case LOCKED -> repositories(event.key()).forEach(r -> r.lockForKeyRevocation(event.reason()));
        case UNLOCKED -> repositories(event.key()).forEach(Repository::unlock);
        case DELETION_SCHEDULED -> pager.page("key " + event.key() + " deleted on " + event.deletionDate());
        default -> { }                    // retarget, rotation, reachability: informational
      }
    });
    monitor.start();                      // probes on its own daemon thread; or .scheduler(yours)
    // docs:end key-lifecycle-wiring
    return new Wired(byok, monitor);
  }

  @Test
  void theMonitorThreadPagesWhenTheKeyIsScheduledForDeletion() throws InterruptedException {
    FakeKms kms = FakeKms.create();
    String arn = kms.api().createKey().arn();
    KeyRef key = KeyRef.of(kms.providerId(), arn);
    Repository repository = new Repository("snapshots");
    repositoriesByKey.put(key, List.of(repository));
    String deletionDate = kms.api().scheduleKeyDeletion(arn, 7).deletionDate().toString();

    try (Wired wired = wire(kms, key)) {
      String page =
          pages.poll(30, TimeUnit.SECONDS); // the first probe runs at once on the monitor's thread
      assertThat(page).isEqualTo("key " + key + " deleted on " + deletionDate);
      assertThat(wired.monitor().state(key)).isEqualTo(KeyMonitorState.SUSPECT);
      assertThat(repository.isLocked()).as("locked only after the 30 s grace period").isFalse();
    }
  }
}
