package dev.byok.cli;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;

/**
 * The process's standard streams, checked once at start-up for a descriptor the shell closed.
 *
 * <p>A command started with {@code <&-} or {@code >&-} has no descriptor 0 or 1; the JVM's own
 * first {@code open} then takes the free number. In practice descriptor 0 becomes the runtime's
 * {@code lib/modules}, so {@code byok encrypt -o x.byok <&-} would encrypt the JVM instead of
 * failing. On Linux, {@link #problem} looks at {@code /proc/self/fd} and {@code /proc/self/fdinfo}
 * and refuses a standard stream that
 *
 * <ul>
 *   <li>is not open at all;
 *   <li>is open in the wrong direction (standard input not readable, output not writable: the JDK
 *       parks a closed 0–2 on {@code /dev/null} opened write-only; the runtime's files are
 *       read-only);
 *   <li>names a file of the running Java runtime ({@code java.home}) or of its class path.
 * </ul>
 *
 * A shell never hands a command such a stream on purpose. Elsewhere (no {@code /proc}) nothing is
 * refused. What cannot be detected: with both {@code <&-} and {@code >&-}, the JVM can leave {@code
 * /dev/null} opened for writing on descriptor 1, like {@code >/dev/null}; output is then discarded,
 * never written to another file. Stateless.
 */
@NullMarked
final class StandardStreams {
  private static final Pattern FLAGS = Pattern.compile("(?m)^flags:\\s*([0-7]+)\\s*$");
  private static final int O_ACCMODE = 3;
  private static final int O_RDONLY = 0;
  private static final int O_WRONLY = 1;

  private StandardStreams() {}

  /** An input the CLI must not read: reading it fails with the reason. */
  static final class Refused extends InputStream {
    private final String reason;

    Refused(String reason) {
      this.reason = reason;
    }

    /**
     * @return e.g. "standard input is closed (...)"
     */
    String reason() {
      return reason;
    }

    @Override
    public int read() throws IOException {
      throw new StdioException(reason, null);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      throw new StdioException(reason, null);
    }
  }

  /**
   * @return the process's stdin, stdout and stderr, each replaced by a refusing stream when {@link
   *     #problem} finds it was not given by the caller
   */
  static CliIo system(boolean interactive, boolean stdoutIsTerminal) {
    Path proc = Path.of("/proc/self");
    Path javaHome = realPath(Path.of(System.getProperty("java.home")));
    Set<Path> classPath = classPath();
    Charset charset = stdoutCharset();
    @Nullable String in = problem(0, false, proc, javaHome, classPath);
    @Nullable String out = problem(1, true, proc, javaHome, classPath);
    @Nullable String err = problem(2, true, proc, javaHome, classPath);
    InputStream stdin =
        in == null ? new FileInputStream(FileDescriptor.in) : new Refused("standard input " + in);
    PrintStream stdout =
        out == null
            ? CheckedPrintStream.of(new FileOutputStream(FileDescriptor.out), charset)
            : CheckedPrintStream.unusable("standard output " + out, charset);
    PrintStream stderr =
        err == null
            ? CheckedPrintStream.of(new FileOutputStream(FileDescriptor.err), charset)
            : CheckedPrintStream.unusable("standard error " + err, charset);
    return new CliIo(stdin, stdout, stderr, interactive, stdoutIsTerminal, System.getenv());
  }

  /**
   * Whether a standard descriptor is what the caller gave this process.
   *
   * @param fd 0, 1 or 2
   * @param write whether the CLI writes it (1, 2) or reads it (0)
   * @param proc {@code /proc/self} (tests pass a directory shaped like it)
   * @param javaHome the running runtime's home, real path
   * @param classPath the class path entries, real paths
   * @return why it must not be used ("is closed (...)"), or {@code null} if it looks right or this
   *     platform cannot tell
   */
  static @Nullable String problem(
      int fd, boolean write, Path proc, Path javaHome, Set<Path> classPath) {
    Path fdDir = proc.resolve("fd");
    if (!Files.isDirectory(fdDir)) {
      return null; // not Linux: cannot tell
    }
    String n = Integer.toString(fd);
    Path target;
    try {
      target = Files.readSymbolicLink(fdDir.resolve(n));
    } catch (NoSuchFileException e) {
      return "is closed (no file descriptor " + n + "; was it closed with " + closeHint(fd) + "?)";
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return null;
    }
    Integer flags = flags(proc.resolve("fdinfo").resolve(n));
    if (flags != null) {
      int mode = flags & O_ACCMODE;
      if (write ? mode == O_RDONLY : mode == O_WRONLY) {
        return reused(fd, target, write ? "open for reading only" : "open for writing only");
      }
    }
    if (target.isAbsolute()
        && (target.startsWith(javaHome) || classPath.contains(target.normalize()))) {
      return reused(fd, target, "a file of the Java runtime running byok");
    }
    return null;
  }

  private static String reused(int fd, Path target, String what) {
    return "is closed (file descriptor "
        + fd
        + " is "
        + target
        + ", "
        + what
        + ": the shell closed it, "
        + closeHint(fd)
        + ", and the JVM reused the number)";
  }

  private static String closeHint(int fd) {
    return fd == 0 ? "<&-" : fd + ">&-";
  }

  private static @Nullable Integer flags(Path fdinfo) {
    try {
      Matcher m = FLAGS.matcher(Files.readString(fdinfo));
      return m.find() ? Integer.parseInt(m.group(1), 8) : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static Set<Path> classPath() {
    Set<Path> entries = new HashSet<>();
    String cp = System.getProperty("java.class.path", "");
    for (String e : cp.split(java.io.File.pathSeparator)) {
      if (!e.isEmpty()) {
        try {
          entries.add(realPath(Path.of(e)));
        } catch (InvalidPathException ex) {
          // not a path: cannot be a descriptor's target either
        }
      }
    }
    return entries;
  }

  private static Path realPath(Path p) {
    try {
      return p.toRealPath();
    } catch (IOException | SecurityException e) {
      return p.toAbsolutePath().normalize();
    }
  }

  /** The encoding {@code System.out} uses (JDK 19+: stdout.encoding; 17: sun.stdout.encoding). */
  private static Charset stdoutCharset() {
    for (String property : new String[] {"stdout.encoding", "sun.stdout.encoding"}) {
      String name = System.getProperty(property);
      if (name != null) {
        try {
          return Charset.forName(name);
        } catch (IllegalArgumentException e) {
          // unknown name: try the next
        }
      }
    }
    return Charset.defaultCharset();
  }
}
