package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.testkit.FakeKms;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The five-line example at the top of README.md; keep the two in step. */
class ReadmeExampleTest {
  @Test
  void encryptAndDecrypt() throws IOException {
    FakeKms kms = FakeKms.create(); // in production: AwsKmsProvider.builder().region(...).build()
    kms.api().createAlias("alias/app", kms.api().createKey().arn());
    Byok byok = Byok.builder().provider(kms).encryptUnder("fake-kms://alias/app").build();
    byte[] blob = byok.newEncryptingInputStream(new ByteArrayInputStream("hello".getBytes(StandardCharsets.UTF_8)),
        EncryptionContext.of("tenant", "t1")).readAllBytes();
    assertThat(byok.newDecryptingStream(new ByteArrayInputStream(blob)).readAllBytes()).asString().isEqualTo("hello");
  }
}
