package dev.byok.jmh;

import com.google.crypto.tink.StreamingAead;
import com.google.crypto.tink.subtle.AesGcmHkdfStreaming;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;

/**
 * Tink's AES-GCM-HKDF streaming AEAD (subtle API: 32-byte key, HKDF-SHA256, 32-byte derived key,
 * first segment offset 0), the payload format byok uses, with the same ciphertext segment size as
 * byok's row (64 KiB or 1 MiB, checked at construction). At 1 MiB it is Tink's {@code
 * AES256_GCM_HKDF_1MB} template; at 64 KiB it is that template with 64 KiB segments (Tink's own
 * {@code AES256_GCM_HKDF_4KB} would be unfairly small).
 */
final class TinkContender implements Contender {
  private static final byte[] AAD = "bench associated data".getBytes(StandardCharsets.UTF_8);

  private final StreamingAead aead;
  private final byte[] buffer = new byte[CHUNK];

  TinkContender(int segmentSize) throws GeneralSecurityException {
    byte[] ikm = new byte[32];
    new SecureRandom().nextBytes(ikm);
    AesGcmHkdfStreaming streaming = new AesGcmHkdfStreaming(ikm, "HmacSha256", 32, segmentSize, 0);
    if (streaming.getCiphertextSegmentSize() != segmentSize) {
      throw new IllegalStateException(
          "Tink segment size " + streaming.getCiphertextSegmentSize() + ", wanted " + segmentSize);
    }
    this.aead = streaming;
  }

  @Override
  public void encrypt(byte[] plaintext, OutputStream sink)
      throws IOException, GeneralSecurityException {
    try (OutputStream out = aead.newEncryptingStream(sink, AAD)) {
      Contender.writeChunked(plaintext, out);
    }
  }

  @Override
  public void decrypt(byte[] ciphertext, OutputStream sink)
      throws IOException, GeneralSecurityException {
    try (InputStream in = aead.newDecryptingStream(new ByteArrayInputStream(ciphertext), AAD)) {
      Contender.drain(in, buffer, sink);
    }
  }
}
