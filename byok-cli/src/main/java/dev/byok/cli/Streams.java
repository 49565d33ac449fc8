package dev.byok.cli;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;

/** How encrypt and decrypt map their inputs to outputs. Stateless. */
@NullMarked
final class Streams {
  /** The suffix encrypt adds and decrypt removes. */
  static final String SUFFIX = ".byok";

  /** Whether outputs add or drop {@link #SUFFIX}. */
  enum Naming {
    ADD_SUFFIX,
    DROP_SUFFIX
  }

  /**
   * One file to process.
   *
   * @param source input file
   * @param target output file
   */
  record Job(Path source, Path target) {}

  private Streams() {}

  /**
   * @return whether the inputs mean standard input (none, or a single '-')
   */
  static boolean isStdin(List<Path> inputs) {
    return inputs.isEmpty() || (inputs.size() == 1 && inputs.get(0).toString().equals("-"));
  }

  /**
   * @param inputs files and directories
   * @param output {@code -o}: the output file for a single file input, else the output directory
   * @param naming how output names follow input names
   * @return the files to process, in order
   */
  static List<Job> plan(List<Path> inputs, @Nullable Path output, Naming naming)
      throws IOException {
    if (inputs.stream().anyMatch(p -> p.toString().equals("-"))) {
      throw new CliException(ExitCodes.USAGE, "'-' (standard input) cannot be mixed with files");
    }
    List<BlobPaths.Entry> entries = BlobPaths.expand(inputs);
    boolean single = inputs.size() == 1 && !Files.isDirectory(inputs.get(0));
    List<Job> jobs = new ArrayList<>();
    if (single) {
      Path source = inputs.get(0);
      Path target = output != null ? output : defaultTarget(source, naming);
      if (target.toString().equals("-")) {
        throw new CliException(
            ExitCodes.USAGE,
            "-o - (standard output) works with standard input only; "
                + "read the file from stdin instead: < "
                + source);
      }
      jobs.add(new Job(source, target));
      return jobs;
    }
    if (output == null) {
      throw new CliException(
          ExitCodes.USAGE, "several inputs or a directory need -o DIR for the outputs");
    }
    if (Files.exists(output) && !Files.isDirectory(output)) {
      throw new CliException(
          ExitCodes.USAGE, "-o " + output + " must be a directory for several inputs");
    }
    for (BlobPaths.Entry e : entries) {
      jobs.add(new Job(e.file(), output.resolve(rename(e.relative(), naming))));
    }
    return jobs;
  }

  private static Path defaultTarget(Path source, Naming naming) {
    String name = source.getFileName().toString();
    if (naming == Naming.DROP_SUFFIX && !name.endsWith(SUFFIX)) {
      throw new CliException(
          ExitCodes.USAGE, source + " does not end in " + SUFFIX + "; name the output with -o");
    }
    return source.resolveSibling(rename(source.getFileName(), naming));
  }

  private static Path rename(Path relative, Naming naming) {
    String name = relative.getFileName().toString();
    String renamed =
        switch (naming) {
          case ADD_SUFFIX -> name + SUFFIX;
          case DROP_SUFFIX ->
              name.endsWith(SUFFIX) ? name.substring(0, name.length() - SUFFIX.length()) : name;
        };
    return relative.resolveSibling(renamed);
  }

  /**
   * @throws CliException (usage) when binary output would go to a terminal
   */
  static void refuseBinaryToTerminal(CliIo io, String what) {
    if (io.stdoutIsTerminal()) {
      throw new CliException(
          ExitCodes.USAGE,
          "not writing " + what + " to a terminal: redirect stdout or pass -o FILE");
    }
  }

  /**
   * @return {@code out} that flushes instead of closing (standard output stays open)
   */
  static OutputStream nonClosing(OutputStream out) {
    return new FilterOutputStream(out) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }

      @Override
      public void close() throws IOException {
        flush();
      }
    };
  }
}
