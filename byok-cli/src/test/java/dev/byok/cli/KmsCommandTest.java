package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.kms.local.InMemoryKms;
import dev.byok.kms.local.LocalKmsServer;
import dev.byok.spi.KeyState;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code byok kms ...}: every admin subcommand, through the real AWS SDK over loopback to a {@link
 * LocalKmsServer}, changes the server's state as it claims; failures exit with the documented code
 * and one actionable line; {@code kms serve} keeps keys across restarts, in-process and as a real
 * process.
 */
class KmsCommandTest {
  private static final Pattern ISO_INSTANT =
      Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");

  private LocalKmsServer server;
  private InMemoryKms api;
  private Cli cli;

  @BeforeEach
  void start() {
    server = LocalKmsServer.builder().start();
    api = server.kms();
    cli = Cli.withEndpoint(server.endpoint());
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private Cli.Result ok(String... args) {
    Cli.Result r = cli.run(args);
    assertThat(r.exitCode()).as("%s", r).isZero();
    return r;
  }

  private String newKey() {
    return api.createKey("test").arn();
  }

  @Test
  void createKeyPrintsTheArnAloneAndGivesItTheAlias() {
    Cli.Result r =
        ok("kms", "create-key", "--description", "orders table", "--alias", "alias/orders");

    String arn = r.stdout().strip();
    assertThat(r.stdout()).isEqualTo(arn + System.lineSeparator());
    InMemoryKms.KeyMetadata m = api.describeKey("alias/orders");
    assertThat(m.arn()).isEqualTo(arn);
    assertThat(m.description()).isEqualTo("orders table");
    assertThat(m.keyState()).isEqualTo(KeyState.ENABLED);
    assertThat(r.stderr()).contains("alias/orders -> " + arn);
  }

  @Test
  void createKeyRefusesATakenAliasBeforeCreatingAKey() {
    ok("kms", "create-key", "--alias", "alias/taken");
    int created = api.calls("CreateKey");

    Cli.Result r = cli.run("kms", "create-key", "--alias", "alias/taken");

    assertThat(r.exitCode()).as("%s", r).isEqualTo(ExitCodes.USAGE);
    assertThat(r.stderr())
        .contains("alias/taken already exists")
        .contains("byok kms alias alias/taken KEY");
    assertThat(api.calls("CreateKey")).isEqualTo(created);
    assertThat(r.stdout()).isEmpty();
  }

  @Test
  void aliasIsCreatedThenMovedToAnotherKey() {
    String first = newKey();
    String second = newKey();

    Cli.Result created = ok("kms", "alias", "alias/app", first);
    assertThat(created.stdout()).contains("alias/app -> " + first + " (created)");
    assertThat(api.describeKey("alias/app").arn()).isEqualTo(first);

    Cli.Result moved = ok("kms", "alias", "alias/app", "aws-kms://" + second);
    assertThat(moved.stdout()).contains("alias/app -> " + second + " (moved from " + first + ")");
    assertThat(api.describeKey("alias/app").arn()).isEqualTo(second);

    Cli.Result again = ok("kms", "alias", "alias/app", second);
    assertThat(again.stdout()).contains("(unchanged)");
    assertThat(api.calls("UpdateAlias")).isEqualTo(1);
  }

  @Test
  void aliasNeedsAnAliasName() {
    Cli.Result r = cli.run("kms", "alias", "app", newKey());

    assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(r.stderr()).contains("'app' is not an alias name; write alias/NAME");
  }

  @Test
  void disableAndEnableChangeTheKeyStateAlsoThroughAnAlias() {
    String arn = newKey();
    api.createAlias("alias/svc", arn);

    Cli.Result disabled = ok("kms", "disable", "alias/svc");
    assertThat(api.describeKey(arn).keyState()).isEqualTo(KeyState.DISABLED);
    assertThat(disabled.stdout()).contains("disabled " + arn).contains("byok kms enable alias/svc");

    Cli.Result enabled = ok("kms", "enable", "aws-kms://" + arn);
    assertThat(api.describeKey(arn).keyState()).isEqualTo(KeyState.ENABLED);
    assertThat(enabled.stdout()).contains("enabled " + arn);
  }

  @ParameterizedTest(name = "--days {0}")
  @CsvSource({"7, 7", "'', 30"})
  void scheduleDeletionPrintsTheDateThenCancelLeavesTheKeyDisabled(String daysArg, int days) {
    String arn = newKey();
    List<String> args = new ArrayList<>(List.of("kms", "schedule-deletion", arn));
    if (!daysArg.isEmpty()) {
      args.addAll(List.of("--days", daysArg));
    }

    Instant before = Instant.now();
    Cli.Result r = ok(args.toArray(String[]::new));

    Matcher m = ISO_INSTANT.matcher(r.stdout());
    assertThat(m.find()).as("%s", r).isTrue();
    Instant printed = Instant.parse(m.group());
    assertThat(printed)
        .isBetween(
            before.plus(Duration.ofDays(days)).minusSeconds(2),
            Instant.now().plus(Duration.ofDays(days)).plusSeconds(1));
    InMemoryKms.KeyMetadata meta = api.describeKey(arn);
    assertThat(meta.keyState()).isEqualTo(KeyState.PENDING_DELETION);
    assertThat(Duration.between(meta.deletionDate(), printed).abs())
        .isLessThan(Duration.ofSeconds(1));
    assertThat(r.stdout()).contains("byok kms cancel-deletion " + arn);

    Cli.Result cancelled = ok("kms", "cancel-deletion", arn);
    assertThat(api.describeKey(arn).keyState()).isEqualTo(KeyState.DISABLED);
    assertThat(cancelled.stdout()).contains("now Disabled").contains("byok kms enable " + arn);
  }

  @Test
  void lifecycleMistakesSayWhatToDoInstead() {
    String arn = newKey();

    Cli.Result nothingToCancel = cli.run("kms", "cancel-deletion", arn);
    assertThat(nothingToCancel.exitCode()).isEqualTo(ExitCodes.KEY_UNUSABLE);
    assertThat(nothingToCancel.stderr())
        .contains("is not scheduled for deletion; nothing to cancel");

    ok("kms", "schedule-deletion", arn, "--days", "7");
    Cli.Result twice = cli.run("kms", "schedule-deletion", arn);
    assertThat(twice.exitCode()).isEqualTo(ExitCodes.KEY_UNUSABLE);
    assertThat(twice.stderr()).contains("already scheduled for deletion");

    Cli.Result enable = cli.run("kms", "enable", arn);
    assertThat(enable.exitCode()).isEqualTo(ExitCodes.KEY_UNUSABLE);
    assertThat(enable.stderr()).contains("byok kms cancel-deletion " + arn);
    assertThat(api.describeKey(arn).keyState()).isEqualTo(KeyState.PENDING_DELETION);
  }

  @Test
  void badDaysIsAUsageErrorAndTouchesNothing() {
    String arn = newKey();

    Cli.Result tooFew = cli.run("kms", "schedule-deletion", arn, "--days", "3");
    Cli.Result notANumber = cli.run("kms", "schedule-deletion", arn, "--days", "soon");

    assertThat(tooFew.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(tooFew.stderr()).contains("--days must be 7 to 30");
    assertThat(notANumber.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(notANumber.stderr()).contains("--days");
    assertThat(api.calls("ScheduleKeyDeletion")).isZero();
    assertThat(api.describeKey(arn).keyState()).isEqualTo(KeyState.ENABLED);
  }

  @Test
  void rotateGivesTheKeyNewMaterialUnderTheSameArn() {
    String arn = newKey();
    String material = api.describeKey(arn).currentKeyMaterialId();

    Cli.Result r = ok("kms", "rotate", arn);

    assertThat(r.stdout()).contains("rotating the key material of " + arn);
    assertThat(api.describeKey(arn).currentKeyMaterialId()).isNotEqualTo(material);
    assertThat(api.listKeyRotations(arn)).hasSize(1);
  }

  @Test
  void describeShowsStateAliasesAndDeletionDate() {
    String arn = newKey();
    api.createAlias("alias/b", arn);
    api.createAlias("alias/a", arn);
    api.scheduleKeyDeletion(arn, 10);

    Cli.Result r = ok("kms", "describe", "alias/a");

    assertThat(r.stdout())
        .contains("key:          " + arn)
        .contains("state:        PendingDeletion")
        .contains(
            "deletion on:  "
                + api.describeKey(arn)
                    .deletionDate()
                    .truncatedTo(java.time.temporal.ChronoUnit.SECONDS))
        .contains("aliases:      alias/a, alias/b")
        .contains("material id:  " + api.describeKey(arn).currentKeyMaterialId());
  }

  @Test
  void anUnknownKeyExitsFourWithAHint() {
    Cli.Result r =
        cli.run(
            "kms",
            "disable",
            "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000");
    Cli.Result alias = cli.run("kms", "describe", "alias/nope");

    assertThat(r.exitCode()).as("%s", r).isEqualTo(ExitCodes.KEY_UNUSABLE);
    assertThat(r.stderr())
        .startsWith("byok: key arn:aws:kms:")
        .contains("not found")
        .contains("--endpoint")
        .doesNotContain("\tat ");
    assertThat(alias.exitCode()).isEqualTo(ExitCodes.KEY_UNUSABLE);
    assertThat(alias.stderr()).contains("key alias/nope not found");
  }

  @Test
  void noKmsAtTheEndpointExitsFiveAndSaysToStartOne() throws IOException {
    URI closed;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closed = URI.create("http://127.0.0.1:" + s.getLocalPort());
    }
    Cli nowhere = Cli.withEndpoint(closed);

    Cli.Result r = nowhere.run("kms", "create-key");
    Cli.Result verbose = nowhere.run("kms", "describe", "alias/x", "--verbose");

    assertThat(r.exitCode()).as("%s", r).isEqualTo(ExitCodes.KMS_UNAVAILABLE);
    assertThat(r.stderr())
        .startsWith("byok: no KMS answers at " + closed + ": start one with `byok kms serve`")
        .doesNotContain("\tat ");
    assertThat(r.stderr().lines()).hasSize(1);
    assertThat(verbose.exitCode()).isEqualTo(ExitCodes.KMS_UNAVAILABLE);
    assertThat(verbose.stderr()).contains("\tat ");
  }

  @ParameterizedTest(name = "{0} -> exit {2}")
  @CsvSource(
      delimiter = '|',
      value = {
        "AccessDeniedException|400|4|access denied: the key policy or IAM must allow kms:DisableKey",
        "ExpiredTokenException|400|5|the KMS rejected the credentials; refresh them",
        "LimitExceededException|400|1|a KMS limit was reached",
        "ValidationException|400|2|the KMS rejected the request (DisableKey: ValidationException: injected)",
        "SomethingNewException|400|1|DisableKey on KEY failed (DisableKey: SomethingNewException: injected)"
      })
  void kmsErrorCodesMapToExitCodesAndAdvice(String code, int status, int exit, String message) {
    String arn = newKey();
    server.failNextRequest(code, status, "injected");

    Cli.Result r = cli.run("kms", "disable", arn);

    assertThat(r.exitCode()).as("%s", r).isEqualTo(exit);
    assertThat(r.stderr())
        .startsWith("byok: ")
        .contains(message.replace("KEY", arn))
        .doesNotContain("\tat ");
    assertThat(api.describeKey(arn).keyState()).isEqualTo(KeyState.ENABLED);
  }

  @Test
  void aKmsThatKeepsFailingExitsFive() {
    String arn = newKey();
    server.serviceUnavailable(20);

    Cli.Result r = cli.run("kms", "enable", arn);

    assertThat(r.exitCode()).as("%s", r).isEqualTo(ExitCodes.KMS_UNAVAILABLE);
    assertThat(r.stderr()).contains("HTTP 503").contains("retry in a moment");
  }

  @Test
  void kmsAloneIsAUsageError() {
    Cli.Result r = cli.run("kms");

    assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(r.stderr()).contains("byok kms serve | create-key");
  }

  // ------------------------------------------------------------------ serve

  @Test
  void serveKeepsKeysInItsStateFileAcrossRestarts(@TempDir Path dir) throws Exception {
    Path state = dir.resolve("kms.json");
    String arn;
    try (LiveCli serve =
        LiveCli.start("kms", "serve", "--port", "0", "--state", state.toString())) {
      URI endpoint = URI.create(serve.awaitOut("^export BYOK_KMS_ENDPOINT=(\\S+)$").group(1));
      assertThat(serve.stdout()).contains("state: " + state + " (new)");
      assertThat(serve.stderr()).contains("for tests only").contains("no SigV4 check");
      arn =
          Cli.withEndpoint(endpoint)
              .run("kms", "create-key", "--alias", "alias/kept")
              .stdout()
              .strip();
      assertThat(arn).startsWith("arn:aws:kms:");
      assertThat(serve.interrupt()).isEqualTo(ExitCodes.INTERRUPTED);
    }
    assertThat(state).isRegularFile();

    try (LiveCli again =
        LiveCli.start("kms", "serve", "--port", "0", "--state", state.toString())) {
      URI endpoint = URI.create(again.awaitOut("^export BYOK_KMS_ENDPOINT=(\\S+)$").group(1));
      assertThat(again.stdout()).contains("(loaded)");
      Cli.Result r = Cli.withEndpoint(endpoint).run("kms", "describe", "alias/kept");
      assertThat(r.stdout())
          .as("%s", r)
          .contains("key:          " + arn)
          .contains("state:        Enabled");
    }
  }

  @Test
  void serveRefusesABusyPortAndABrokenStateFile(@TempDir Path dir) throws IOException {
    Cli.Result busy =
        new Cli().run("kms", "serve", "--port", String.valueOf(server.port()), "--in-memory");
    Path broken = Files.writeString(dir.resolve("broken.json"), "{not json");
    Cli.Result corrupt = new Cli().run("kms", "serve", "--port", "0", "--state", broken.toString());

    assertThat(busy.exitCode()).isEqualTo(ExitCodes.FAILURE);
    assertThat(busy.stderr())
        .contains("port " + server.port() + " on 127.0.0.1 is in use")
        .contains("--port 0");
    assertThat(corrupt.exitCode()).isEqualTo(ExitCodes.IO);
    assertThat(corrupt.stderr()).contains(broken + " is not valid").contains("move it away");
    assertThat(Files.readString(broken)).isEqualTo("{not json");
  }

  /**
   * The real thing: a separate JVM with its home in a temporary directory and no --state, so the
   * default state file is used; stopped with SIGTERM (as by Ctrl-C) and started again.
   */
  @Test
  @Timeout(60)
  void serveAsAProcessKeepsKeysInTheDefaultStateFileAcrossRestarts(@TempDir Path home)
      throws Exception {
    String arn;
    Process first = serveProcess(home);
    try {
      URI endpoint = endpointOf(first);
      arn =
          Cli.withEndpoint(endpoint)
              .run("kms", "create-key", "--alias", "alias/survivor")
              .stdout()
              .strip();
      assertThat(arn).startsWith("arn:aws:kms:");
    } finally {
      first.destroy();
      first.waitFor(20, TimeUnit.SECONDS);
    }
    Path state = home.resolve(".byok").resolve("local-kms.json");
    assertThat(Files.readString(state)).contains(arn).contains("TEST key material in clear");
    if (Files.getFileStore(home).supportsFileAttributeView("posix")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state.getParent())))
          .isEqualTo("rwx------");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state)))
          .isEqualTo("rw-------");
    }

    Process second = serveProcess(home);
    try {
      Cli.Result r = Cli.withEndpoint(endpointOf(second)).run("kms", "describe", "alias/survivor");
      assertThat(r.exitCode()).as("%s", r).isZero();
      assertThat(r.stdout()).contains("key:          " + arn);
    } finally {
      second.destroy();
      second.waitFor(20, TimeUnit.SECONDS);
    }
  }

  private static Process serveProcess(Path home) throws IOException {
    return new ProcessBuilder(
            CliProcess.command(List.of("-Duser.home=" + home), "kms", "serve", "--port", "0"))
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
  }

  /**
   * Reads the process's stdout until the export line, on a helper thread so the wait has a
   * deadline.
   */
  private static URI endpointOf(Process p) throws InterruptedException {
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                  lines.add(line);
                }
              } catch (IOException ended) {
                // the process was destroyed
              }
            },
            "serve-stdout");
    reader.setDaemon(true);
    reader.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    List<String> seen = new ArrayList<>();
    while (System.nanoTime() < deadline) {
      String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (line == null) {
        break;
      }
      seen.add(line);
      if (line.startsWith("export BYOK_KMS_ENDPOINT=")) {
        return URI.create(line.substring("export BYOK_KMS_ENDPOINT=".length()));
      }
    }
    throw new AssertionError(
        "no endpoint line from byok kms serve; saw "
            + seen
            + (p.isAlive() ? "" : ", exit " + p.exitValue()));
  }
}
