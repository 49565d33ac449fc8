package dev.byok.testkit.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.byok.Byok;
import dev.byok.EncryptionContext;
import dev.byok.KeyRef;
import dev.byok.KeyUnusableException;
import dev.byok.kms.local.InMemoryKms;
import dev.byok.monitor.KeyEvent;
import dev.byok.monitor.KeyMonitorState;
import dev.byok.monitor.KeyStateMonitor;
import dev.byok.testkit.FakeKms;
import dev.byok.testkit.FakeKmsExtension;
import dev.byok.testkit.ManualClock;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * One customer key behind {@code alias/app} in a {@link FakeKms}, a {@link Byok} encrypting under
 * the alias, and a {@link KeyStateMonitor} wired to its {@code DataKeyManager}, all on the
 * extension's manual clock. Time moves only through {@link #step()}: one second, then one monitor
 * round, as the default 1 s tick would do.
 */
final class MonitorHarness {
  static final String PROVIDER = FakeKms.DEFAULT_PROVIDER_ID;
  static final EncryptionContext CTX = EncryptionContext.of("repository", "r1");
  static final Duration TICK = Duration.ofSeconds(1);

  final FakeKms kms;
  final InMemoryKms api;
  final ManualClock clock;
  final String keyArn;
  final KeyRef alias = KeyRef.of(PROVIDER, "alias/app");
  final Byok byok;
  final KeyStateMonitor monitor;

  /** The key the assertions look at; the alias unless a test watches another one. */
  KeyRef subject = alias;

  private final List<KeyEvent> events = new CopyOnWriteArrayList<>();
  private int drained;

  private MonitorHarness(
      FakeKmsExtension fake,
      Consumer<Byok.Builder> byokConfig,
      Consumer<KeyStateMonitor.Builder> monitorConfig) {
    this.kms = fake.kms();
    this.api = fake.api();
    this.clock = fake.clock();
    this.keyArn = api.createKey("app key").arn();
    api.createAlias("alias/app", keyArn);
    Byok.Builder b =
        Byok.builder().provider(kms).encryptUnder(alias).segmentSize(4096).clock(clock);
    byokConfig.accept(b);
    this.byok = b.build();
    KeyStateMonitor.Builder m =
        KeyStateMonitor.builder()
            .provider(kms)
            .dataKeyManager(byok.keys())
            .clock(clock)
            .seed(7)
            .eventExecutor(Runnable::run); // events in order on the round's thread, no lock held
    monitorConfig.accept(m);
    this.monitor = m.build();
    monitor.addListener(events::add);
  }

  /** The defaults everywhere; the alias is watched and probed once (ACTIVE, no event). */
  static MonitorHarness started(FakeKmsExtension fake) {
    return started(fake, b -> {}, m -> {});
  }

  static MonitorHarness started(
      FakeKmsExtension fake,
      Consumer<Byok.Builder> byokConfig,
      Consumer<KeyStateMonitor.Builder> monitorConfig) {
    MonitorHarness h = new MonitorHarness(fake, byokConfig, monitorConfig);
    h.monitor.watch(h.alias);
    assertThat(h.monitor.runDueProbes()).as("first round probes the new key").isEqualTo(1);
    assertThat(h.monitor.state(h.alias)).isEqualTo(KeyMonitorState.ACTIVE);
    assertThat(h.monitor.keyArn(h.alias)).isEqualTo(h.keyArn);
    assertThat(h.drain()).as("a healthy first probe says nothing").isEmpty();
    return h;
  }

  // ------------------------------------------------------------------ time

  /** One second passes, then the monitor runs one round. */
  void step() {
    clock.advance(TICK);
    monitor.runDueProbes();
  }

  /** Steps for {@code d} (whole seconds). */
  Instant drive(Duration d) {
    for (long i = 0; i < d.toSeconds(); i++) {
      step();
    }
    return clock.instant();
  }

  /** Steps until the subject is in {@code state}; fails after {@code max}. */
  Instant driveUntil(KeyMonitorState state, Duration max) {
    Instant deadline = clock.instant().plus(max);
    while (monitor.state(subject) != state) {
      if (clock.instant().isAfter(deadline)) {
        fail("%s not %s within %s; events: %s", subject, state, max, events);
      }
      step();
    }
    return clock.instant();
  }

  /** Steps until the monitor has sent DescribeKey for the subject again, i.e. until it probed. */
  Instant driveUntilProbed(Duration max) {
    int before = api.calls("DescribeKey");
    Instant deadline = clock.instant().plus(max);
    while (api.calls("DescribeKey") == before) {
      if (clock.instant().isAfter(deadline)) {
        fail("no probe within %s", max);
      }
      step();
    }
    return clock.instant();
  }

  // ------------------------------------------------------------------ events

  /**
   * @return the events since the last call
   */
  List<KeyEvent> drain() {
    List<KeyEvent> all = new ArrayList<>(events);
    List<KeyEvent> fresh = List.copyOf(all.subList(drained, all.size()));
    drained = all.size();
    return fresh;
  }

  /**
   * @return every event so far
   */
  List<KeyEvent> all() {
    return List.copyOf(events);
  }

  /**
   * @return the only event of that type so far (fails if there are none or several)
   */
  KeyEvent only(KeyEvent.Type type) {
    List<KeyEvent> of = events.stream().filter(e -> e.type() == type).toList();
    assertThat(of).as("events of type %s in %s", type, events).hasSize(1);
    return of.get(0);
  }

  // ------------------------------------------------------------------ data path

  static byte[] plaintext(int i) {
    return ("blob " + i + " of the host's data").getBytes(StandardCharsets.UTF_8);
  }

  byte[] encrypt(byte[] plaintext) {
    return encrypt(plaintext, CTX);
  }

  byte[] encrypt(byte[] plaintext, EncryptionContext context) {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (OutputStream out = byok.newEncryptingStream(sink, context)) {
      out.write(plaintext);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sink.toByteArray();
  }

  byte[] decrypt(byte[] envelope) {
    try {
      return byok.newDecryptingStream(new ByteArrayInputStream(envelope), CTX).readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * @return the key ARN in the envelope's first (only) key slot
   */
  static String slotArn(byte[] envelope) {
    try {
      return Byok.inspect(new ByteArrayInputStream(envelope)).keySlots().get(0).keyArn();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Asserts that decrypting fails with {@code KeyUnusableException(LOCKED)} and that no KMS call is
   * made for it.
   */
  void assertDecryptRefusedLocally(byte[] envelope) {
    int calls = api.callLog().size();
    assertThatThrownBy(() -> decrypt(envelope))
        .isInstanceOfSatisfying(
            KeyUnusableException.class,
            e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.LOCKED));
    assertThat(api.callLog()).as("KMS calls made by a refused decrypt").hasSize(calls);
  }

  /**
   * @return how many calls of {@code operation} named {@code keyId}
   */
  int calls(String operation, @Nullable String keyId) {
    return (int)
        api.callLog().stream()
            .filter(c -> c.operation().equals(operation) && Objects.equals(c.keyId(), keyId))
            .count();
  }
}
