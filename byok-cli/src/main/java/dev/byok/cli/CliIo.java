package dev.byok.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;

/**
 * Where a CLI run reads and writes: standard streams, whether a person is watching (progress bars,
 * refusing binary output to a terminal) and the environment it takes defaults from. Tests pass
 * their own; {@link #system()} is the real process. Immutable.
 *
 * @param in standard input (plaintext or ciphertext for {@code -})
 * @param out standard output (data for {@code -}, and reports)
 * @param err standard error (progress, warnings, errors)
 * @param interactive whether standard error is a terminal a person watches (progress bars)
 * @param stdoutIsTerminal whether standard output is a terminal (binary output is refused there)
 * @param env environment variables ({@code BYOK_KMS_ENDPOINT}, {@code AWS_REGION}, ...)
 */
@NullMarked
public record CliIo(
    InputStream in,
    PrintStream out,
    PrintStream err,
    boolean interactive,
    boolean stdoutIsTerminal,
    Map<String, String> env) {

  /** Validates and copies. */
  public CliIo {
    Objects.requireNonNull(in, "in");
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(err, "err");
    env = Map.copyOf(env);
  }

  /**
   * The process's streams: standard output and error remember why a write failed (a plain {@code
   * System.out} swallows it), and a standard stream the shell closed ({@code <&-}, {@code >&-}),
   * whose number the JVM then reused for one of its own files, is replaced by one that refuses
   * every read or write with that reason.
   *
   * @return the process's streams and environment; {@code interactive} when standard error is a
   *     terminal, {@code stdoutIsTerminal} when standard output is
   */
  public static CliIo system() {
    boolean console = System.console() != null;
    return StandardStreams.system(isTerminal(2, console), isTerminal(1, console));
  }

  /**
   * Whether a standard stream is a terminal. Java has no isatty: where {@code /proc} shows the file
   * descriptor (Linux) its target says; elsewhere {@link System#console()} (stdin and stdout both
   * terminals) stands in.
   */
  static boolean isTerminal(int fd, boolean fallback) {
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
      return target.startsWith("/dev/pts/")
          || target.startsWith("/dev/tty")
          || target.equals("/dev/console");
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return fallback;
    }
  }

  /**
   * @param name an environment variable
   * @return its value, or {@code null} if unset or blank
   */
  public @Nullable String env(String name) {
    String v = env.get(name);
    return v == null || v.isBlank() ? null : v;
  }
}
