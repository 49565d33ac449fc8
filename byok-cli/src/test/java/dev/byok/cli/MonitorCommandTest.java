package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.kms.local.InMemoryKms;
import dev.byok.kms.local.LocalKmsServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code byok monitor}: a real KeyStateMonitor, on its own thread and the real clock, probing a
 * {@link LocalKmsServer} through the AWS SDK every 200 ms while the test changes the key; the test
 * waits on the printed lines, never sleeps.
 */
class MonitorCommandTest {
  private static final String TIME = "^\\d\\d:\\d\\d:\\d\\d ";

  private LocalKmsServer server;
  private InMemoryKms api;

  @BeforeEach
  void start() {
    server = LocalKmsServer.builder().start();
    api = server.kms();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  /** Probes every 200 ms, locks after 300 ms of denial; --for 10s is only a safety stop. */
  private LiveCli monitor(String... keys) {
    List<String> args =
        new ArrayList<>(
            List.of("monitor", "--interval", "200ms", "--grace", "300ms", "--for", "10s"));
    for (String k : keys) {
      args.add("--key");
      args.add(k);
    }
    return LiveCli.start(server.endpoint(), args.toArray(String[]::new));
  }

  @Test
  void aDisabledKeyIsSuspectThenLockedAndUnlockedWhenEnabled() throws Exception {
    String arn = api.createKey("watched").arn();
    api.createAlias("alias/watched", arn);

    try (LiveCli m = monitor("alias/watched")) {
      m.awaitOut(
          TIME
              + "WATCHING alias/watched -> "
              + Pattern.quote(arn)
              + " is ACTIVE \\(KMS state ENABLED\\)");
      m.awaitOut(
          TIME + "STARTED watching 1 key; probing every 200ms, locking after 300ms of denial");

      api.disableKey(arn);
      m.awaitOut(
          TIME + "SUSPECT alias/watched \\(" + Pattern.quote(arn) + "\\) — the KMS denies the key");
      m.awaitOut(
          TIME
              + "LOCKED alias/watched \\("
              + Pattern.quote(arn)
              + "\\) — key disabled .*refused until it is "
              + "enabled \\(byok kms enable alias/watched\\)");

      api.enableKey(arn);
      m.awaitOut(TIME + "UNLOCKED alias/watched \\(" + Pattern.quote(arn) + "\\) — usable again");
      assertThat(m.interrupt()).isEqualTo(ExitCodes.INTERRUPTED);

      List<String> labels = m.stdout().lines().map(l -> l.split(" ")[1]).toList();
      assertThat(labels)
          .containsSubsequence("WATCHING", "STARTED", "SUSPECT", "LOCKED", "UNLOCKED");
      assertThat(m.stderr()).doesNotContain("byok:");
    }
  }

  @Test
  void aKeyAlreadyDisabledAtStartIsShownSuspectAndThenLocked() throws Exception {
    String arn = api.createKey("off").arn();
    api.disableKey(arn);

    try (LiveCli m = monitor(arn)) {
      m.awaitOut(TIME + "WATCHING " + Pattern.quote(arn) + " is SUSPECT \\(KMS state DISABLED\\)");
      m.awaitOut(TIME + "LOCKED " + Pattern.quote(arn) + " — key disabled");
    }
  }

  @Test
  void aMovedAliasRotationAndScheduledDeletionAreReported() throws Exception {
    String old = api.createKey("old").arn();
    String next = api.createKey("next").arn();
    api.createAlias("alias/app", old);

    try (LiveCli m = monitor("alias/app")) {
      m.awaitOut(TIME + "STARTED");

      api.updateAlias("alias/app", next);
      m.awaitOut(
          TIME
              + "KEY_RETARGETED alias/app now -> "
              + Pattern.quote(next)
              + " \\(was "
              + Pattern.quote(old)
              + "\\)");

      api.rotateKeyOnDemand(next);
      m.awaitOut(
          TIME
              + "KEY_MATERIAL_ROTATED alias/app \\("
              + Pattern.quote(next)
              + "\\) — new key material");

      api.scheduleKeyDeletion(next, 7);
      String date = api.describeKey(next).deletionDate().truncatedTo(ChronoUnit.SECONDS).toString();
      m.awaitOut(
          TIME
              + "DELETION_SCHEDULED alias/app \\("
              + Pattern.quote(next)
              + "\\) — deletion on "
              + Pattern.quote(date)
              + ".*byok kms cancel-deletion alias/app");
      m.awaitOut(
          TIME
              + "LOCKED alias/app .*key scheduled for deletion.*byok kms cancel-deletion alias/app");
    }
  }

  @Test
  void forStopsTheMonitorByItselfWithExitZero() {
    String arn = api.createKey("brief").arn();

    Cli.Result r =
        Cli.withEndpoint(server.endpoint())
            .run("monitor", "--key", "aws-kms://" + arn, "--for", "300ms");

    assertThat(r.exitCode()).as("%s", r).isZero();
    assertThat(r.stdout())
        .containsPattern(
            Pattern.compile(
                TIME + "WATCHING " + Pattern.quote(arn) + " is ACTIVE", Pattern.MULTILINE))
        .contains("probing every 30s, locking after 30s of denial; stopping after 300ms");
  }

  @Test
  void anUnknownKeyExitsFourAtStart() {
    Cli.Result r =
        Cli.withEndpoint(server.endpoint()).run("monitor", "--key", "alias/typo", "--for", "1s");

    assertThat(r.exitCode()).as("%s", r).isEqualTo(ExitCodes.KEY_UNUSABLE);
    assertThat(r.stderr())
        .startsWith("byok: key alias/typo does not exist")
        .doesNotContain("\tat ");
    assertThat(r.stdout()).isEmpty();
  }

  @Test
  void noKmsAtTheEndpointExitsFive() throws IOException {
    URI closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = URI.create("http://127.0.0.1:" + s.getLocalPort());
    }

    Cli.Result r = Cli.withEndpoint(closed).run("monitor", "--key", "alias/any", "--for", "1s");

    assertThat(r.exitCode()).as("%s", r).isEqualTo(ExitCodes.KMS_UNAVAILABLE);
    assertThat(r.stderr())
        .startsWith("byok: no KMS answers at " + closed + ": start one with `byok kms serve`")
        .doesNotContain("\tat ");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "--interval|soon|is not a duration",
        "--interval|0s|--interval must be more than 0",
        "--grace|-5s|is not a duration",
        "--for|0ms|--for must be more than 0"
      })
  void badDurationsAreUsageErrors(String option, String value, String message) {
    Cli.Result r =
        Cli.withEndpoint(server.endpoint()).run("monitor", "--key", "alias/x", option, value);

    assertThat(r.exitCode()).as("%s", r).isEqualTo(ExitCodes.USAGE);
    assertThat(r.stderr()).contains(message);
    assertThat(api.calls("DescribeKey")).isZero();
  }

  @Test
  void withoutAKeyItIsAUsageError() {
    Cli.Result r = Cli.withEndpoint(server.endpoint()).run("monitor");

    assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(r.stderr()).contains("--key");
  }

  @ParameterizedTest
  @CsvSource({
    "200ms, PT0.2S",
    "30s, PT30S",
    "5m, PT5M",
    "1h, PT1H",
    "2d, PT48H",
    "PT1M30S, PT1M30S",
    "pt2s, PT2S",
    "0s, PT0S"
  })
  void durationsParseShortAndIsoForms(String text, String iso) {
    assertThat(Durations.parse(text)).isEqualTo(Duration.parse(iso));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "5", "1.5s", "-1s", "PT-1S", "5 s", "1w", "soon"})
  void durationsRejectOtherForms(String text) {
    assertThatThrownBy(() -> Durations.parse(text))
        .isInstanceOf(TypeConversionException.class)
        .hasMessageContaining("write e.g. 200ms, 30s");
  }

  @ParameterizedTest
  @CsvSource({"PT0.2S, 200ms", "PT30S, 30s", "PT5M, 5m", "PT1H30M, 1h30m", "PT0S, 0ms"})
  void durationsFormatTheWayTheyAreWritten(String iso, String text) {
    assertThat(Durations.format(Duration.parse(iso))).isEqualTo(text);
  }
}
