package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Output the CLI cannot write is a failure, never a silent exit 0: each case runs the CLI as a real
 * process from bash — {@code /dev/full}, a closed standard output, a pipe whose reader left ({@code
 * | head -c 10}), a full tmpfs, a file-size limit — and expects exit 6 with one {@code byok:} line,
 * and no output file that looks complete. A closed standard input is refused, not replaced by
 * whatever file the JVM opened on descriptor 0.
 */
class OutputFailureTest {
  @RegisterExtension static final LocalKmsExtension KMS = new LocalKmsExtension();
  private static final int PLAINTEXT_BYTES = 1 << 20; // more than a pipe buffer (64 KiB)
  private static String key;

  @TempDir static Path data;
  @TempDir Path dir;
  private Shell shell;

  @BeforeAll
  static void createKeyAndBlob() throws IOException {
    key = KMS.createKey("output");
    byte[] plain = new byte[PLAINTEXT_BYTES];
    new Random(7).nextBytes(plain);
    Files.write(data.resolve("plain.bin"), plain);
    Cli.Result r =
        Cli.withEndpoint(KMS.endpoint())
            .run(
                "encrypt",
                "--key",
                key,
                "-o",
                data.resolve("blob.byok").toString(),
                data.resolve("plain.bin").toString());
    assertThat(r.exitCode()).as(r.toString()).isZero();
  }

  @BeforeEach
  void setUp() throws IOException {
    shell = new Shell(dir, KMS.endpoint());
    Files.copy(data.resolve("plain.bin"), dir.resolve("plain.bin"));
    Files.copy(data.resolve("blob.byok"), dir.resolve("blob.byok"));
  }

  /** Exit 6 and exactly one line on stderr, starting with "byok: " and containing {@code what}. */
  private static void failsWith6(Shell.Result r, String what) {
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.IO);
    assertThat(r.stderrLines()).as(r.toString()).hasSize(1);
    assertThat(r.stderrLines().get(0)).startsWith("byok: ").contains(what);
  }

  private static List<Path> files(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.sorted().toList();
    }
  }

  private List<Path> temporaryFiles(Path d) throws IOException {
    return files(d).stream()
        .filter(p -> p.getFileName().toString().endsWith(BlobPaths.TEMP_SUFFIX))
        .toList();
  }

  @Test
  void redirectedStandardStreamsRoundTrip() throws Exception {
    Shell.Result r =
        shell.run(
            "byok encrypt --key "
                + key
                + " < plain.bin > s.byok && byok decrypt --key "
                + key
                + " < s.byok > back.bin");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(dir.resolve("back.bin")).hasSameBinaryContentAs(dir.resolve("plain.bin"));
  }

  @Test
  void encryptToDevFullFails() throws Exception {
    failsWith6(
        shell.run("byok encrypt --key " + key + " < plain.bin > /dev/full"),
        "cannot write standard output: No space left on device");
  }

  @Test
  void decryptToDevFullFails() throws Exception {
    failsWith6(
        shell.run("byok decrypt --key " + key + " < blob.byok > /dev/full"),
        "cannot write standard output: No space left on device");
  }

  @Test
  void aReportToDevFullFails() throws Exception {
    failsWith6(
        shell.run("byok inspect blob.byok > /dev/full"),
        "cannot write standard output: No space left on device");
  }

  @Test
  void ciphertextToAClosedStandardOutputIsRefusedBeforeAnyWork() throws Exception {
    int before = KMS.server().requests().size();
    Shell.Result r = shell.run("byok encrypt --key " + key + " < plain.bin >&-");
    failsWith6(r, "standard output is closed");
    assertThat(KMS.server().requests()).as("no KMS call").hasSize(before);
  }

  @Test
  void aReportToAClosedStandardOutputFails() throws Exception {
    failsWith6(shell.run("byok inspect blob.byok >&-"), "standard output is closed");
  }

  @Test
  void encryptIntoAPipeWhoseReaderLeftFails() throws Exception {
    Shell.Result r =
        shell.run(
            "byok encrypt --key "
                + key
                + " < plain.bin | head -c 10 > head.out; exit ${PIPESTATUS[0]}");
    failsWith6(r, "cannot write standard output: Broken pipe");
    assertThat(dir.resolve("head.out")).hasSize(10);
  }

  @Test
  void decryptIntoAPipeWhoseReaderLeftFails() throws Exception {
    Shell.Result r =
        shell.run(
            "byok decrypt --key "
                + key
                + " < blob.byok | head -c 10 > head.out; exit ${PIPESTATUS[0]}");
    failsWith6(r, "cannot write standard output: Broken pipe");
  }

  @Test
  void encryptFromAClosedStandardInputIsRefused() throws Exception {
    int before = KMS.server().requests().size();
    Shell.Result r = shell.run("byok encrypt --key " + key + " -o x.byok <&-");
    failsWith6(r, "standard input is closed");
    assertThat(KMS.server().requests()).as("no KMS call").hasSize(before);
    assertThat(dir.resolve("x.byok")).doesNotExist();
    assertThat(temporaryFiles(dir)).isEmpty();
  }

  @Test
  void decryptFromAClosedStandardInputIsRefused() throws Exception {
    Shell.Result r = shell.run("byok decrypt --key " + key + " -o x.bin <&-");
    failsWith6(r, "standard input is closed");
    assertThat(dir.resolve("x.bin")).doesNotExist();
    assertThat(temporaryFiles(dir)).isEmpty();
  }

  @Test
  void aFileSizeLimitLeavesNoOutputFile() throws Exception {
    // ulimit -f: writes past 128 KiB fail with EFBIG (the JVM ignores SIGXFSZ); no root needed
    Shell.Result r =
        shell.run("ulimit -f 128; byok encrypt --key " + key + " -o limited.byok plain.bin");
    failsWith6(r, "File too large");
    assertThat(dir.resolve("limited.byok")).doesNotExist();
    assertThat(temporaryFiles(dir)).isEmpty();
  }

  @Test
  void aFullDiskLeavesNoOutputFile() throws Exception {
    try (Tmpfs disk = Tmpfs.mount(dir.resolve("small"), "256k")) {
      Shell.Result enc = shell.run("byok encrypt --key " + key + " -o small/p.byok plain.bin");
      failsWith6(enc, "No space left on device");
      Shell.Result dec = shell.run("byok decrypt --key " + key + " -o small/p.bin blob.byok");
      failsWith6(dec, "No space left on device");
      assertThat(files(disk.dir())).as("neither output nor temporary file").isEmpty();
    }
  }

  @Test
  void standardOutputOnAFullDiskFails() throws Exception {
    try (Tmpfs disk = Tmpfs.mount(dir.resolve("small"), "256k")) {
      failsWith6(
          shell.run("byok encrypt --key " + key + " < plain.bin > small/s.byok"),
          "cannot write standard output: No space left on device");
      failsWith6(
          shell.run("byok decrypt --key " + key + " < blob.byok > small/s.bin"),
          "cannot write standard output: No space left on device");
      assertThat(disk.dir()).isDirectory();
    }
  }
}
