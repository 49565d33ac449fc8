package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.Byok;
import dev.byok.EnvelopeHeader;
import dev.byok.KeySlot;
import dev.byok.kms.local.LocalKmsException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code byok demo} run in-process, for real: its own LocalKmsServer, the AWS SDK over loopback,
 * the monitor on its own thread. The output must tell each step's outcome, the kept files must be
 * what the story says, and nothing may keep running afterwards.
 */
class DemoCommandTest {
  private static final Pattern ARN =
      Pattern.compile("arn:aws:kms:[a-z0-9-]+:\\d{12}:key/[0-9a-f-]{36}");

  @TempDir Path tmp;

  @Test
  void tellsTheWholeStoryAndKeepsTheRewrappedBlobs() throws Exception {
    Set<Thread> threadsBefore = Thread.getAllStackTraces().keySet();
    LocalDate first = LocalDate.now(ZoneOffset.UTC);
    Path dir = tmp.resolve("demo");
    long t = System.nanoTime();

    Cli.Result r = new Cli().run("demo", "--dir", dir.toString(), "--keep");

    long millis = (System.nanoTime() - t) / 1_000_000;
    LocalDate last = LocalDate.now(ZoneOffset.UTC);
    String out = r.stdout();
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(millis).as("well under a minute").isLessThan(20_000);
    for (int n = 1; n <= 9; n++) {
      assertThat(out).contains("[" + n + "/9] ");
    }
    assertThat(out).doesNotContain("FAILED");

    // step 1: the key whose ARN the rest refers to
    String oldKey = group(out, "      key (" + ARN + ") \\(Enabled\\)");
    // step 2: the cold run is labelled as such; the warm path's throughput is a measured number
    assertThat(out)
        .containsPattern(
            "6 files, [0-9,]+ bytes \\([0-9.]+ MiB\\): plaintext/snapshot-1 -> repo/snapshot-1 in "
                + "\\d+ ms \\(cold start: this JVM's first encryption, every file forced to disk\\)");
    // (a loaded machine may not get there within the demo's one-second budget: then it says so)
    Matcher warm =
        Pattern.compile(
                "warm path: (?:(\\d+) MiB/s \\(|not reached within 1 s on this machine "
                    + "\\(the last 16 MiB in memory ran at (\\d+) MiB/s)")
            .matcher(out);
    assertThat(warm.find()).as(out).isTrue();
    String mibs = warm.group(1) != null ? warm.group(1) : warm.group(2);
    assertThat(Integer.parseInt(mibs)).isPositive();
    // step 3: inspect named it and made no KMS request
    assertThat(out).contains("key slot aws-kms " + oldKey).contains("KMS requests made: 0");
    // step 4: locked by the monitor, read refused in-process
    assertThat(out).containsPattern("LOCKED after \\d+ ms");
    assertThat(out).contains("read refused: key " + oldKey + " is locked by the key-state monitor");
    assertThat(out).contains("byok decrypt would exit 4; refused in-process, KMS requests: 0");
    // step 5
    assertThat(out)
        .containsPattern("UNLOCKED after \\d+ ms")
        .contains("reads work again: 6 blobs decrypt");
    // step 6: the alias moved from the old key to a new one
    Matcher m =
        Pattern.compile("KEY_RETARGETED after \\d+ ms: (" + ARN + ") -> (" + ARN + ")")
            .matcher(out);
    assertThat(m.find()).as(out).isTrue();
    assertThat(m.group(1)).isEqualTo(oldKey);
    String newKey = m.group(2);
    assertThat(newKey).isNotEqualTo(oldKey);
    assertThat(out).contains("new blob snapshot-2" + sep() + "index-0 names " + newKey);
    // step 7
    assertThat(out)
        .contains("6 blobs rewrapped")
        .contains("payload bytes re-encrypted: 0")
        .contains("a reader trusting only " + newKey + " decrypts all 7 blobs");
    // step 8: warning with the date, seven days from today (UTC; the run may straddle midnight)
    String date =
        group(
            out,
            "WARNING: key "
                + Pattern.quote(oldKey)
                + " will be deleted on (\\d{4}-\\d{2}-\\d{2}) "
                + "\\(UTC\\); blobs still under it would become unreadable: 0 left \\(all rewrapped\\)");
    assertThat(LocalDate.parse(date)).isIn(first.plusDays(7), last.plusDays(7));
    assertThat(out).containsPattern("every step behaved as expected, in \\d+ ms");

    // the kept files: every plaintext file has a blob, and every blob names only the new key
    List<Path> plain = files(dir.resolve("plaintext"));
    List<Path> blobs = files(dir.resolve("repo"));
    assertThat(blobs).hasSize(7);
    assertThat(relative(dir.resolve("repo"), blobs))
        .isEqualTo(relative(dir.resolve("plaintext"), plain));
    assertThat(Files.size(dir.resolve("plaintext/snapshot-1/data/seg-0001.dat")))
        .isGreaterThan(4L << 20);
    for (Path blob : blobs) {
      EnvelopeHeader h;
      try (InputStream in = Files.newInputStream(blob)) {
        h = Byok.inspect(in);
      }
      assertThat(h.keySlots())
          .as(blob.toString())
          .extracting(KeySlot::keyArn)
          .containsExactly(newKey);
      assertThat(h.encryptionContext().asMap())
          .containsEntry("repository", "demo")
          .containsEntry("snapshot", dir.resolve("repo").relativize(blob).getName(0).toString());
      assertThat(h.plaintextLength(Files.size(blob)))
          .isEqualTo(
              Files.size(dir.resolve("plaintext").resolve(dir.resolve("repo").relativize(blob))));
    }

    assertNothingLeftRunning(threadsBefore);
  }

  @Test
  void aStepThatGoesWrongIsNamedFailsTheRunAndStopsEverything() throws Exception {
    Set<Thread> threadsBefore = Thread.getAllStackTraces().keySet();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CliIo io =
        new CliIo(
            InputStream.nullInputStream(),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(OutputStream.nullOutputStream()),
            false,
            false,
            Map.of());
    Path dir = Files.createDirectories(tmp.resolve("failing"));

    assertThatThrownBy(
            () ->
                DemoStory.run(
                    io,
                    dir,
                    "test",
                    server -> server.kms().failNext("UpdateAlias", LocalKmsException.NOT_FOUND)))
        .isInstanceOfSatisfying(
            CliException.class,
            e -> {
              assertThat(e.exitCode()).isEqualTo(ExitCodes.FAILURE);
              assertThat(e.getMessage())
                  .startsWith("demo step 6/9 (The customer rotates by hand")
                  .contains("did not go as expected");
            });

    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text)
        .contains("[5/9] ", "reads work again", "[6/9] ", "FAILED: ")
        .doesNotContain("[7/9]");
    assertNothingLeftRunning(threadsBefore);
  }

  @Test
  void onCloudKmsEveryStepRunsThroughTheOfficialClientAndTheOldVersionIsScheduledForDestruction()
      throws Exception {
    Set<Thread> threadsBefore = Thread.getAllStackTraces().keySet();
    LocalDate first = LocalDate.now(ZoneOffset.UTC);
    Path dir = tmp.resolve("gcp");

    Cli.Result r = new Cli().run("demo", "--kms", "gcp", "--dir", dir.toString(), "--keep");

    LocalDate last = LocalDate.now(ZoneOffset.UTC);
    String out = r.stdout();
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertEveryStep(out);
    String key = "projects/byok-local/locations/global/keyRings/byok/cryptoKeys/byok-demo";
    String v1 = key + "/cryptoKeyVersions/1";
    String v2 = key + "/cryptoKeyVersions/2";
    assertThat(out)
        .contains("no Google Cloud account")
        .contains("primary version " + v1 + " (ENABLED)")
        .contains("key slot gcp-kms " + v1)
        .contains("KMS requests made: 0")
        .containsPattern("UpdateCryptoKeyVersion state=DISABLED; monitor: .*LOCKED after \\d+ ms")
        .contains("read refused: key " + v1 + " is locked by the key-state monitor")
        .contains("byok decrypt would exit 4; refused in-process, KMS requests: 0")
        .contains("reads work again: 6 blobs decrypt")
        .contains("allow-list " + key + "/cryptoKeyVersions/* keeps the older versions readable")
        .contains("KEY_RETARGETED after ")
        .contains(": " + v1 + " -> " + v2)
        .contains("new blob snapshot-2" + sep() + "index-0 names " + v2)
        .contains("6 blobs rewrapped", "payload bytes re-encrypted: 0")
        .contains("a reader trusting only " + v2 + " decrypts all 7 blobs")
        .contains("DestroyCryptoKeyVersion; monitor: DELETION_SCHEDULED after ");
    String date =
        group(
            out,
            "WARNING: key version "
                + Pattern.quote(v1)
                + " will be destroyed on (\\d{4}-\\d{2}-\\d{2}) \\(UTC\\); blobs still under it "
                + "would become unreadable: 0 left \\(all rewrapped\\)");
    assertThat(LocalDate.parse(date)).isIn(first.plusDays(7), last.plusDays(7));
    assertThat(out).containsPattern("answered \\d+ requests \\(.*Encrypt \\d+");
    assertKeptBlobsName(dir, v2);
    assertNothingLeftRunning(threadsBefore);
  }

  @Test
  void onKeyVaultEveryStepRunsThroughTheAzureSdkOverHttpsAndTheOldVersionIsLeftHonestly()
      throws Exception {
    Set<Thread> threadsBefore = Thread.getAllStackTraces().keySet();
    Path dir = tmp.resolve("azure");

    Cli.Result r = new Cli().run("demo", "--kms", "azure", "--dir", dir.toString(), "--keep");

    String out = r.stdout();
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertEveryStep(out);
    String key = group(out, "      key (https://127\\.0\\.0\\.1:\\d+/keys/byok-demo) \\(RSA");
    String v1 =
        group(out, "current version (" + Pattern.quote(key) + "/[0-9a-f]{32}) \\(ENABLED\\)");
    assertThat(out)
        .contains("no Azure subscription")
        .contains("key slot azure-kv " + v1)
        .contains("UpdateKey enabled=false; monitor: ")
        .contains("read refused: key " + v1 + " is locked by the key-state monitor")
        .contains("byok decrypt would exit 4; refused in-process, KMS requests: 0")
        .contains("UpdateKey enabled=true; monitor: UNLOCKED after ")
        .contains("allow-list " + key + "/* keeps the older versions readable");
    Matcher m =
        Pattern.compile(
                "KEY_RETARGETED after \\d+ ms: "
                    + Pattern.quote(v1)
                    + " -> ("
                    + Pattern.quote(key)
                    + "/[0-9a-f]{32})")
            .matcher(out);
    assertThat(m.find()).as(out).isTrue();
    String v2 = m.group(1);
    assertThat(v2).isNotEqualTo(v1);
    assertThat(out)
        .contains("new blob snapshot-2" + sep() + "index-0 names " + v2)
        .contains("6 blobs rewrapped", "payload bytes re-encrypted: 0")
        .contains("a reader trusting only " + v2 + " decrypts all 7 blobs")
        .contains("Key Vault cannot delete one version")
        .contains("blobs still under the old version: 0 (all rewrapped)")
        .containsPattern("answered \\d+ requests \\(.*wrapKey \\d+");
    assertThat(r.stderr()).as("the Azure SDK's log noise stays out of the demo").isEmpty();
    assertKeptBlobsName(dir, v2);
    assertNothingLeftRunning(threadsBefore);
  }

  @Test
  void anUnknownKmsIsAUsageErrorBeforeAnythingStarts() {
    Path dir = tmp.resolve("never");

    Cli.Result r = new Cli().run("demo", "--kms", "vault", "--dir", dir.toString());

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.USAGE);
    assertThat(r.stderr()).contains("--kms vault is not one of aws, gcp, azure");
    assertThat(r.stdout()).doesNotContain("[1/9]");
    assertThat(dir).doesNotExist();
  }

  private static void assertEveryStep(String out) {
    for (int n = 1; n <= 9; n++) {
      assertThat(out).contains("[" + n + "/9] ");
    }
    assertThat(out).doesNotContain("FAILED");
    assertThat(out.split("\n"))
        .filteredOn(l -> l.startsWith("      done in "))
        .as("every step ends done")
        .hasSize(9);
    assertThat(out).containsPattern("every step behaved as expected, in \\d+ ms");
  }

  /** Every kept blob names only {@code key} and has a plaintext twin. */
  private static void assertKeptBlobsName(Path dir, String key) throws IOException {
    List<Path> blobs = files(dir.resolve("repo"));
    assertThat(blobs).hasSize(7);
    assertThat(relative(dir.resolve("repo"), blobs))
        .isEqualTo(relative(dir.resolve("plaintext"), files(dir.resolve("plaintext"))));
    for (Path blob : blobs) {
      try (InputStream in = Files.newInputStream(blob)) {
        assertThat(Byok.inspect(in).keySlots())
            .as(blob.toString())
            .extracting(KeySlot::keyArn)
            .containsExactly(key);
      }
    }
  }

  @Test
  void helpNamesTheStepsAndOptions() {
    Cli.Result r = new Cli().run("demo", "--help");

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout())
        .contains(
            "--dir=DIR",
            "--keep",
            "--kms=KMS",
            "aws (default), gcp",
            "disable the key",
            "rewrap",
            "schedule deletion",
            "no AWS account");
  }

  @Test
  void aFileAsWorkDirectoryIsRefusedBeforeAnythingStarts() throws IOException {
    Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");

    Cli.Result r = new Cli().run("demo", "--dir", file.toString());

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.IO);
    assertThat(r.stderr()).startsWith("byok: --dir " + file + " is a file");
    assertThat(r.stdout()).doesNotContain("[1/9]");
    assertThat(Files.readString(file)).isEqualTo("x");
  }

  @Test
  void aNonEmptyWorkDirectoryIsRefusedAndLeftAlone() throws IOException {
    Path mine =
        Files.writeString(
            Files.createDirectories(tmp.resolve("busy")).resolve("mine.txt"), "keep me");

    Cli.Result r = new Cli().run("demo", "--dir", mine.getParent().toString());

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.IO);
    assertThat(r.stderr()).contains("is not empty");
    assertThat(files(mine.getParent())).containsExactly(mine);
  }

  /** The monitor's and the local KMS's threads, started after {@code before}, all end. */
  private static void assertNothingLeftRunning(Set<Thread> before) throws InterruptedException {
    for (Thread th : Thread.getAllStackTraces().keySet()) {
      if (!before.contains(th)
          && (th.getName().startsWith("byok-key-monitor")
              || th.getName().startsWith("local-kms-"))) {
        th.join(5_000);
        assertThat(th.isAlive()).as(th.getName() + " still running").isFalse();
      }
    }
  }

  private static String group(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as("/" + regex + "/ in:\n" + text).isTrue();
    return m.group(1);
  }

  private static String sep() {
    return Path.of("a", "b").toString().substring(1, 2);
  }

  private static List<Path> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile)
          .sorted()
          .collect(Collectors.toCollection(ArrayList::new));
    }
  }

  private static List<Path> relative(Path base, List<Path> files) {
    return files.stream().map(base::relativize).toList();
  }
}
