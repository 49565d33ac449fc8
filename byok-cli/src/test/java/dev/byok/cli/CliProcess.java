package dev.byok.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Command lines that run the CLI in a child JVM — the same JDK and the test class path — for tests
 * that need a real process: kill it, restart it, give it a terminal. The child runs with the flags
 * {@link Shell} uses ({@link #FAST_START}): a short-lived CLI process spends its CPU compiling with
 * C2 otherwise, which the shared CI cores pay for in every test that starts one.
 */
final class CliProcess {
  /** C1 only and no perf-data file: what a short-lived test child needs, nothing it asserts. */
  static final List<String> FAST_START = List.of("-XX:TieredStopAtLevel=1", "-XX:-UsePerfData");

  private CliProcess() {}

  /**
   * @return {@code java FAST_START [jvmOptions] -cp <test class path> dev.byok.cli.ByokCli args...}
   *     (a later option wins, so {@code jvmOptions} can override {@link #FAST_START})
   */
  static List<String> command(List<String> jvmOptions, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(FAST_START);
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(ByokCli.class.getName());
    cmd.addAll(List.of(args));
    return cmd;
  }

  /**
   * @return {@link #command} with no JVM options
   */
  static List<String> command(String... args) {
    return command(List.of(), args);
  }
}
