package dev.byok.cli;

import java.nio.file.Path;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** Where encrypt and decrypt write, and how: a picocli mixin. Not thread-safe. */
@NullMarked
final class OutputOptions {
  @Option(
      names = {"-o", "--output"},
      paramLabel = "PATH",
      description = "output file, directory, or '-' for stdout")
  @Nullable Path output;

  @Option(names = "--force", description = "overwrite existing outputs")
  boolean force;

  @Option(
      names = "--progress",
      paramLabel = "WHEN",
      description =
          "progress bar on stderr: ${COMPLETION-CANDIDATES} (default: auto = on a terminal, inputs >= 16 MiB)")
  Progress progress = Progress.AUTO;

  /**
   * @return whether output goes to standard output (no -o, or -o -)
   */
  boolean toStdout() {
    return output == null || output.toString().equals("-");
  }
}
