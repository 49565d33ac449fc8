package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's training run: every command it runs succeeds against its in-process local KMS, the
 * round trip gives the same bytes, and it leaves nothing behind in its work directory.
 */
class TrainingTest {
  @TempDir Path tmp;

  @Test
  void runsEveryCommandAndCleansUp() throws Exception {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    int code = Training.run(tmp, 1, log);
    String out = log.toString(StandardCharsets.UTF_8);
    assertThat(code).as(out).isEqualTo(ExitCodes.OK);
    // the commands really ran: encrypt and decrypt reported their files, verify its blob
    assertThat(out).contains("encrypted " + tmp.resolve("train.bin"));
    assertThat(out).contains("decrypted");
    assertThat(out).contains("OK");
    try (Stream<Path> left = Files.list(tmp)) {
      assertThat(left).isEmpty();
    }
  }
}
