package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.crypto.tink.StreamingAead;
import com.google.crypto.tink.subtle.AesGcmHkdfStreaming;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Our payload is Tink's AES-GCM-HKDF streaming ciphertext, both directions. */
class TinkInteropTest {
  private static final KeySlot SLOT = KeySlot.of("test", "arn:test:key/1", new byte[] {1, 2, 3});

  static StreamingAead tink(DataKey key, int segmentSize) throws Exception {
    return new AesGcmHkdfStreaming(key.copyKeyMaterial(), "HmacSha256", 32, segmentSize, 0);
  }

  static byte[] plaintext(int n) {
    byte[] p = new byte[n];
    new Random(n).nextBytes(p);
    return p;
  }

  @ParameterizedTest
  @CsvSource({
    "0,4096",
    "1,4096",
    "4039,4096",
    "4040,4096",
    "4041,4096",
    "100000,4096",
    "300000,65536",
    "3000000,1048576"
  })
  void ourPayloadDecryptsWithStockTink(int size, int segmentSize) throws Exception {
    DataKey key = DataKey.generate();
    EnvelopeEncryptor enc =
        EnvelopeEncryptor.builder()
            .dataKey(key)
            .keySlot(SLOT)
            .encryptionContext(EncryptionContext.of("tenant", "t1"))
            .segmentSize(segmentSize)
            .build();
    byte[] pt = plaintext(size);
    ByteArrayOutputStream bout = new ByteArrayOutputStream();
    try (OutputStream out = enc.newEncryptingStream(bout)) {
      out.write(pt);
    }
    byte[] envelope = bout.toByteArray();
    assertThat((long) envelope.length).isEqualTo(enc.ciphertextLength(size));
    EnvelopeHeader header = EnvelopeHeader.parse(envelope);
    byte[] payload = Arrays.copyOfRange(envelope, header.payloadOffset(), envelope.length);
    try (InputStream in =
        tink(key, segmentSize)
            .newDecryptingStream(new ByteArrayInputStream(payload), header.associatedData())) {
      assertThat(in.readAllBytes()).isEqualTo(pt);
    }
  }

  @ParameterizedTest
  @CsvSource({"0,4096", "1,4096", "4040,4096", "100000,4096", "3000000,1048576"})
  void tinkPayloadUnderOurHeaderDecryptsWithOurs(int size, int segmentSize) throws Exception {
    DataKey key = DataKey.generate();
    EnvelopeEncryptor enc =
        EnvelopeEncryptor.builder().dataKey(key).keySlot(SLOT).segmentSize(segmentSize).build();
    EnvelopeHeader header = enc.header();
    byte[] pt = plaintext(size);
    ByteArrayOutputStream payload = new ByteArrayOutputStream();
    try (OutputStream out =
        tink(key, segmentSize).newEncryptingStream(payload, header.associatedData())) {
      out.write(pt);
    }
    ByteArrayOutputStream envelope = new ByteArrayOutputStream();
    envelope.write(header.toByteArray());
    envelope.write(payload.toByteArray());
    EnvelopeDecryptor dec = EnvelopeDecryptor.create(DataKeyResolver.of(key));
    try (InputStream in =
        dec.newDecryptingStream(new ByteArrayInputStream(envelope.toByteArray()))) {
      assertThat(in.readAllBytes()).isEqualTo(pt);
    }
    assertThat((long) envelope.size()).isEqualTo(enc.ciphertextLength(size));
  }
}
