package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
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

  /** Raw in any output line: these reorder, hide or inject text on a terminal. */
  private static final String[] RAW = {"\u001b", "\u202e", "\u009b", "\u007f", "\u200b", "\r"};

  /**
   * Review finding 6: inspect, verify and rewrap printed file names raw, so a hostile name (bidi
   * override, C1 CSI, DEL, zero-width space, ESC) reached the terminal.
   */
  @Test
  void fileNamesAreEscapedInEveryCommandsOutput() throws IOException {
    String key = KMS.createKey("names");
    String other = KMS.createKey("names-to");
    Path plain = Files.write(dir.resolve("p.bin"), new byte[] {1, 2, 3});
    Path blob = dir.resolve("a\u001b[31m\u202e\u009b\u007f\u200bz.byok");
    Cli.Result enc =
        Cli.withEndpoint(KMS.endpoint())
            .run("encrypt", "--key", key, "-o", blob.toString(), plain.toString());
    assertThat(enc.exitCode()).as(enc.toString()).isZero();

    Cli.Result insp = new Cli().run("inspect", blob.toString());
    assertThat(insp.exitCode()).as(insp.toString()).isZero();
    assertThat(insp.stdout()).contains("\\u202e").doesNotContain(RAW);

    Cli.Result verify =
        Cli.withEndpoint(KMS.endpoint()).run("verify", "--key", key, blob.toString());
    assertThat(verify.exitCode()).as(verify.toString()).isZero();
    assertThat(verify.stdout()).contains("OK ").contains("\\u202e").doesNotContain(RAW);

    Cli.Result rewrap =
        Cli.withEndpoint(KMS.endpoint())
            .run("rewrap", "--any-context", "--key", key, "--to", other, blob.toString());
    assertThat(rewrap.exitCode()).as(rewrap.toString()).isZero();
    assertThat(rewrap.stdout()).contains("rewrapped ").contains("\\u202e").doesNotContain(RAW);
  }

  /**
   * Review finding 6: {@code inspect --json} left U+202E, U+009B, U+007F and zero-width characters
   * raw (Gson escapes only C0, quotes, backslash and U+2028/9); they are JSON escapes now, which
   * parse back to the same text.
   */
  @Test
  void inspectJsonEscapesBidiC1DelAndZeroWidthCharacters() throws IOException {
    String key = KMS.createKey("json");
    String hostile = "a\u202eb\u009bc\u007fd\u200be\u2066f";
    Path plain = Files.write(dir.resolve("j.bin"), new byte[] {1});
    Path blob = dir.resolve("j.byok");
    Cli.Result enc =
        Cli.withEndpoint(KMS.endpoint())
            .run(
                "encrypt",
                "--key",
                key,
                "--context",
                "note=" + hostile,
                "-o",
                blob.toString(),
                plain.toString());
    assertThat(enc.exitCode()).as(enc.toString()).isZero();
    Cli.Result json = new Cli().run("inspect", "--json", blob.toString());
    assertThat(json.exitCode()).as(json.toString()).isZero();
    assertThat(json.stdout()).doesNotContain(RAW).doesNotContain("\u2066");
    JsonObject doc = JsonParser.parseString(json.stdout()).getAsJsonObject();
    assertThat(doc.getAsJsonObject("encryptionContext").get("note").getAsString())
        .isEqualTo(hostile);
  }
}
