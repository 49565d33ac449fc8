package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.testkit.FakeKms;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The five-line example at the top of README.md, verbatim between the markers; keep the two in step. */
class ReadmeExampleTest {
  @Test
  void encryptAndDecrypt(@TempDir Path dir) throws IOException {
    Path blob = dir.resolve("blob");
    byte[] data = "hello".getBytes(StandardCharsets.UTF_8);
    // README begin
    FakeKms kms = FakeKms.create();                    // tests; production: AwsKmsProvider.builder().region("eu-west-1").build()
    kms.api().createAlias("alias/snapshots", kms.api().createKey().arn());
    Byok byok = Byok.builder().provider(kms).encryptUnder("fake-kms://alias/snapshots").build();
    try (OutputStream out = byok.newEncryptingStream(Files.newOutputStream(blob), EncryptionContext.of("repo", "nightly"))) { out.write(data); }
    byte[] back = byok.newDecryptingStream(Files.newInputStream(blob)).readAllBytes();
    // README end
    assertThat(back).isEqualTo(data);
    assertThat(Files.size(blob)).isEqualTo(byok.ciphertextLength(data.length, EncryptionContext.of("repo", "nightly")));
  }

  @Test
  void readmeShowsExactlyTheseLines() throws IOException {
    String test = Files.readString(Path.of("src/test/java/dev/byok/ReadmeExampleTest.java"));
    String block = test.substring(test.indexOf("// README begin") + "// README begin".length(), test.indexOf("    // README end"));
    String readme = Files.readString(Path.of("../README.md"));
    String code = readme.substring(readme.indexOf("```java") + "```java".length(), readme.indexOf("```", readme.indexOf("```java") + 7));
    assertThat(normalize(code)).isEqualTo(normalize(block));
  }

  private static String normalize(String s) {
    return s.strip().replaceAll("(?m)^\\s+", "");
  }
}
