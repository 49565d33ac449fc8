package dev.byok.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.BlobTooLargeException;
import dev.byok.InvalidCiphertextException;
import dev.byok.InvalidCiphertextException.Reason;
import dev.byok.InvalidCiphertextIOException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 15, finding 7 (limits): the per-blob segment cap derived from the AES-GCM usage limit of
 * one blob key (2^36 AES blocks) is enforced on write, with a typed error before any segment past
 * the cap is encrypted, and on read, as {@code TRAILING_DATA} (format.md section 5, row 9). A
 * layout with a low cap stands in for the real one, which takes a terabyte to reach.
 */
class SegmentCapTest {
  private static final int S = 4096;
  private static final long CAP = 3;
  private final byte[] key = new byte[32];
  private final byte[] prefix = new byte[SegmentLayout.NONCE_PREFIX_LENGTH];
  private final SegmentLayout capped = new SegmentLayout(S, CAP);
  private final SegmentLayout uncapped = new SegmentLayout(S);

  SegmentCapTest() {
    new Random(1).nextBytes(key);
  }

  @ParameterizedTest(name = "S={0}")
  @ValueSource(ints = {4096, 65536, 1 << 20, 8 << 20, 4097, 65535})
  void theCapKeepsEveryBlobWithin2To36AesBlocks(int segmentSize) {
    SegmentLayout layout = new SegmentLayout(segmentSize);
    long blocksPerSegment = (segmentSize + 15L) / 16; // data blocks + the tag's block, at most
    assertThat(layout.maxSegments() * blocksPerSegment).isLessThanOrEqualTo(1L << 36);
    assertThat((layout.maxSegments() + 1) * blocksPerSegment).isGreaterThan(1L << 36);
    assertThat(layout.maxSegments()).isLessThan(SegmentLayout.MAX_SEGMENTS);
    // about 1 TiB of plaintext per blob whatever the segment size
    assertThat(layout.maxPlaintextLength()).isBetween(1L << 39, 1L << 40);
  }

  @Test
  void theCapForTheDefaultSegmentSizeIs2To24Segments() {
    assertThat(new SegmentLayout(65536).maxSegments()).isEqualTo(1L << 24);
    assertThat(new SegmentLayout(4096).maxSegments()).isEqualTo(1L << 28);
    assertThat(new SegmentLayout(8 << 20).maxSegments()).isEqualTo(1L << 17);
  }

  private byte[] plaintextOf(long segments) {
    long n = capped.plaintextCapacity(0) + (segments - 1) * capped.plaintextCapacity(1);
    byte[] p = new byte[(int) n];
    new Random(n).nextBytes(p);
    return p;
  }

  @Test
  void pushWriteStopsWithATypedErrorBeforeTheSegmentPastTheCap() throws IOException {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    OutputStream out =
        new EncryptingOutputStream(
            sink, new SegmentCipher(key, prefix), capped, new byte[0], n -> {});
    byte[] exactly = plaintextOf(CAP);
    out.write(exactly); // CAP full segments: the last one stays buffered, it may be final
    int before = sink.size();
    BlobTooLargeException e =
        org.assertj.core.api.Assertions.catchThrowableOfType(
            () -> out.write(1), BlobTooLargeException.class);
    assertThat(e.maxSegments()).isEqualTo(CAP);
    assertThat(e.segmentSize()).isEqualTo(S);
    assertThat(e).hasMessageContaining("at most 3 segments");
    assertThat(sink.size()).as("no segment past the cap written").isEqualTo(before);
    assertThatThrownBy(() -> out.write(1)).isInstanceOf(IOException.class);
    assertThatThrownBy(out::close).isInstanceOf(IOException.class);
  }

  @Test
  void pushWriteOfExactlyTheCapIsAValidBlob() throws IOException {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    byte[] exactly = plaintextOf(CAP);
    try (OutputStream out =
        new EncryptingOutputStream(
            sink, new SegmentCipher(key, prefix), capped, new byte[0], n -> {})) {
      out.write(exactly);
    }
    assertThat(decrypt(sink.toByteArray(), capped)).isEqualTo(exactly);
  }

  @Test
  void pullReadStopsWithATypedErrorBeforeTheSegmentPastTheCap() throws IOException {
    byte[] tooLong = Arrays.copyOf(plaintextOf(CAP), plaintextOf(CAP).length + 1);
    InputStream in =
        new EncryptingInputStream(
            new ByteArrayInputStream(tooLong),
            new SegmentCipher(key, prefix),
            capped,
            new byte[0],
            n -> {});
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[1000];
    assertThatThrownBy(
            () -> {
              int n;
              while ((n = in.read(buf)) >= 0) {
                got.write(buf, 0, n);
              }
            })
        .isInstanceOf(BlobTooLargeException.class);
    assertThat(got.size()).as("segments 0 and 1 only").isEqualTo(2 * S - 40);
    assertThatThrownBy(() -> in.read(buf)).isInstanceOf(IOException.class);
  }

  @Test
  void aPayloadPastTheCapIsTrailingDataOnEveryReader() throws IOException {
    byte[] plain = plaintextOf(CAP + 1);
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (OutputStream out =
        new EncryptingOutputStream(
            sink, new SegmentCipher(key, prefix), uncapped, new byte[0], n -> {})) {
      out.write(plain);
    }
    byte[] payload = sink.toByteArray();
    assertThat(decrypt(payload, uncapped)).isEqualTo(plain);
    // the length rule (random-access reader, rewrap, range planning)
    assertThat(
            org.assertj.core.api.Assertions.catchThrowableOfType(
                    () -> capped.checkedPlaintextLength(payload.length + 40L),
                    InvalidCiphertextException.class)
                .reason())
        .isEqualTo(Reason.TRAILING_DATA);
    assertThat(capped.plaintextLengthOrMinusOne(payload.length + 40L)).isEqualTo(-1);
    assertThatThrownBy(() -> capped.payloadLength(plain.length))
        .isInstanceOf(IllegalArgumentException.class);
    // the sequential reader
    InvalidCiphertextIOException e =
        org.assertj.core.api.Assertions.catchThrowableOfType(
            () -> decrypt(payload, capped), InvalidCiphertextIOException.class);
    assertThat(e.getCause()).isInstanceOf(InvalidCiphertextException.class);
    assertThat(((InvalidCiphertextException) e.getCause()).reason())
        .isEqualTo(Reason.TRAILING_DATA);
  }

  private byte[] decrypt(byte[] payload, SegmentLayout layout) throws IOException {
    // the streams under test were given no header: the payload starts at segment 0
    try (InputStream in =
        DecryptingInputStream.whole(
            new ByteArrayInputStream(payload),
            new SegmentDecrypter(new SegmentCipher(key, prefix)),
            layout)) {
      return in.readAllBytes();
    }
  }
}
