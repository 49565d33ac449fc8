package dev.byok.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The pull stream that streams a segment into its caller's arrays keeps that segment's plaintext in
 * its segment buffer while it does: the buffer is zeroed after the last segment, on {@code close()}
 * in the middle, and when the source fails; a failed in-place encryption leaves no plaintext (the
 * look-ahead byte included) in the caller's array.
 */
class PullStreamResidueTest {
  private static final int S = 128 * 1024;
  private static final byte P = 0x5a;
  private final byte[] key = new byte[32];
  private final byte[] prefix = {1, 1, 2, 3, 5, 8, 13};
  private final byte[] plain = new byte[3 * S + 5000];

  PullStreamResidueTest() {
    new Random(5).nextBytes(key);
    Arrays.fill(plain, P);
  }

  private EncryptingInputStream stream(InputStream source) {
    return new EncryptingInputStream(
        source, new SegmentCipher(key, prefix), new SegmentLayout(S), new byte[0], n -> {});
  }

  @Test
  void theSegmentBufferIsZeroedAfterTheLastSegmentAndOnCloseMidway() throws IOException {
    byte[] buf = new byte[8192];
    try (EncryptingInputStream in = stream(new ByteArrayInputStream(plain))) {
      while (in.read(buf) >= 0) {
        // drain
      }
      assertThat(in.segmentBufferZeroed()).isTrue();
    }
    EncryptingInputStream in = stream(new ByteArrayInputStream(plain));
    for (int i = 0; i < 20; i++) {
      assertThat(in.read(buf)).isPositive(); // inside the first streamed segment
    }
    assertThat(in.segmentBufferZeroed()).as("streaming keeps the plaintext").isFalse();
    in.close();
    assertThat(in.segmentBufferZeroed()).isTrue();
  }

  @Test
  void aFailingSourceLeavesNoPlaintextInTheSegmentBuffer() throws IOException {
    IOException boom = new IOException("disk gone");
    InputStream
        failing = // InputStream's own read(byte[], int, int) throws once a read starts past it
        new InputStream() {
              int served;

              @Override
              public int read() throws IOException {
                if (served++ > S + S / 2) {
                  throw boom;
                }
                return P;
              }
            };
    EncryptingInputStream in = stream(failing);
    byte[] buf = new byte[8192];
    assertThatThrownBy(
            () -> {
              while (in.read(buf) >= 0) {
                // until the source fails
              }
            })
        .isSameAs(boom);
    assertThat(in.segmentBufferZeroed()).isTrue();
    assertThatThrownBy(() -> in.read(buf)).isInstanceOf(IOException.class);
  }

  @Test
  void aFailedInPlaceEncryptionLeavesNoPlaintextInTheCallersArray() {
    SegmentCipher cipher = new SegmentCipher(key, prefix);
    EncryptingInputStream in =
        new EncryptingInputStream(
            new ByteArrayInputStream(plain), cipher, new SegmentLayout(S), new byte[0], n -> {});
    cipher.close(); // the cipher refuses the segment after its plaintext is read into the array
    byte[] big = new byte[2 * S];
    assertThatThrownBy(() -> in.read(big, 3, S + 100)).isInstanceOf(IOException.class);
    assertThat(big).doesNotContain(P);
  }
}
