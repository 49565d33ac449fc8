package dev.byok.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Command lines that run the CLI in a child JVM — the same JDK and the test class path — for tests
 * that need a real process: kill it, restart it, give it a terminal.
 */
final class CliProcess {
  private CliProcess() {}

  /**
   * @return {@code java [jvmOptions] -cp <test class path> dev.byok.cli.ByokCli args...}
   */
  static List<String> command(List<String> jvmOptions, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
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
