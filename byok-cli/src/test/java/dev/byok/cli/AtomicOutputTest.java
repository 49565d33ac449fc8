package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An output file is complete or absent: when the last flush (at commit) or the move fails, the
 * target is untouched and the temporary file is removed.
 */
class AtomicOutputTest {
  @TempDir Path dir;

  private static List<Path> files(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.toList();
    }
  }

  @Test
  void aCommitWhoseFlushHitsAFullDiskMovesNothing() throws Exception {
    try (Tmpfs disk = Tmpfs.mount(dir.resolve("small"), "16k")) {
      Path target = disk.dir().resolve("out.bin");
      AtomicOutput out = AtomicOutput.create(target, false);
      OutputStream s = out.stream();
      s.write(new byte[40_000]); // buffered (64 KiB): the disk fills only when commit flushes
      assertThatThrownBy(out::commit)
          .isInstanceOf(IOException.class)
          .hasMessageContaining("No space left on device");
      out.close();
      assertThat(target).doesNotExist();
      assertThat(files(disk.dir())).as("no temporary file").isEmpty();
    }
  }

  @Test
  void aFailedMoveLeavesTheTargetAsItWasAndNoTemporaryFile() throws IOException {
    Path target = Files.createDirectories(dir.resolve("taken"));
    Files.writeString(target.resolve("keep.txt"), "keep");
    try (AtomicOutput out = AtomicOutput.create(target, true)) {
      out.stream().write(new byte[] {1, 2, 3});
      assertThatThrownBy(out::commit).isInstanceOf(IOException.class); // a directory is there
    }
    assertThat(target.resolve("keep.txt")).hasContent("keep");
    assertThat(files(dir)).containsExactly(target);
  }

  @Test
  void aCommittedOutputHasEveryByte() throws IOException {
    Path target = dir.resolve("ok.bin");
    try (AtomicOutput out = AtomicOutput.create(target, false)) {
      out.stream().write(new byte[100_000]);
      out.commit();
    }
    assertThat(target).hasSize(100_000);
    assertThat(files(dir)).containsExactly(target);
  }
}
