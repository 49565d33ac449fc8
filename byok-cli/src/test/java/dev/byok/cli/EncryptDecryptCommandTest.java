package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * encrypt, decrypt, inspect and verify through {@link ByokCli#run}, with the real AWS SDK talking
 * over loopback to byok-kms-local's LocalKmsServer.
 */
class EncryptDecryptCommandTest {
  @RegisterExtension static final LocalKmsExtension KMS = new LocalKmsExtension();
  private static String keyA;
  private static String keyB;

  @TempDir Path dir;
  private Cli cli;

  @BeforeAll
  static void createKeys() {
    keyA = KMS.createKey("A");
    keyB = KMS.createKey("B");
    KMS.api().createAlias("alias/cli-a", keyA);
  }

  @BeforeEach
  void setUp() {
    cli = Cli.withEndpoint(KMS.endpoint());
  }

  private Path file(String name, int size) throws IOException {
    byte[] data = new byte[size];
    new Random(size).nextBytes(data);
    Path p = dir.resolve(name);
    Files.createDirectories(p.getParent());
    return Files.write(p, data);
  }

  private static Cli.Result ok(Cli.Result r) {
    assertThat(r.exitCode()).as(r.toString()).isZero();
    return r;
  }

  @Test
  void fileRoundTripNamesOutputsAndInspectShowsTheHeaderWithoutKms() throws IOException {
    Path plain = file("data.bin", 200_000);
    Cli.Result enc =
        ok(
            cli.run(
                "encrypt",
                "--key",
                "alias/cli-a",
                "--context",
                "repo=r1",
                "--context",
                "snap=s1",
                plain.toString()));
    Path blob = dir.resolve("data.bin.byok");
    assertThat(enc.stdout()).contains("encrypted " + plain + " -> " + blob);
    assertThat(Files.readAllBytes(blob)).isNotEqualTo(Files.readAllBytes(plain));

    int before = KMS.server().requests().size();
    Cli.Result insp = ok(new Cli().run("inspect", blob.toString()));
    assertThat(KMS.server().requests()).hasSize(before);
    assertThat(insp.stdout())
        .contains("byok v1", "segment size   65536 bytes", "repo=r1, snap=s1", "aws-kms://" + keyA)
        .contains("200000 bytes plaintext");

    Files.delete(plain);
    Cli.Result dec =
        ok(
            cli.run(
                "decrypt",
                "--key",
                "alias/cli-a",
                "--context",
                "repo=r1",
                "--context",
                "snap=s1",
                blob.toString()));
    assertThat(dec.stdout()).contains("-> " + plain);
    assertThat(Files.readAllBytes(plain)).isEqualTo(fileBytes(200_000));
  }

  private static byte[] fileBytes(int size) {
    byte[] data = new byte[size];
    new Random(size).nextBytes(data);
    return data;
  }

  @Test
  void stdinToStdoutRoundTripWithReplicaKeysEitherOfWhichDecrypts() {
    byte[] plain = "snapshot manifest\n".repeat(5000).getBytes(StandardCharsets.UTF_8);
    Cli.Result enc =
        ok(cli.stdin(plain).run("encrypt", "--key", keyA, "--key", "aws-kms://" + keyB));
    byte[] blob = enc.stdoutBytes();

    Cli.Result json = ok(new Cli().stdin(blob).run("inspect", "--json"));
    JsonObject o = JsonParser.parseString(json.stdout()).getAsJsonObject();
    JsonArray slots = o.getAsJsonArray("keySlots");
    assertThat(slots).hasSize(2);
    assertThat(slots.get(0).getAsJsonObject().get("keyArn").getAsString()).isEqualTo(keyA);
    assertThat(slots.get(1).getAsJsonObject().get("keyArn").getAsString()).isEqualTo(keyB);

    for (String key : new String[] {keyA, keyB}) {
      Cli.Result dec =
          ok(Cli.withEndpoint(KMS.endpoint()).stdin(blob).run("decrypt", "--key", key));
      assertThat(dec.stdoutBytes()).isEqualTo(plain);
    }
    Cli.Result any = ok(Cli.withEndpoint(KMS.endpoint()).stdin(blob).run("decrypt", "--any-key"));
    assertThat(any.stdoutBytes()).isEqualTo(plain);
  }

  @Test
  void directoriesAreMirroredAndVerifiedAndDecryptedBack() throws IOException {
    file("snap/index-0", 10);
    file("snap/data/seg-1", 70_000);
    file("snap/data/seg-2", 0);
    Path out = dir.resolve("enc");
    Cli.Result enc =
        ok(cli.run("encrypt", "--key", keyA, "-o", out.toString(), dir.resolve("snap").toString()));
    assertThat(enc.stdout().lines()).hasSize(3);
    assertThat(out.resolve("data/seg-1.byok")).exists();

    Cli.Result ver = ok(cli.run("verify", "--key", keyA, out.toString()));
    assertThat(ver.stdout())
        .contains("3 of 3 blobs authentic")
        .contains("OK      " + out.resolve("data/seg-1.byok"));

    Path back = dir.resolve("back");
    ok(cli.run("decrypt", "--key", keyA, "-o", back.toString(), out.toString()));
    for (String rel : new String[] {"index-0", "data/seg-1", "data/seg-2"}) {
      assertThat(back.resolve(rel)).hasSameBinaryContentAs(dir.resolve("snap").resolve(rel));
    }
  }

  @Test
  void existingOutputsAreKeptUnlessForced() throws IOException {
    Path plain = file("a.txt", 100);
    Path blob = dir.resolve("a.txt.byok");
    Files.writeString(blob, "precious");
    Cli.Result r = cli.run("encrypt", "--key", keyA, plain.toString());
    assertThat(r.exitCode()).isEqualTo(ExitCodes.IO);
    assertThat(r.stderr()).contains("already exists; pass --force");
    assertThat(blob).hasContent("precious");
    ok(cli.run("encrypt", "--key", keyA, "--force", plain.toString()));
    assertThat(Files.size(blob)).isGreaterThan(100);
  }

  @Test
  void tamperedAndTruncatedBlobsLeaveNoOutputAndExit3() throws IOException {
    Path plain = file("t.bin", 150_000);
    ok(cli.run("encrypt", "--key", keyA, "--segment-size", "4096", plain.toString()));
    Path blob = dir.resolve("t.bin.byok");
    byte[] good = Files.readAllBytes(blob);
    byte[] bad = good.clone();
    bad[bad.length - 1000] ^= 1;
    Path tampered = Files.write(dir.resolve("tampered.byok"), bad);
    // cut to a length no plaintext encrypts to, which the CLI refuses before any KMS call
    dev.byok.EnvelopeHeader header = dev.byok.Byok.inspect(new java.io.ByteArrayInputStream(good));
    int cut = 1;
    while (possibleLength(header, good.length - cut)) {
      cut++;
    }
    Path truncated =
        Files.write(
            dir.resolve("truncated.byok"), java.util.Arrays.copyOf(good, good.length - cut));

    for (Path p : new Path[] {tampered, truncated}) {
      Path target = dir.resolve("out-" + p.getFileName());
      Cli.Result r = cli.run("decrypt", "--key", keyA, "-o", target.toString(), p.toString());
      assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.INVALID_BLOB);
      assertThat(r.stderr()).startsWith("byok: ").doesNotContain("\tat ");
      assertThat(target).doesNotExist();
    }
    assertThat(cli.run("decrypt", "--key", keyA, "-o", "x", tampered.toString()).stderr())
        .contains("failed authentication: it was modified or damaged");
    assertThat(cli.run("decrypt", "--key", keyA, "-o", "y", truncated.toString()).stderr())
        .contains("truncated");
    try (Stream<Path> s = Files.list(dir)) {
      assertThat(s.map(Path::toString)).noneMatch(n -> n.endsWith(BlobPaths.TEMP_SUFFIX));
    }

    Cli.Result ver =
        cli.run(
            "verify", "--key", keyA, blob.toString(), tampered.toString(), truncated.toString());
    assertThat(ver.exitCode()).isEqualTo(ExitCodes.INVALID_BLOB);
    assertThat(ver.stdout())
        .contains(
            "OK      " + blob,
            "FAILED  " + tampered,
            "FAILED  " + truncated,
            "1 of 3 blobs authentic, 2 FAILED");
  }

  private static boolean possibleLength(dev.byok.EnvelopeHeader h, long length) {
    try {
      h.plaintextLength(length);
      return true;
    } catch (dev.byok.InvalidCiphertextException e) {
      return false;
    }
  }

  @Test
  void wrongKeyWrongContextAndNotABlobAreNamed() throws IOException {
    Path plain = file("w.bin", 1000);
    ok(cli.run("encrypt", "--key", keyA, "--context", "tenant=t1", plain.toString()));
    Path blob = dir.resolve("w.bin.byok");

    Cli.Result wrongKey = cli.run("decrypt", "--key", keyB, "-o", "-", blob.toString());
    assertThat(wrongKey.exitCode()).isEqualTo(ExitCodes.USAGE); // stdout output only for stdin
    wrongKey =
        cli.run("decrypt", "--key", keyB, "-o", dir.resolve("w1").toString(), blob.toString());
    assertThat(wrongKey.exitCode()).as(wrongKey.toString()).isEqualTo(ExitCodes.KEY_UNUSABLE);
    assertThat(wrongKey.stderr()).contains("wrong key", keyA, "pass --key");

    Cli.Result wrongCtx =
        cli.run(
            "decrypt",
            "--key",
            keyA,
            "--context",
            "tenant=t2",
            "-o",
            dir.resolve("w2").toString(),
            blob.toString());
    assertThat(wrongCtx.exitCode()).isEqualTo(ExitCodes.INVALID_BLOB);
    assertThat(wrongCtx.stderr()).contains("encryption context does not match");

    Cli.Result notBlob = new Cli().run("inspect", plain.toString());
    assertThat(notBlob.exitCode()).isEqualTo(ExitCodes.INVALID_BLOB);
    assertThat(notBlob.stderr()).contains("not a byok blob");
    assertThat(dir.resolve("w1")).doesNotExist();
    assertThat(dir.resolve("w2")).doesNotExist();
  }

  @Test
  void disabledKeyIsReportedWithWhatToDo() throws IOException {
    String key = KMS.api().createKey("to disable").arn();
    Path plain = file("d.bin", 1000);
    ok(cli.run("encrypt", "--key", key, plain.toString()));
    KMS.api().disableKey(key);
    try {
      Cli.Result r =
          cli.run(
              "decrypt",
              "--key",
              key,
              "-o",
              dir.resolve("d.out").toString(),
              dir.resolve("d.bin.byok").toString());
      assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.KEY_UNUSABLE);
      assertThat(r.stderr()).contains("is disabled; enable it (byok kms enable");
      Cli.Result e = cli.run("encrypt", "--key", key, "--force", plain.toString());
      assertThat(e.exitCode()).isEqualTo(ExitCodes.KEY_UNUSABLE);
    } finally {
      KMS.api().enableKey(key);
    }
  }

  @Test
  void unreachableKmsExits5WithoutStackTraceUnlessVerbose() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path plain = file("u.bin", 10);
    Cli down = new Cli().env("BYOK_KMS_ENDPOINT", "http://127.0.0.1:" + port);
    Cli.Result r = down.run("encrypt", "--key", keyA, plain.toString());
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.KMS_UNAVAILABLE);
    assertThat(r.stderr()).contains("could not be reached", "--endpoint").doesNotContain("\tat ");
    assertThat(dir.resolve("u.bin.byok")).doesNotExist();
    Cli.Result v = down.run("encrypt", "--verbose", "--key", keyA, plain.toString());
    assertThat(v.exitCode()).isEqualTo(ExitCodes.KMS_UNAVAILABLE);
    assertThat(v.stderr()).contains("\tat ");
  }

  /**
   * A reader configured with an alias must resolve it to check the blob's key: while the KMS is
   * down that is an outage (exit 5, retry), never "wrong key" (exit 4), and it reads again as soon
   * as the KMS is back.
   */
  @Test
  void anOutageWhileResolvingTheReadersAliasExits5NotWrongKeyAndRecoversAtOnce()
      throws IOException {
    Path plain = file("o.bin", 1000);
    ok(cli.run("encrypt", "--key", keyA, plain.toString()));
    Path blob = dir.resolve("o.bin.byok");
    Path out = dir.resolve("o.out");
    KMS.api().startOutage();
    Cli.Result r;
    try {
      r = cli.run("decrypt", "--key", "alias/cli-a", "-o", out.toString(), blob.toString());
    } finally {
      KMS.api().endOutage();
    }
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.KMS_UNAVAILABLE);
    assertThat(r.stderr()).doesNotContain("wrong key");
    assertThat(out).doesNotExist();
    ok(cli.run("decrypt", "--key", "alias/cli-a", "-o", out.toString(), blob.toString()));
    assertThat(Files.readAllBytes(out)).isEqualTo(fileBytes(1000));
  }

  @Test
  void badCommandLinesExit2WithAHint() throws IOException {
    Path plain = file("b.bin", 10);
    Cli.Result help = ok(cli.run("decrypt", "--help"));
    assertThat(help.stdout()).contains("--any-key", "--context", "--endpoint");
    Cli.Result unknown = cli.run("encrypt", "--key", keyA, "--frobnicate", plain.toString());
    assertThat(unknown.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(unknown.stderr()).contains("Unknown option: '--frobnicate'");
    Cli.Result noKey = cli.run("encrypt", plain.toString());
    assertThat(noKey.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(noKey.stderr()).contains("--key");
    Cli.Result noTrust = cli.run("decrypt", "x.byok");
    assertThat(noTrust.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(noTrust.stderr()).contains("--key KEY", "--any-key");
    Cli.Result badSegment =
        cli.run("encrypt", "--key", keyA, "--segment-size", "12", plain.toString());
    assertThat(badSegment.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(badSegment.stderr()).contains("12");
    Cli.Result severalNoOut = cli.run("encrypt", "--key", keyA, plain.toString(), plain.toString());
    assertThat(severalNoOut.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(severalNoOut.stderr()).contains("-o DIR");
    Cli.Result missing = cli.run("encrypt", "--key", keyA, dir.resolve("nope").toString());
    assertThat(missing.exitCode()).isEqualTo(ExitCodes.IO);
    assertThat(missing.stderr()).contains("no such file: " + dir.resolve("nope"));
    Cli.Result toTerminal =
        Cli.withEndpoint(KMS.endpoint())
            .stdoutTerminal(true)
            .stdin(new byte[3])
            .run("encrypt", "--key", keyA);
    assertThat(toTerminal.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(toTerminal.stderr()).contains("not writing ciphertext to a terminal");
  }

  @Test
  void progressBarGoesToStderrWhenAskedAndNotByDefaultOffTerminal() throws IOException {
    Path plain = file("p.bin", 3 << 20);
    Cli.Result quiet = ok(cli.run("encrypt", "--key", keyA, plain.toString()));
    assertThat(quiet.stderr()).isEmpty();
    Cli.Result bar =
        ok(cli.run("encrypt", "--key", keyA, "--force", "--progress", "always", plain.toString()));
    assertThat(bar.stderr()).contains("p.bin").contains("MiB");
  }
}
