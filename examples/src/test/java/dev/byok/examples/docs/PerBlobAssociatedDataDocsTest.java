package dev.byok.examples.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.byok.Byok;
import dev.byok.EncryptionContext;
import dev.byok.InvalidCiphertextException;
import dev.byok.InvalidCiphertextIOException;
import dev.byok.testkit.FakeKms;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The per-blob associated data sample of docs/format.md section 3a. */
class PerBlobAssociatedDataDocsTest {
  @Test
  void aBlobReadsBackOnlyUnderItsName(@TempDir Path dir) throws IOException {
    FakeKms kms = FakeKms.create();
    kms.api().createAlias("alias/snapshots", kms.api().createKey().arn());
    Path file = dir.resolve("blob");
    byte[] data = "segment data".getBytes(StandardCharsets.UTF_8);
    try (Byok byok =
        Byok.builder().provider(kms).encryptUnder("fake-kms://alias/snapshots").build()) {
      // docs:begin per-blob-associated-data
      EncryptionContext context = EncryptionContext.of("repository", "nightly");
      byte[] name = "indices/Xy3/0/__blob-17".getBytes(StandardCharsets.UTF_8); // not stored, not sent to the KMS
      try (OutputStream out = byok.newEncryptingStream(Files.newOutputStream(file), context, name)) {
        out.write(data);
      }
      byte[] back;
      try (InputStream in = byok.newDecryptingStream(Files.newInputStream(file), context, name)) {
        back = in.readAllBytes(); // under any other name: InvalidCiphertextIOException, AUTHENTICATION_FAILED
      }
      // docs:end per-blob-associated-data
      assertThat(back).isEqualTo(data);
      byte[] other = "indices/Xy3/0/__blob-18".getBytes(StandardCharsets.UTF_8);
      try (InputStream in = byok.newDecryptingStream(Files.newInputStream(file), context, other)) {
        assertThat(
                catchThrowableOfType(InvalidCiphertextIOException.class, in::readAllBytes).reason())
            .isEqualTo(InvalidCiphertextException.Reason.AUTHENTICATION_FAILED);
      }
    }
    assertThat(kms.api().calls("GenerateDataKey")).isEqualTo(1);
  }
}
