package dev.byok.examples.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.Byok;
import dev.byok.EncryptionContext;
import dev.byok.testkit.FakeKms;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The five-line example at the top of README.md; {@link DocsTest} holds the two in step. */
class ReadmeExampleTest {
  @Test
  void encryptAndDecrypt(@TempDir Path dir) throws IOException {
    Path blob = dir.resolve("blob");
    byte[] data = "hello".getBytes(StandardCharsets.UTF_8);
    // docs:begin readme
    FakeKms kms = FakeKms.create();                    // tests; production: AwsKmsProvider.builder().region("eu-west-1").build()
    kms.api().createAlias("alias/snapshots", kms.api().createKey().arn());
    Byok byok = Byok.builder().provider(kms).encryptUnder("fake-kms://alias/snapshots").build();
    try (OutputStream out = byok.newEncryptingStream(Files.newOutputStream(blob), EncryptionContext.of("repo", "nightly"))) { out.write(data); }
    byte[] back; try (InputStream in = byok.newDecryptingStream(Files.newInputStream(blob))) { back = in.readAllBytes(); }
    // docs:end readme
    assertThat(back).isEqualTo(data);
    assertThat(Files.size(blob))
        .isEqualTo(byok.ciphertextLength(data.length, EncryptionContext.of("repo", "nightly")));
  }
}
