package dev.byok.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's main job runs end to end and every step reports what it claims. */
class SnapshotDemoTest {
  @Test
  void theStoryRunsEndToEnd(@TempDir Path dir) throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    new SnapshotDemo(new PrintStream(buf, true, StandardCharsets.UTF_8)).run(dir);
    String out = buf.toString(StandardCharsets.UTF_8);
    assertThat(out)
        .contains("encrypted 8 files")
        .contains("with 1 GenerateDataKey call(s)")
        .contains("decrypted and verified all 8 blobs; KMS Decrypt calls: 1")
        .contains("is refused: AUTHENTICATION_FAILED")
        .contains("monitor event: LOCKED")
        .contains("reads are refused (LOCKED), the monitor says LOCKED")
        .contains("monitor event: UNLOCKED")
        .contains("reads work again; the monitor says ACTIVE");
    assertThat(dir.resolve("repository")).isDirectoryContaining("glob:**/segment-7.byok");
  }
}
