package dev.byok.testkit.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.KeyRef;
import dev.byok.kms.local.InMemoryKms;
import dev.byok.monitor.KeyMonitorState;
import dev.byok.monitor.KeyStateMonitor;
import dev.byok.testkit.FakeKmsExtension;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * 1,000 watched KEKs: probes are spread by jitter and never exceed {@code maxProbesPerSecond}.
 * Probes are counted per simulated second from the fake KMS's call log (one DescribeKey each).
 */
class KeyStateMonitorScaleTest {
  private static final int KEYS = 1000;

  @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();

  /**
   * Watches {@link #KEYS} keys by ARN and runs one round per simulated second for {@code seconds},
   * starting now.
   *
   * @return DescribeKey calls per second (index = seconds since the start) and per key ARN
   */
  private Probes run(Consumer<KeyStateMonitor.Builder> config, int seconds) {
    InMemoryKms api = fake.api();
    KeyStateMonitor.Builder b =
        KeyStateMonitor.builder().provider(fake.kms()).clock(fake.clock()).seed(42);
    config.accept(b);
    KeyStateMonitor monitor = b.build();
    for (int i = 0; i < KEYS; i++) {
      monitor.watch(KeyRef.of(MonitorHarness.PROVIDER, api.createKey().arn()));
    }
    Probes p = new Probes(new int[seconds], new HashMap<>());
    for (int s = 0; s < seconds; s++) {
      api.resetCallLog();
      int probed = monitor.runDueProbes();
      for (InMemoryKms.Call c : api.callLog()) {
        if (c.operation().equals("DescribeKey")) {
          p.perSecond[s]++;
          p.perKey.merge(c.keyId(), 1, Integer::sum);
        }
      }
      assertThat(p.perSecond[s])
          .as("DescribeKey calls vs probes reported at second %d", s)
          .isEqualTo(probed);
      fake.clock().advance(Duration.ofSeconds(1));
    }
    assertThat(monitor.states().values()).hasSize(KEYS).containsOnly(KeyMonitorState.ACTIVE);
    return p;
  }

  record Probes(int[] perSecond, Map<String, Integer> perKey) {
    int max(int from, int to) {
      int m = 0;
      for (int s = from; s < to; s++) {
        m = Math.max(m, perSecond[s]);
      }
      return m;
    }

    /**
     * @return second -> probes, for the seconds in [from, to) that had any
     */
    TreeMap<Integer, Integer> busySeconds(int from, int to) {
      TreeMap<Integer, Integer> busy = new TreeMap<>();
      for (int s = from; s < to; s++) {
        if (perSecond[s] > 0) {
          busy.put(s, perSecond[s]);
        }
      }
      return busy;
    }
  }

  @Test
  void neverMoreThanMaxProbesPerSecondOverTwoProbeIntervals() {
    int twoIntervals = 2 * 330; // two probe intervals at their longest (5 min + 10 %)
    Probes p = run(m -> {}, twoIntervals); // defaults: 10 probes per second

    assertThat(p.max(0, twoIntervals)).as("most probes in one second").isEqualTo(10);
    assertThat(p.perKey()).as("every key probed").hasSize(KEYS);
    assertThat(p.perKey().values())
        .as("probes per key over two intervals")
        .allMatch(n -> n >= 2 && n <= 3);
    // the first round of 1,000 keys takes 100 s at 10/s instead of one burst
    assertThat(p.busySeconds(0, 100))
        .hasSize(100)
        .allSatisfy((s, n) -> assertThat(n).isEqualTo(10));
  }

  @Test
  void jitterSpreadsKeysThatWereProbedTogether() {
    // no effective rate limit: all 1,000 keys are probed in the first second
    Probes p = run(m -> m.maxProbesPerSecond(KEYS), 340);
    assertThat(p.perSecond()[0]).isEqualTo(KEYS);

    TreeMap<Integer, Integer> second = p.busySeconds(1, 340);
    assertThat(second.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(KEYS);
    assertThat(second.firstKey()).as("earliest second probe").isGreaterThanOrEqualTo(270);
    assertThat(second.lastKey()).as("latest second probe").isLessThanOrEqualTo(330);
    assertThat(second).as("seconds with probes").hasSizeGreaterThanOrEqualTo(55);
    assertThat(p.max(1, 340))
        .as("most probes in one second, ~17 on average")
        .isLessThanOrEqualTo(40);
  }

  @Test
  void withoutJitterKeysProbedTogetherStayTogether() {
    // the control for the test above: the spread comes from the jitter
    Probes p = run(m -> m.maxProbesPerSecond(KEYS).jitter(0), 340);
    assertThat(p.busySeconds(1, 340)).containsExactly(Map.entry(300, KEYS));
  }
}
