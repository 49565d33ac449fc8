package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, item 6: a header's context reaches the terminal through {@code byok inspect} and error
 * messages only with its control characters escaped (no cursor moves, colours or fake lines).
 */
class OutputHygieneCliTest {
  @RegisterExtension static final LocalKmsExtension KMS = new LocalKmsExtension();
  @TempDir Path dir;

  private static final String HOSTILE = "x\u001b[2J\u001b[31m\rOK\nFAKE LINE\u202e";

  @Test
  void inspectAndErrorsEscapeControlCharactersOfHeaderFields() throws IOException {
    String key = KMS.createKey("hygiene");
    Path plain = Files.write(dir.resolve("p.bin"), new byte[] {1, 2, 3});
    Path blob = dir.resolve("p.byok");
    Cli.Result enc =
        Cli.withEndpoint(KMS.endpoint())
            .run(
                "encrypt",
                "--key",
                key,
                "--context",
                "note=" + HOSTILE,
                "-o",
                blob.toString(),
                plain.toString());
    assertThat(enc.exitCode()).as(enc.toString()).isZero();

    Cli.Result insp = new Cli().run("inspect", blob.toString());
    assertThat(insp.exitCode()).as(insp.toString()).isZero();
    assertThat(insp.stdout())
        .contains("note=x\\u001b[2J\\u001b[31m\\u000dOK\\u000aFAKE LINE\\u202e")
        .doesNotContain("\u001b", "\r", "\u202e", "\nFAKE");

    Cli.Result wrong =
        Cli.withEndpoint(KMS.endpoint())
            .run(
                "decrypt",
                "--key",
                key,
                "--context",
                "note=other",
                "-o",
                dir.resolve("out").toString(),
                blob.toString());
    assertThat(wrong.exitCode()).isEqualTo(ExitCodes.INVALID_BLOB);
    assertThat(wrong.stderr()).doesNotContain("\u001b", "\r", "\u202e", "\nFAKE");
  }
}
