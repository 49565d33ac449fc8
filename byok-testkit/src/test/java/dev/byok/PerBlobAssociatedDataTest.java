package dev.byok;

import static dev.byok.Blobs.CTX;
import static dev.byok.Blobs.byok;
import static dev.byok.Blobs.plaintext;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.byok.testkit.FakeKmsExtension;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Per-blob associated data (an object's name) is authenticated with the payload but is neither sent
 * to the KMS nor part of the data-key cache key: a thousand names under one context cost one
 * GenerateDataKey to write and one Decrypt to read back.
 */
class PerBlobAssociatedDataTest {
  @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();

  private static byte[] name(int i) {
    return ("snapshots/indices/" + i + "/__blob-" + i).getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] encrypt(Byok byok, byte[] plain, byte[] name) throws IOException {
    ByteArrayOutputStream bout = new ByteArrayOutputStream();
    try (OutputStream out = byok.newEncryptingStream(bout, CTX, name)) {
      out.write(plain);
    }
    return bout.toByteArray();
  }

  private static byte[] decrypt(Byok byok, byte[] blob, byte[] name) throws IOException {
    try (InputStream in = byok.newDecryptingStream(new ByteArrayInputStream(blob), CTX, name)) {
      return in.readAllBytes();
    }
  }

  @Test
  void aThousandNamesUnderOneContextCostOneGenerateDataKeyAndOneDecrypt() throws IOException {
    String arn = fake.api().createKey().arn();
    List<byte[]> blobs = new ArrayList<>();
    try (Byok writer = byok(fake, arn).build()) {
      for (int i = 0; i < 1000; i++) {
        blobs.add(encrypt(writer, plaintext(100 + i % 7, i), name(i)));
      }
    }
    assertThat(fake.api().calls("GenerateDataKey")).isEqualTo(1);
    assertThat(fake.api().calls("Decrypt")).isZero();

    try (Byok reader = byok(fake, arn).build()) { // a cold cache
      for (int i = 0; i < 1000; i++) {
        assertThat(decrypt(reader, blobs.get(i), name(i))).isEqualTo(plaintext(100 + i % 7, i));
      }
      assertThat(fake.api().calls("Decrypt")).isEqualTo(1);

      // the name is not stored in the blob: the header is the same for every name
      EnvelopeHeader h0 = EnvelopeHeader.parse(blobs.get(0));
      EnvelopeHeader h1 = EnvelopeHeader.parse(blobs.get(1));
      assertThat(h0.associatedData()).isEqualTo(h1.associatedData());
      assertThat(new String(blobs.get(0), StandardCharsets.ISO_8859_1)).doesNotContain("__blob-0");

      // under another name, or none, it fails typed before any plaintext is released
      for (byte[] wrong : new byte[][] {name(2), new byte[0], "x".getBytes()}) {
        InvalidCiphertextIOException e =
            catchThrowableOfType(
                InvalidCiphertextIOException.class, () -> decrypt(reader, blobs.get(1), wrong));
        assertThat(e.reason()).isEqualTo(InvalidCiphertextException.Reason.AUTHENTICATION_FAILED);
        assertThat(e.getCause()).isInstanceOf(InvalidCiphertextException.class);
        try (SeekableByteChannel ch =
            reader.newDecryptingChannel(
                new dev.byok.testkit.ByteArrayChannel(blobs.get(1)), CTX, wrong)) {
          InvalidCiphertextIOException c =
              catchThrowableOfType(
                  InvalidCiphertextIOException.class, () -> ch.read(ByteBuffer.allocate(10)));
          assertThat(c.reason()).isEqualTo(InvalidCiphertextException.Reason.AUTHENTICATION_FAILED);
        }
      }
      assertThat(fake.api().calls("Decrypt")).isEqualTo(1);
    }
  }

  @Test
  void pullModeWithANameHasTheSameLengthAndReadsBackOnlyUnderThatName() throws IOException {
    String arn = fake.api().createKey().arn();
    try (Byok byok = byok(fake, arn).build()) {
      byte[] plain = plaintext(10_000, 5);
      byte[] blob;
      try (EncryptedInputStream in =
          byok.newEncryptingInputStream(
              new ByteArrayInputStream(plain), plain.length, CTX, name(5))) {
        assertThat(in.length()).isEqualTo(byok.ciphertextLength(plain.length, CTX));
        blob = in.readAllBytes();
        assertThat(blob).hasSize((int) in.length());
      }
      assertThat(decrypt(byok, blob, name(5))).isEqualTo(plain);
      assertThat(
              catchThrowableOfType(
                      InvalidCiphertextIOException.class, () -> decrypt(byok, blob, name(6)))
                  .reason())
          .isEqualTo(InvalidCiphertextException.Reason.AUTHENTICATION_FAILED);
    }
  }
}
