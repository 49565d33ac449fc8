package dev.byok.cli;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real, small tmpfs file system, mounted for one test: a disk that fills up. Needs root (or
 * CAP_SYS_ADMIN) and mount(8); where the mount fails the test is skipped, with mount's reason.
 */
final class Tmpfs implements AutoCloseable {
  private final Path dir;

  private Tmpfs(Path dir) {
    this.dir = dir;
  }

  /**
   * @param dir an empty directory to mount on
   * @param size the file system's size, as mount's {@code size=} option (e.g. {@code 256k})
   * @return the mounted file system; close to unmount
   */
  static Tmpfs mount(Path dir, String size) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Run r =
        exec("mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700", "tmpfs", dir.toString());
    assumeTrue(r.code == 0, "cannot mount a tmpfs here (needs root): " + r.output.strip());
    return new Tmpfs(dir);
  }

  Path dir() {
    return dir;
  }

  @Override
  public void close() throws IOException, InterruptedException {
    Run r = exec("umount", dir.toString());
    if (r.code != 0) {
      throw new IOException("umount " + dir + " failed: " + r.output);
    }
  }

  private record Run(int code, String output) {}

  private static Run exec(String... command) throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      return new Run(-1, command[0] + ": " + e.getMessage());
    }
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return new Run(-1, command[0] + " did not finish");
    }
    return new Run(p.exitValue(), out);
  }
}
