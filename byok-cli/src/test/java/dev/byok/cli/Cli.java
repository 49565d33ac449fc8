package dev.byok.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs the CLI in-process through {@link ByokCli#run} with captured streams — the same code path as
 * {@code java -jar byok.jar}, minus {@code System.exit}. Each instance is one environment
 * (variables, stdin); {@link #run} may be called many times.
 */
final class Cli {
  /**
   * One run's outcome.
   *
   * @param exitCode the exit code
   * @param stdoutBytes standard output, raw
   * @param stderr standard error, UTF-8
   */
  record Result(int exitCode, byte[] stdoutBytes, String stderr) {
    String stdout() {
      return new String(stdoutBytes, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
      return "exit "
          + exitCode
          + "\n--- stdout\n"
          + (stdoutBytes.length > 4096 ? "(" + stdoutBytes.length + " bytes)" : stdout())
          + "\n--- stderr\n"
          + stderr;
    }
  }

  private final Map<String, String> env = new HashMap<>();
  private byte[] stdin = new byte[0];
  private boolean interactive;
  private boolean terminal;

  /**
   * @return a CLI pointed at this endpoint (as BYOK_KMS_ENDPOINT), or at nothing when null
   */
  static Cli withEndpoint(java.net.URI endpoint) {
    return new Cli().env("BYOK_KMS_ENDPOINT", endpoint.toString());
  }

  Cli env(String name, String value) {
    env.put(name, value);
    return this;
  }

  Cli stdin(byte[] bytes) {
    this.stdin = bytes.clone();
    return this;
  }

  Cli interactive(boolean on) {
    this.interactive = on;
    return this;
  }

  /** Makes standard output a terminal (binary output is then refused). */
  Cli stdoutTerminal(boolean on) {
    this.terminal = on;
    return this;
  }

  Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      int code =
          ByokCli.run(
              new CliIo(new ByteArrayInputStream(stdin), o, e, interactive, terminal, env), args);
      o.flush();
      e.flush();
      return new Result(code, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }
  }
}
