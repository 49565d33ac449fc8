package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged blobs are input problems (exit 3) on every reading command, and the message carries the
 * library's reason code: a key slot whose provider id has one flipped bit (it used to exit 2, "bad
 * command line", or 1), a truncated blob.
 */
class BlobDamageTest {
  @RegisterExtension static final LocalKmsExtension KMS = new LocalKmsExtension();
  private static String key;

  @TempDir Path dir;
  private Cli cli;
  private Path blob;

  @BeforeAll
  static void createKey() {
    key = KMS.createKey("damage");
  }

  @BeforeEach
  void setUp() throws IOException {
    cli = Cli.withEndpoint(KMS.endpoint());
    byte[] plain = new byte[100_000];
    new Random(3).nextBytes(plain);
    Path p = Files.write(dir.resolve("p.bin"), plain);
    blob = dir.resolve("p.bin.byok");
    Cli.Result r = cli.run("encrypt", "--key", key, "-o", blob.toString(), p.toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
  }

  /** Flips the lowest bit of the last character of the first slot's provider id (aws-kms). */
  private Path withFlippedProviderId() throws IOException {
    byte[] b = Files.readAllBytes(blob);
    byte[] id = "aws-kms".getBytes(StandardCharsets.US_ASCII);
    int at = indexOf(b, id);
    assertThat(at).as("the slot's provider id is in the header").isPositive();
    b[at + id.length - 1] ^= 1; // aws-kms -> aws-kmr
    return Files.write(dir.resolve("flipped.byok"), b);
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
        return i;
      }
    }
    return -1;
  }

  private static void invalidBlob(Cli.Result r, String... contains) {
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.INVALID_BLOB);
    assertThat(r.stdout() + r.stderr()).as(r.toString()).contains(contains);
  }

  @Test
  void aFlippedBitInTheSlotProviderIdIsAnInvalidBlobOnEveryReadingCommand() throws IOException {
    Path flipped = withFlippedProviderId();
    int before = KMS.server().requests().size();
    Path out = dir.resolve("out.bin");
    invalidBlob(
        cli.run("decrypt", "--any-key", "-o", out.toString(), flipped.toString()),
        "no key slot of the blob names AWS KMS",
        "'aws-kmr'");
    invalidBlob(
        cli.run("decrypt", "--key", key, "-o", out.toString(), flipped.toString()),
        "no key slot of the blob names AWS KMS");
    invalidBlob(cli.run("verify", "--key", key, flipped.toString()), "FAILED", "aws-kmr");
    invalidBlob(cli.run("verify", "--any-key", flipped.toString()), "FAILED", "aws-kmr");
    invalidBlob(
        cli.stdin(Files.readAllBytes(flipped)).run("decrypt", "--key", key, "-o", out.toString()),
        "no key slot of the blob names AWS KMS");
    invalidBlob(
        cli.run("rewrap", "--key", key, "--any-context", "--to", key, flipped.toString()),
        "no key slot of the blob names AWS KMS");
    assertThat(out).doesNotExist();
    assertThat(KMS.server().requests().subList(before, KMS.server().requests().size()))
        .as("no unwrap: only rewrap's look-up of its --to key")
        .allSatisfy(c -> assertThat(c.operation()).isNotIn("Decrypt", "ReEncrypt"));
  }

  @Test
  void verifyAndDecryptPrintTheLibrarysReasonCode() throws IOException {
    byte[] b = Files.readAllBytes(blob);
    Path cut = Files.write(dir.resolve("cut.byok"), Arrays.copyOf(b, 30)); // inside the header
    Cli.Result v = cli.run("verify", "--key", key, cut.toString());
    invalidBlob(v, "FAILED", "TRUNCATED");
    Cli.Result d =
        cli.run("decrypt", "--key", key, "-o", dir.resolve("c.bin").toString(), cut.toString());
    invalidBlob(d, "TRUNCATED");
    assertThat(d.stderr()).startsWith("byok: ");

    byte[] flipped = b.clone();
    flipped[b.length - 20] ^= 0x10; // inside the last segment's ciphertext
    Path bad = Files.write(dir.resolve("bad.byok"), flipped);
    invalidBlob(cli.run("verify", "--key", key, bad.toString()), "AUTHENTICATION_FAILED");
    invalidBlob(
        cli.stdin(flipped).run("decrypt", "--key", key, "-o", dir.resolve("b.bin").toString()),
        "AUTHENTICATION_FAILED");
  }
}
