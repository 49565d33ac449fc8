package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI as a process on a real pseudo-terminal (util-linux {@code script}): the progress bar
 * appears on a terminal and not when redirected, and ciphertext is never written to a terminal.
 * Skipped where {@code script} is missing.
 */
class TerminalTest {
  @RegisterExtension static final LocalKmsExtension KMS = new LocalKmsExtension();
  private static String key;

  @TempDir Path dir;

  @BeforeAll
  static void createKey() {
    key = KMS.createKey("tty");
  }

  private static String javaCommand() {
    return String.join(" ", CliProcess.command());
  }

  /** Runs {@code shellCommand} under {@code script}, so its standard streams are a terminal. */
  private static Result onTerminal(Path dir, String shellCommand)
      throws IOException, InterruptedException {
    assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/script")), "util-linux script(1) is not installed");
    return run(dir, List.of("/usr/bin/script", "-qec", shellCommand, "/dev/null"));
  }

  private static Result run(Path dir, List<String> command)
      throws IOException, InterruptedException {
    Path out = dir.resolve("process.out");
    ProcessBuilder pb =
        new ProcessBuilder(new ArrayList<>(command))
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .redirectInput(ProcessBuilder.Redirect.PIPE);
    Process p = pb.start();
    p.getOutputStream().close();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("process finished").isTrue();
    return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
  }

  private record Result(int exitCode, String output) {}

  @Test
  void progressBarOnATerminalForLargeInputs() throws Exception {
    Path big = Files.write(dir.resolve("big.bin"), new byte[20 << 20]);
    String cmd =
        javaCommand() + " encrypt --endpoint " + KMS.endpoint() + " --key " + key + " " + big;
    Result tty = onTerminal(dir, cmd);
    assertThat(tty.exitCode()).as(tty.output()).isZero();
    assertThat(tty.output()).contains("big.bin").contains("100%").contains("MiB");
    assertThat(dir.resolve("big.bin.byok")).exists();

    Result redirected = run(dir, List.of("/bin/sh", "-c", cmd + " --force"));
    assertThat(redirected.exitCode()).as(redirected.output()).isZero();
    assertThat(redirected.output()).doesNotContain("%").contains("encrypted " + big);
  }

  @Test
  void ciphertextIsNotWrittenToATerminal() throws Exception {
    Path small = Files.writeString(dir.resolve("small.txt"), "hello");
    Result tty =
        onTerminal(
            dir,
            javaCommand()
                + " encrypt --endpoint "
                + KMS.endpoint()
                + " --key "
                + key
                + " < "
                + small);
    assertThat(tty.exitCode()).as(tty.output()).isEqualTo(ExitCodes.USAGE);
    assertThat(tty.output()).contains("not writing ciphertext to a terminal");
  }
}
