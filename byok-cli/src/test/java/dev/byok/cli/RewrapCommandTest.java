package dev.byok.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.Byok;
import dev.byok.ByokException;
import dev.byok.EncryptionContext;
import dev.byok.EnvelopeHeader;
import dev.byok.KeySlot;
import dev.byok.kms.aws.AwsKmsProvider;
import dev.byok.kms.local.LocalKmsServer;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * {@code byok rewrap} against the loopback KMS over the real AWS SDK: blobs are written by the
 * library under key A, then moved to other key sets by the command, in-process and as a real
 * process that is killed part-way.
 */
class RewrapCommandTest {
  /**
   * What the server's sleeper does on each answer (slowResponses is on, so it runs for every
   * request).
   */
  private enum Fault {
    NONE,
    OUTAGE_AFTER_REENCRYPTS,
    BLOCK_AFTER_REENCRYPTS
  }

  private volatile Fault fault = Fault.NONE;
  private volatile int afterReEncrypts;
  private final CountDownLatch unblock = new CountDownLatch(1);

  private LocalKmsServer server;
  private AwsKmsProvider provider;
  private Cli cli;
  private String a;
  private String b;
  private String c;

  @TempDir Path tmp;
  private Path data;

  /** Plaintext of every blob written, by file. */
  private final Map<Path, byte[]> plaintexts = new LinkedHashMap<>();

  @BeforeEach
  void start() throws IOException {
    LocalKmsServer[] self = new LocalKmsServer[1];
    server = LocalKmsServer.builder().sleeper(d -> onRequest(self[0])).start();
    self[0] = server;
    server.slowResponses(
        Duration.ofNanos(1)); // the "wait" is onRequest: it never sleeps, it injects faults
    a = server.kms().createKey("old").arn();
    b = server.kms().createKey("new").arn();
    c = server.kms().createKey("unrelated").arn();
    provider =
        AwsKmsProvider.builder()
            .region("us-east-1")
            .endpoint(server.endpoint())
            .credentials(
                StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
            .build();
    cli = Cli.withEndpoint(server.endpoint());
    data = Files.createDirectories(tmp.resolve("data"));
    writeBlob("a.byok", 0);
    writeBlob("b.byok", 1000);
    writeBlob("sub/c.byok", 150_000); // several 64 KiB segments
    writeBlob("sub/d.byok", 5000);
  }

  private void onRequest(LocalKmsServer s) throws InterruptedException {
    if (fault == Fault.NONE || s.requests("ReEncrypt") < afterReEncrypts) {
      return;
    }
    if (fault == Fault.OUTAGE_AFTER_REENCRYPTS) {
      s.kms().startOutage(); // every call from now on: 500 KMSInternalException
    } else if (!unblock.await(30, TimeUnit.SECONDS)) { // BLOCK: the client hangs in this request
      throw new InterruptedException("never unblocked");
    }
  }

  @AfterEach
  void stop() {
    unblock.countDown();
    if (provider != null) {
      provider.close();
    }
    if (server != null) {
      server.close();
    }
  }

  // ---------------------------------------------------------------- outcomes

  @Test
  void replacingTheKeyLeavesThePayloadUntouchedAndOnlyTheNewKeyIsNeeded() throws IOException {
    Map<Path, String> payloads = payloads();
    long payloadBytes = payloadBytes();

    Cli.Result r = cli.run("rewrap", "--any-context", "--key", a, "--to", b, data.toString());

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout())
        .contains("rewrapped " + data.resolve("sub/c.byok") + ": [" + a + "] -> [" + b + "]")
        .contains("4 blob(s) rewrapped, 0 already on target keys, 0 failed")
        .contains("payload bytes copied verbatim: " + payloadBytes)
        .contains("payload bytes re-encrypted: 0");
    assertThat(payloads()).as("payload bytes on disk").isEqualTo(payloads);
    for (Path f : plaintexts.keySet()) {
      assertThat(slots(f)).containsExactly(b);
      assertThat(decrypt(f, b)).isEqualTo(plaintexts.get(f));
      assertThatThrownBy(() -> decrypt(f, a))
          .isInstanceOf(ByokException.class)
          .hasMessageContaining("allow-list");
    }
  }

  @Test
  void addingAReplicaGivesTwoSlotsEitherOfWhichDecrypts() throws IOException {
    server.kms().createAlias("alias/replica", b);
    Map<Path, String> payloads = payloads();

    Cli.Result r =
        cli.run(
            "rewrap",
            "--any-context",
            "--key",
            a,
            "--to",
            a,
            "--to",
            "alias/replica",
            data.toString());

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout()).contains("-> [" + a + ", " + b + "]").contains("4 blob(s) rewrapped");
    assertThat(payloads()).isEqualTo(payloads);
    for (Path f : plaintexts.keySet()) {
      assertThat(slots(f)).containsExactly(a, b);
      assertThat(decrypt(f, a)).isEqualTo(plaintexts.get(f));
      assertThat(decrypt(f, b)).isEqualTo(plaintexts.get(f));
    }
  }

  @Test
  void aSecondRunSkipsEveryBlobAndChangesNothing() throws IOException {
    assertThat(
            cli.run("rewrap", "--any-context", "--key", a, "--to", b, data.toString()).exitCode())
        .isZero();
    Map<Path, String> after = contents();
    server.resetRequestLog();

    Cli.Result again = cli.run("rewrap", "--any-context", "--key", a, "--to", b, data.toString());

    assertThat(again.exitCode()).as(again.toString()).isZero();
    assertThat(again.stdout())
        .contains("already on target keys: " + data.resolve("a.byok") + " [" + b + "]")
        .contains("0 blob(s) rewrapped, 4 already on target keys, 0 failed")
        .doesNotContain("rewrapped " + data);
    assertThat(contents()).isEqualTo(after);
    assertThat(
            server.requests("Decrypt") + server.requests("ReEncrypt") + server.requests("Encrypt"))
        .as("a finished blob costs no KMS call")
        .isZero();
  }

  @Test
  void aDryRunListsTheChangesAndWritesNothing() throws IOException {
    Path stale = Files.writeString(data.resolve(".b.byok.123.byok-tmp"), "half a blob");
    Map<Path, String> before = contents();

    Cli.Result r =
        cli.run("rewrap", "--any-context", "--key", a, "--to", b, "--dry-run", data.toString());

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout())
        .contains("would rewrap " + data.resolve("b.byok") + ": [" + a + "] -> [" + b + "]")
        .contains("would remove stale temporary file " + stale)
        .contains(
            "dry run, nothing written: 4 blob(s) would be rewrapped, 0 already on target keys, 0 failed");
    assertThat(contents()).isEqualTo(before);
    assertThat(stale).exists();
  }

  @Test
  void aTamperedBlobAndANonBlobAreReportedAndTheOthersAreStillDone() throws IOException {
    Path tampered = data.resolve("b.byok");
    byte[] bytes = Files.readAllBytes(tampered);
    bytes[bytes.length - 20] ^= 1; // inside the last payload segment
    Files.write(tampered, bytes);
    Path notes = Files.writeString(data.resolve("notes.txt"), "not a blob");

    Cli.Result r = cli.run("rewrap", "--any-context", "--key", a, "--to", b, data.toString());

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.INVALID_BLOB);
    assertThat(r.stdout())
        .contains("FAILED " + tampered + ": the blob failed authentication")
        .contains("FAILED " + notes + ": not a byok blob")
        .contains("3 blob(s) rewrapped, 0 already on target keys, 2 failed")
        .contains("payload bytes re-encrypted: 0");
    assertThat(r.stderr())
        .startsWith("byok: 2 blob(s) failed, the others are done; first: " + tampered);
    assertThat(Files.readAllBytes(tampered))
        .as("nothing written for a tampered blob")
        .isEqualTo(bytes);
    assertThat(slots(data.resolve("a.byok"))).containsExactly(b);
    assertThat(slots(data.resolve("sub/c.byok"))).containsExactly(b);
    assertThat(decrypt(data.resolve("sub/d.byok"), b))
        .isEqualTo(plaintexts.get(data.resolve("sub/d.byok")));
  }

  @Test
  void aForgedSlotInFrontOfTheRealOneIsNotCopiedIntoTheNewSlot() throws IOException {
    // a slot under the trusted key A that wraps some other 32 bytes: reading skips it (commitment
    // mismatch), and rewrap must not re-encrypt from it either, or the new slot would wrap the
    // wrong key
    Path f = data.resolve("b.byok");
    EnvelopeHeader h = header(f);
    byte[] other = new byte[32];
    new Random(7).nextBytes(other);
    byte[] forged = server.kms().encrypt(a, other, h.encryptionContext().asMap()).ciphertextBlob();
    EnvelopeHeader planted =
        h.withKeySlots(
            List.of(KeySlot.of(AwsKmsProvider.PROVIDER_ID, a, forged), h.keySlots().get(0)));
    byte[] payload = payload(f);
    try (var out = Files.newOutputStream(f)) {
      out.write(planted.toByteArray(), 0, planted.payloadOffset());
      out.write(payload);
    }
    assertThat(decrypt(f, a)).isEqualTo(plaintexts.get(f));

    Cli.Result r = cli.run("rewrap", "--any-context", "--key", a, "--to", b, f.toString());

    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(decrypt(f, b)).isEqualTo(plaintexts.get(f));
  }

  // ---------------------------------------------------------------- bad command lines and keys

  @Test
  void rewrapRequiresAnExplicitSourceKeySetAndAContext() throws IOException {
    Map<Path, String> before = contents();

    Cli.Result anyKey = cli.run("rewrap", "--any-key", "--any-context", "--to", b, data.toString());
    assertThat(anyKey.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(anyKey.stderr()).contains("--key KEY").contains("planted blob");

    Cli.Result noContext = cli.run("rewrap", "--key", a, "--to", b, data.toString());
    assertThat(noContext.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(noContext.stderr()).contains("--context NAME=VALUE").contains("--any-context");

    Cli.Result both =
        cli.run(
            "rewrap",
            "--key",
            a,
            "--context",
            "file=a.byok",
            "--any-context",
            "--to",
            b,
            data.toString());
    assertThat(both.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(contents()).isEqualTo(before);
  }

  @Test
  void rewrapWithAContextMovesOnlyTheBlobsThatCarryIt() throws IOException {
    Cli.Result r =
        cli.run("rewrap", "--key", a, "--context", "file=a.byok", "--to", b, data.toString());

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.INVALID_BLOB);
    assertThat(r.stdout())
        .contains("rewrapped " + data.resolve("a.byok"))
        .contains("FAILED " + data.resolve("b.byok"))
        .contains("1 blob(s) rewrapped");
    assertThat(decrypt(data.resolve("a.byok"), b))
        .isEqualTo(plaintexts.get(data.resolve("a.byok")));
  }

  @Test
  void noTargetKeyIsAUsageError() {
    Cli.Result r = cli.run("rewrap", "--any-context", "--key", a, data.toString());

    assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(r.stderr()).contains("--to KEY");
  }

  @Test
  void aMissingPathIsAFileError() throws IOException {
    Map<Path, String> before = contents();

    Cli.Result r =
        cli.run(
            "rewrap",
            "--any-context",
            "--key",
            a,
            "--to",
            b,
            data.toString(),
            tmp.resolve("nope").toString());

    assertThat(r.exitCode()).isEqualTo(ExitCodes.IO);
    assertThat(r.stderr()).contains("no such file: " + tmp.resolve("nope"));
    assertThat(contents()).isEqualTo(before);
  }

  @Test
  void aReadKeyThatIsNotTheBlobsKeyIsRefusedAndNothingChanges() throws IOException {
    Map<Path, String> before = contents();

    Cli.Result r = cli.run("rewrap", "--any-context", "--key", c, "--to", b, data.toString());

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.KEY_UNUSABLE);
    assertThat(r.stdout())
        .contains("FAILED " + data.resolve("a.byok") + ": wrong key")
        .contains("4 failed");
    assertThat(contents()).isEqualTo(before);
  }

  @Test
  void aDisabledTargetKeyIsRefusedBeforeAnyBlobIsTouched() throws IOException {
    server.kms().disableKey(b);
    Map<Path, String> before = contents();

    Cli.Result r = cli.run("rewrap", "--any-context", "--key", a, "--to", b, data.toString());

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.KEY_UNUSABLE);
    assertThat(r.stderr()).contains("key " + b + " is disabled");
    assertThat(contents()).isEqualTo(before);
  }

  // ---------------------------------------------------------------- interrupted rewrap resumed

  @Test
  void interruptedRewrapResumedAfterTheKmsFailedMidway() throws IOException {
    Map<Path, String> payloads = payloads();
    afterReEncrypts = 2;
    fault =
        Fault.OUTAGE_AFTER_REENCRYPTS; // blobs 1 and 2 get their new slot, then the KMS goes down

    Cli.Result first = cli.run("rewrap", "--any-context", "--key", a, "--to", b, data.toString());

    assertThat(first.exitCode()).as(first.toString()).isEqualTo(ExitCodes.KMS_UNAVAILABLE);
    assertThat(first.stdout()).contains("2 blob(s) rewrapped, 0 already on target keys, 1 failed");
    assertThat(first.stderr()).contains("run the same command again to finish");
    fault = Fault.NONE;
    server.kms().endOutage(); // the KMS is back: check the files with it, then resume
    assertEachBlobOldOrNew(payloads);
    assertThat(slots(data.resolve("a.byok"))).containsExactly(b);
    assertThat(slots(data.resolve("sub/d.byok"))).containsExactly(a);

    Cli.Result again = cli.run("rewrap", "--any-context", "--key", a, "--to", b, data.toString());

    assertThat(again.exitCode()).as(again.toString()).isZero();
    assertThat(again.stdout())
        .contains("already on target keys: " + data.resolve("a.byok"))
        .contains("rewrapped " + data.resolve("sub/d.byok"))
        .contains("2 blob(s) rewrapped, 2 already on target keys, 0 failed");
    assertAllOn(b, payloads);
  }

  @Test
  void interruptedRewrapResumedAfterTheProcessWasKilled() throws Exception {
    Map<Path, String> payloads = payloads();
    afterReEncrypts = 1;
    fault = Fault.BLOCK_AFTER_REENCRYPTS; // the child hangs in its KMS call for the second blob
    Process child =
        new ProcessBuilder(
                CliProcess.command(
                    "rewrap",
                    "--any-context",
                    "--endpoint",
                    server.endpoint().toString(),
                    "--key",
                    a,
                    "--to",
                    b,
                    data.toString()))
            .redirectError(tmp.resolve("child.err").toFile())
            .start();
    String firstDone;
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(child.getInputStream(), UTF_8))) {
      firstDone = firstLineStartingWith(out, "rewrapped ");
      child.destroyForcibly();
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    fault = Fault.NONE;
    unblock.countDown(); // the server answers again: check the files with it, then resume
    assertThat(firstDone)
        .as("child stderr: %s", Files.readString(tmp.resolve("child.err")))
        .startsWith("rewrapped " + data.resolve("a.byok"));
    assertEachBlobOldOrNew(payloads);
    assertThat(slots(data.resolve("a.byok"))).containsExactly(b);
    assertThat(slots(data.resolve("b.byok"))).containsExactly(a);
    // a kill during a write leaves the atomic write's temporary file: the re-run removes it
    Path stale = Files.writeString(data.resolve(".b.byok.4711.byok-tmp"), "half a blob");

    Cli.Result again = cli.run("rewrap", "--any-context", "--key", a, "--to", b, data.toString());

    assertThat(again.exitCode()).as(again.toString()).isZero();
    assertThat(again.stdout())
        .contains("removed stale temporary file " + stale)
        .contains("3 blob(s) rewrapped, 1 already on target keys, 0 failed");
    assertThat(stale).doesNotExist();
    assertAllOn(b, payloads);
  }

  private static String firstLineStartingWith(BufferedReader out, String prefix)
      throws IOException {
    for (String line = out.readLine(); line != null; line = out.readLine()) {
      if (line.startsWith(prefix)) {
        return line;
      }
    }
    return "(the child ended without printing '" + prefix + "')";
  }

  // ---------------------------------------------------------------- helpers

  /**
   * Every blob is intact, on exactly the old key or the new one, and decrypts under that key alone.
   */
  private void assertEachBlobOldOrNew(Map<Path, String> payloads) throws IOException {
    assertThat(payloads()).isEqualTo(payloads);
    try (Stream<Path> s = Files.walk(data)) {
      assertThat(s.filter(p -> p.toString().endsWith(BlobPaths.TEMP_SUFFIX))).isEmpty();
    }
    for (Path f : plaintexts.keySet()) {
      List<String> slots = slots(f);
      assertThat(slots).as(f.toString()).isIn(List.of(a), List.of(b));
      assertThat(decrypt(f, slots.get(0))).isEqualTo(plaintexts.get(f));
    }
  }

  private void assertAllOn(String key, Map<Path, String> payloads) throws IOException {
    assertThat(payloads()).isEqualTo(payloads);
    for (Path f : plaintexts.keySet()) {
      assertThat(slots(f)).containsExactly(key);
      assertThat(decrypt(f, key)).isEqualTo(plaintexts.get(f));
    }
  }

  private void writeBlob(String name, int size) throws IOException {
    byte[] plain = new byte[size];
    new Random(size).nextBytes(plain);
    Path f = data.resolve(name);
    Files.createDirectories(f.getParent());
    try (Byok byok = Byok.builder().provider(provider).encryptUnder("aws-kms://" + a).build()) {
      byok.encryptFile(writePlain(plain), f, EncryptionContext.of("file", name));
    }
    plaintexts.put(f, plain);
  }

  private Path writePlain(byte[] plain) throws IOException {
    return Files.write(Files.createTempFile(tmp, "plain", ".bin"), plain);
  }

  /**
   * @return the plaintext, trusting only {@code keyArn}
   */
  private byte[] decrypt(Path f, String keyArn) throws IOException {
    try (Byok byok = Byok.builder().provider(provider).encryptUnder("aws-kms://" + keyArn).build();
        InputStream in = byok.newDecryptingStream(Files.newInputStream(f))) {
      return in.readAllBytes();
    }
  }

  private static EnvelopeHeader header(Path f) throws IOException {
    try (InputStream in = Files.newInputStream(f)) {
      return Byok.inspect(in);
    }
  }

  private static List<String> slots(Path f) throws IOException {
    return header(f).keySlots().stream().map(KeySlot::keyArn).toList();
  }

  private long payloadBytes() throws IOException {
    long n = 0;
    for (Path f : plaintexts.keySet()) {
      n += payload(f).length;
    }
    return n;
  }

  /**
   * @return the bytes from the payload offset on: what rewrap must never change
   */
  private static byte[] payload(Path f) throws IOException {
    byte[] all = Files.readAllBytes(f);
    return Arrays.copyOfRange(
        all, Byok.inspect(new ByteArrayInputStream(all)).payloadOffset(), all.length);
  }

  /**
   * @return each blob's payload (from the payload offset on: what rewrap must never change), as a
   *     digest
   */
  private Map<Path, String> payloads() throws IOException {
    Map<Path, String> m = new LinkedHashMap<>();
    for (Path f : plaintexts.keySet()) {
      m.put(f, digest(payload(f)));
    }
    return m;
  }

  /**
   * @return every file under the data directory, with a digest of its bytes
   */
  private Map<Path, String> contents() throws IOException {
    Map<Path, String> m = new LinkedHashMap<>();
    try (Stream<Path> s = Files.walk(data)) {
      for (Path f : s.filter(Files::isRegularFile).sorted().toList()) {
        m.put(f, digest(Files.readAllBytes(f)));
      }
    }
    return m;
  }

  private static String digest(byte[] bytes) {
    try {
      return bytes.length
          + " bytes, sha256 "
          + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
