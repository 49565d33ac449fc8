package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A CLI process stopped (SIGTERM, as Ctrl-C stops it) in the middle of writing an output file exits
 * 143 and leaves neither the target nor its temporary file behind.
 */
class InterruptedOutputTest {
  @RegisterExtension static final LocalKmsExtension KMS = new LocalKmsExtension();
  private static String key;

  @TempDir Path dir;

  @BeforeAll
  static void createKey() {
    key = KMS.createKey("interrupt");
  }

  private List<Path> temporaryFiles() throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(BlobPaths.TEMP_SUFFIX)).toList();
    }
  }

  @Test
  void stoppedMidWriteLeavesNoOutputAndNoTemporaryFile() throws Exception {
    Path target = dir.resolve("out.byok");
    Process p =
        new ProcessBuilder(
                CliProcess.command(
                    "encrypt",
                    "--endpoint",
                    KMS.endpoint().toString(),
                    "--key",
                    key,
                    "-o",
                    target.toString()))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(dir.resolve("err.txt").toFile())
            .start();
    try {
      OutputStream stdin = p.getOutputStream();
      stdin.write(new byte[1 << 20]); // more than a segment: encryption has begun; stdin stays open
      stdin.flush();
      Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
      while (temporaryFiles().isEmpty()) {
        assertThat(p.isAlive()).as("the CLI is still reading stdin").isTrue();
        assertThat(Instant.now()).as("a temporary output file appears").isBefore(deadline);
        Thread.onSpinWait();
      }
      // SIGTERM (shutdown hooks run, as on Ctrl-C) through the handle: Process.destroy() would also
      // close our end of stdin, and a CLI that saw end-of-input first would rightly finish the file
      p.toHandle().destroy();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue())
          .as("128 + SIGTERM, as docs/cli.md says")
          .isEqualTo(ExitCodes.TERMINATED);
    } finally {
      p.destroyForcibly();
    }
    assertThat(target).doesNotExist();
    assertThat(temporaryFiles()).isEmpty();
  }
}
