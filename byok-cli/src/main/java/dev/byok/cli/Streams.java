package dev.byok.cli;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
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
   * @return standard input, for a command that reads it
   * @throws CliException (file problem) if the shell closed it ({@code <&-}): the descriptor may
   *     then be a file of the JVM's own
   */
  static InputStream stdin(CliIo io) {
    if (io.in() instanceof StandardStreams.Refused r) {
      throw new CliException(
          ExitCodes.IO, r.reason() + "; give the input as a file argument, or redirect it: < FILE");
    }
    return io.in();
  }

  /**
   * Binary output to standard output: every write is checked (a full disk, a closed descriptor or a
   * broken pipe fails at once with a {@link StdioException}); closing flushes and checks but leaves
   * standard output open. Buffered; close it to flush.
   *
   * @throws CliException (file problem) if the shell closed standard output ({@code >&-})
   */
  static OutputStream stdout(CliIo io) {
    PrintStream out = io.out();
    if (out instanceof CheckedPrintStream c && c.unusable() != null) {
      throw new CliException(ExitCodes.IO, c.unusable() + "; pass -o FILE, or redirect it: > FILE");
    }
    OutputStream checked =
        new OutputStream() {
          @Override
          public void write(int b) throws IOException {
            out.write(b);
            check(out, "standard output");
          }

          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            check(out, "standard output");
          }

          @Override
          public void flush() throws IOException {
            check(out, "standard output");
          }

          @Override
          public void close() throws IOException {
            flush();
          }
        };
    return new BufferedOutputStream(checked, 1 << 16);
  }

  /**
   * Flushes {@code out} and fails if any write to it failed so far.
   *
   * @param name "standard output"
   * @throws StdioException naming the failure (disk full, broken pipe, closed)
   */
  static void check(PrintStream out, String name) throws StdioException {
    boolean error = out.checkError(); // flushes
    @Nullable IOException cause = out instanceof CheckedPrintStream c ? c.failure() : null;
    if (error || cause != null) {
      throw StdioException.cannotWrite(name, cause);
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
