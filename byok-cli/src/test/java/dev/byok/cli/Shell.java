package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a bash script in which {@code byok} is the CLI in a child JVM (the same JDK and the test
 * class path): for tests of what only a real process has — its file descriptors closed or
 * redirected by the shell, {@code /dev/full}, a pipe whose reader went away, {@code ulimit}.
 * Skipped where bash is missing.
 */
final class Shell {
  /**
   * A script's outcome.
   *
   * @param exitCode the script's exit status
   * @param stdout its standard output (UTF-8)
   * @param stderr its standard error (UTF-8)
   */
  record Result(int exitCode, String stdout, String stderr) {
    /**
     * @return the lines of standard error
     */
    List<String> stderrLines() {
      return stderr.lines().toList();
    }

    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
    }
  }

  private final Path dir;
  private final URI endpoint;

  /**
   * @param dir the working directory (process outputs are kept there too)
   * @param endpoint the KMS, as BYOK_KMS_ENDPOINT
   */
  Shell(Path dir, URI endpoint) {
    this.dir = dir;
    this.endpoint = endpoint;
  }

  /**
   * @param script bash; {@code byok ARGS} runs the CLI, {@code $BYOK_JAVA} is the java binary
   * @return the outcome, within 60 s
   */
  Result run(String script) throws IOException, InterruptedException {
    assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "bash is not installed");
    String prelude =
        "byok() { \"$BYOK_JAVA\" -XX:TieredStopAtLevel=1 -XX:-UsePerfData -cp \"$BYOK_CP\" "
            + ByokCli.class.getName()
            + " \"$@\"; }\n";
    Path out = Files.createTempFile(dir, "shell", ".out");
    Path err = Files.createTempFile(dir, "shell", ".err");
    ProcessBuilder pb =
        new ProcessBuilder("/bin/bash", "-c", prelude + script)
            .directory(dir.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    pb.environment()
        .put("BYOK_JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    pb.environment().put("BYOK_CP", System.getProperty("java.class.path"));
    pb.environment().put("BYOK_KMS_ENDPOINT", endpoint.toString());
    Process p = pb.start();
    try {
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("script finished: " + script).isTrue();
    } finally {
      p.destroyForcibly();
    }
    return new Result(
        p.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }
}
