package dev.byok.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.crypto.Cipher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, finding 7 (residue): no JCA cipher keeps a blob key's schedule once the stream that
 * used it is closed or done, without waiting for a purge ({@code scrubIdle}). Before, every segment
 * returned its cipher to the shared pool still initialised under the blob key and the segment's
 * nonce, able to decrypt that segment again.
 */
class CipherResidueTest {
  private static final int S = 4096;
  private final SegmentLayout layout = new SegmentLayout(S);
  private final byte[] key = new byte[32];
  private final byte[] prefix = {9, 8, 7, 6, 5, 4, 3};
  private final byte[] plain = new byte[3 * S];

  CipherResidueTest() {
    Random r = new Random(42);
    r.nextBytes(key);
    r.nextBytes(plain);
  }

  private byte[] payload() throws IOException {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (OutputStream out =
        new EncryptingOutputStream(
            sink, new SegmentCipher(key, prefix), layout, new byte[0], n -> {})) {
      out.write(plain);
    }
    return sink.toByteArray();
  }

  /** No idle pooled cipher decrypts the payload's final segment (it would, were it left keyed). */
  private void assertNoPooledCipherHoldsTheKey(byte[] payload) {
    long last = layout.segmentCount(plain.length) - 1;
    int from = (int) (layout.ciphertextOffset(last) - SegmentLayout.PAYLOAD_HEADER_LENGTH);
    byte[] finalSegment = Arrays.copyOfRange(payload, from, payload.length);
    List<Cipher> idle = SegmentCipher.pooledCiphers();
    assertThat(idle).isNotEmpty();
    for (Cipher pooled : idle) {
      byte[] residue;
      try {
        residue = pooled.doFinal(finalSegment);
      } catch (GeneralSecurityException | IllegalStateException refused) {
        continue; // not keyed for this blob
      }
      assertThat(residue)
          .as("a pooled cipher still decrypts the closed stream's last segment")
          .isNotEqualTo(Arrays.copyOfRange(plain, plain.length - residue.length, plain.length));
    }
  }

  @Test
  void aDecryptingStreamLeavesNoKeyedCipherInThePool() throws IOException {
    byte[] payload = payload();
    try (InputStream in =
        DecryptingInputStream.whole(
            new ByteArrayInputStream(payload),
            new SegmentDecrypter(new SegmentCipher(key, prefix)),
            layout)) {
      assertThat(in.readAllBytes()).isEqualTo(plain);
      // done: the final segment authenticated, the cipher is back and re-keyed before close()
      assertNoPooledCipherHoldsTheKey(payload);
    }
    assertNoPooledCipherHoldsTheKey(payload);
  }

  @Test
  void aDecryptingChannelLeavesNoKeyedCipherInThePoolOnClose(@TempDir Path dir) throws IOException {
    byte[] payload = payload();
    byte[] withHeader = new byte[SegmentLayout.PAYLOAD_HEADER_LENGTH + payload.length];
    System.arraycopy(payload, 0, withHeader, SegmentLayout.PAYLOAD_HEADER_LENGTH, payload.length);
    Path file = Files.write(dir.resolve("blob"), withHeader);
    SeekableByteChannel ch =
        new DecryptingChannel(
            FileChannel.open(file, StandardOpenOption.READ),
            new SegmentDecrypter(new SegmentCipher(key, prefix)),
            layout,
            0);
    ByteBuffer out = ByteBuffer.allocate(plain.length);
    while (out.hasRemaining() && ch.read(out) >= 0) {
      // read on
    }
    assertThat(out.array()).isEqualTo(plain);
    ch.close();
    assertNoPooledCipherHoldsTheKey(payload);
  }

  @Test
  void closingReturnsTheCipherReKeyed() throws Exception {
    SegmentCipher c = new SegmentCipher(key, prefix);
    byte[] sealed = new byte[116];
    c.encrypt(0, true, plain, 0, 100, sealed, 0);
    byte[] back = new byte[100];
    c.decrypt(0, true, sealed, 0, 116, back, 0);
    c.close();
    c.close(); // idempotent
    for (Cipher pooled : SegmentCipher.pooledCiphers()) {
      try {
        assertThat(pooled.doFinal(sealed)).isNotEqualTo(Arrays.copyOf(plain, 100));
      } catch (GeneralSecurityException | IllegalStateException refused) {
        // not keyed for this blob
      }
    }
    // usable again after close: it takes a cipher afresh
    c.decrypt(0, true, sealed, 0, 116, back, 0);
    assertThat(back).isEqualTo(Arrays.copyOf(plain, 100));
    c.close();
  }
}
