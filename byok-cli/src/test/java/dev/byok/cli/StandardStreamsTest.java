package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rule that tells a standard stream the shell gave from one it closed and the JVM reused, on a
 * directory shaped like {@code /proc/self} (the real-process cases are in OutputFailureTest).
 */
class StandardStreamsTest {
  private static final int O_RDONLY = 0;
  private static final int O_WRONLY = 1;
  private static final int O_RDWR = 2;
  private static final int O_LARGEFILE = 0100000;

  @TempDir Path tmp;
  private Path proc;
  private Path javaHome;
  private Path jar;

  @BeforeEach
  void setUp() throws IOException {
    proc = Files.createDirectories(tmp.resolve("proc"));
    Files.createDirectories(proc.resolve("fd"));
    Files.createDirectories(proc.resolve("fdinfo"));
    javaHome = tmp.resolve("jdk");
    jar = tmp.resolve("lib/byok.jar");
  }

  private void fd(int fd, String target, int flags) throws IOException {
    Files.createSymbolicLink(proc.resolve("fd/" + fd), Path.of(target));
    Files.writeString(
        proc.resolve("fdinfo/" + fd),
        "pos:\t0\nflags:\t0" + Integer.toOctalString(flags) + "\nmnt_id:\t27\n");
  }

  private String problem(int fd, boolean write) {
    return StandardStreams.problem(fd, write, proc, javaHome, Set.of(jar));
  }

  @Test
  void whatAShellGivesIsAccepted() throws IOException {
    fd(0, "/home/u/data.bin", O_RDONLY | O_LARGEFILE); // < data.bin
    fd(1, "pipe:[4711]", O_WRONLY); // | next
    fd(2, "/dev/pts/3", O_RDWR | O_LARGEFILE); // the terminal
    assertThat(problem(0, false)).isNull();
    assertThat(problem(1, true)).isNull();
    assertThat(problem(2, true)).isNull();
  }

  @Test
  void aClosedDescriptorIsRefused() {
    assertThat(problem(0, false)).startsWith("is closed").contains("<&-");
    assertThat(problem(1, true)).startsWith("is closed").contains("1>&-");
  }

  @Test
  void theRuntimesOwnFilesAreRefused() throws IOException {
    fd(0, javaHome.resolve("lib/modules").toString(), O_RDONLY | O_LARGEFILE);
    fd(1, jar.toString(), O_RDWR);
    assertThat(problem(0, false))
        .startsWith("is closed")
        .contains("lib/modules", "a file of the Java runtime");
    assertThat(problem(1, true)).startsWith("is closed").contains("byok.jar");
  }

  @Test
  void aDescriptorOpenInTheWrongDirectionIsRefused() throws IOException {
    // the JDK parks a closed 0-2 on /dev/null opened write-only; no shell gives stdin that way
    fd(0, "/dev/null", O_WRONLY);
    fd(1, "/home/u/notes.txt", O_RDONLY);
    assertThat(problem(0, false)).contains("/dev/null", "open for writing only");
    assertThat(problem(1, true)).contains("notes.txt", "open for reading only");
  }

  @Test
  void withoutProcNothingIsRefused() throws IOException {
    Path elsewhere = Files.createDirectories(tmp.resolve("no-proc"));
    assertThat(StandardStreams.problem(0, false, elsewhere, javaHome, Set.of())).isNull();
  }

  @Test
  void thisTestJvmsOwnStreamsPass() {
    Path self = Path.of("/proc/self");
    Path home = Path.of(System.getProperty("java.home"));
    for (int fd = 0; fd <= 2; fd++) {
      assertThat(StandardStreams.problem(fd, fd > 0, self, home, Set.of())).as("fd " + fd).isNull();
    }
  }
}
