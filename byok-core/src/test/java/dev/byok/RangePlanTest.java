package dev.byok;

import static dev.byok.RoundTrips.assertSameBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Plan a plaintext range, fetch exactly the planned bytes, decrypt them, compare. */
@Timeout(
    value = 30,
    threadMode = ThreadMode.SEPARATE_THREAD) // a stream that never ends must fail, not hang
class RangePlanTest {
  private static final int S = 4096;
  private static final int FIRST = S - 56; // plaintext in segment 0
  private static final int LATER = S - 16; // plaintext in every later segment
  private static final DataKey KEY = DataKey.generate();
  private static final EnvelopeDecryptor DECRYPTOR =
      EnvelopeDecryptor.create(DataKeyResolver.of(KEY));
  private static final EncryptionContext CONTEXT = EncryptionContext.of("repo", "r1");

  private static final class Blob {
    final byte[] plaintext;
    final byte[] envelope;
    final EnvelopeHeader header;

    Blob(int size) throws IOException {
      plaintext = RoundTrips.randomBytes(size, size);
      envelope =
          RoundTrips.encryptPush(RoundTrips.encryptor(KEY, S, CONTEXT), plaintext, size, 8192);
      header = EnvelopeHeader.parse(envelope);
    }

    RangePlan plan(long offset, long length) {
      return header.planRange(envelope.length, offset, length);
    }

    byte[] fetch(RangePlan plan) {
      return Arrays.copyOfRange(
          envelope,
          (int) plan.ciphertextOffset(),
          (int) (plan.ciphertextOffset() + plan.ciphertextLength()));
    }

    byte[] decrypt(RangePlan plan, byte[] fetched) throws IOException {
      try (InputStream in =
          DECRYPTOR.decryptRange(header, plan, new ByteArrayInputStream(fetched), CONTEXT)) {
        return in.readAllBytes();
      }
    }

    void assertRange(long offset, long length) throws IOException {
      RangePlan plan = plan(offset, length);
      int size = plaintext.length;
      long expectedLength = Math.min(length, size - offset);
      assertThat(plan.plaintextSize()).isEqualTo(size);
      assertThat(plan.plaintextOffset()).isEqualTo(offset);
      assertThat(plan.plaintextLength()).isEqualTo(expectedLength);
      if (expectedLength > 0) {
        // only the covering segments, computed here independently of SegmentLayout
        long first = segmentOf(offset);
        long last = segmentOf(offset + expectedLength - 1);
        long finalSegment = segmentOf(size - 1);
        assertThat(plan.firstSegment()).isEqualTo(first);
        assertThat(plan.lastSegment()).isEqualTo(last);
        assertThat(plan.ciphertextOffset())
            .isEqualTo(header.payloadOffset() + (first == 0 ? 40 : first * S));
        long end = last == finalSegment ? envelope.length : header.payloadOffset() + (last + 1) * S;
        assertThat(plan.ciphertextOffset() + plan.ciphertextLength()).isEqualTo(end);
      }
      assertSameBytes(plaintext, (int) offset, (int) expectedLength, decrypt(plan, fetch(plan)));
    }
  }

  private static long segmentOf(long plaintextOffset) {
    return plaintextOffset < FIRST ? 0 : 1 + (plaintextOffset - FIRST) / LATER;
  }

  @ParameterizedTest
  @ValueSource(
      ints = {1, FIRST, FIRST + 1, FIRST + LATER, FIRST + 3 * LATER, FIRST + 3 * LATER + 1234})
  void boundaryRanges(int size) throws IOException {
    Blob blob = new Blob(size);
    long[] points = {
      0,
      1,
      FIRST - 1,
      FIRST,
      FIRST + 1,
      FIRST + LATER - 1,
      FIRST + LATER,
      FIRST + 2 * LATER,
      size - 1,
      size
    };
    long[] lengths = {0, 1, 2, LATER - 1, LATER, LATER + 1, size, Long.MAX_VALUE};
    for (long offset : points) {
      if (offset < 0 || offset > size) {
        continue;
      }
      for (long length : lengths) {
        blob.assertRange(offset, length);
      }
      blob.assertRange(offset, size - offset); // exactly to the end
    }
  }

  @Test
  void randomRanges() throws IOException {
    Random random = new Random(11);
    for (int b = 0; b < 8; b++) {
      Blob blob = new Blob(random.nextInt(5 * S));
      int size = blob.plaintext.length;
      for (int i = 0; i < 60; i++) {
        int offset = random.nextInt(size + 1);
        int length = random.nextInt(size - offset + 1 + 100); // sometimes past the end
        blob.assertRange(offset, length);
      }
    }
  }

  @Test
  void aRangeEndingInsideASegmentEndsThere() throws IOException {
    Blob blob = new Blob(FIRST + 2 * LATER);
    RangePlan plan = blob.plan(FIRST + 10, 3); // inside segment 1, which holds LATER bytes
    try (InputStream in =
        DECRYPTOR.decryptRange(
            blob.header, plan, new ByteArrayInputStream(blob.fetch(plan)), CONTEXT)) {
      for (int i = 0; i < 3; i++) {
        assertThat(in.read()).isEqualTo(blob.plaintext[FIRST + 10 + i] & 0xff);
      }
      assertThat(in.read()).isEqualTo(-1);
      assertThat(in.read(new byte[10], 0, 10)).isEqualTo(-1);
    }
  }

  @Test
  void emptyRangesNeedNoFetch() throws IOException {
    Blob blob = new Blob(3 * S);
    for (long offset : new long[] {0, 5000}) {
      RangePlan plan = blob.plan(offset, 0);
      assertThat(plan.plaintextLength()).isZero();
      assertThat(plan.ciphertextLength()).isZero();
      assertThat(blob.decrypt(plan, new byte[0])).isEmpty();
      assertThatThrownBy(plan::httpRange).isInstanceOf(IllegalStateException.class);
    }
    // an empty range at the end fetches the final segment: reading it authenticates the end
    for (long length : new long[] {0, 100}) {
      RangePlan atEnd = blob.plan(3 * S, length);
      assertThat(atEnd.plaintextLength()).isZero();
      assertThat(atEnd.firstSegment()).isEqualTo(atEnd.segmentCount() - 1);
      assertThat(atEnd.ciphertextOffset() + atEnd.ciphertextLength())
          .isEqualTo(blob.envelope.length);
      assertThat(blob.decrypt(atEnd, blob.fetch(atEnd))).isEmpty();
      byte[] bad = blob.fetch(atEnd);
      bad[bad.length - 1] ^= 1;
      assertThatThrownBy(() -> blob.decrypt(atEnd, bad))
          .isInstanceOf(InvalidCiphertextIOException.class);
    }

    Blob empty = new Blob(0);
    RangePlan plan = empty.plan(0, 10);
    assertThat(plan.plaintextSize()).isZero();
    assertThat(empty.decrypt(plan, empty.fetch(plan))).isEmpty();
  }

  @Test
  void badArgumentsAreRejected() throws IOException {
    Blob blob = new Blob(2 * S);
    int size = blob.plaintext.length;
    assertThatThrownBy(() -> blob.plan(size + 1, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(String.valueOf(size + 1));
    assertThatThrownBy(() -> blob.plan(Long.MAX_VALUE, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> blob.plan(-1, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> blob.plan(0, -1)).isInstanceOf(IllegalArgumentException.class);
    // an envelope length that no plaintext encrypts to
    assertThatThrownBy(() -> blob.header.planRange(blob.header.payloadOffset() + S + 5, 0, 1))
        .isInstanceOf(InvalidCiphertextException.class);
  }

  @Test
  void httpRangeNamesTheInclusiveByteRange() throws IOException {
    Blob blob = new Blob(FIRST + 2 * LATER + 10); // segments 0..3, the last one short
    int po = blob.header.payloadOffset();
    assertThat(blob.plan(0, 1).httpRange()).isEqualTo("bytes=" + (po + 40) + "-" + (po + S - 1));
    assertThat(blob.plan(FIRST, 1).httpRange())
        .isEqualTo("bytes=" + (po + S) + "-" + (po + 2 * S - 1));
    assertThat(blob.plan(FIRST - 1, 2).httpRange())
        .isEqualTo("bytes=" + (po + 40) + "-" + (po + 2 * S - 1));
    assertThat(blob.plan(FIRST + 2 * LATER, 1).httpRange())
        .isEqualTo("bytes=" + (po + 3 * S) + "-" + (blob.envelope.length - 1));
  }

  @Test
  void truncatedFetchIsRejected() throws IOException {
    Blob blob = new Blob(FIRST + 3 * LATER + 500);
    int size = blob.plaintext.length;
    long[][] ranges = {{0, 10}, {FIRST + 5, LATER}, {0, size}, {size - 1, 1}};
    for (long[] r : ranges) {
      RangePlan plan = blob.plan(r[0], r[1]);
      byte[] fetched = blob.fetch(plan);
      for (int cut : new int[] {1, 16, LATER, fetched.length - 1}) {
        if (cut > fetched.length) {
          continue;
        }
        byte[] shorter = Arrays.copyOf(fetched, fetched.length - cut);
        assertThatThrownBy(() -> blob.decrypt(plan, shorter))
            .as("range %s cut by %d", plan, cut)
            .isInstanceOf(InvalidCiphertextIOException.class);
      }
    }
  }

  @Test
  void flippedByteIsRejected() throws IOException {
    Blob blob = new Blob(FIRST + 3 * LATER + 500);
    Random random = new Random(3);
    int size = blob.plaintext.length;
    for (int i = 0; i < 40; i++) {
      int offset = random.nextInt(size);
      RangePlan plan = blob.plan(offset, 1 + random.nextInt(size - offset));
      byte[] fetched = blob.fetch(plan);
      int at = random.nextInt(fetched.length);
      fetched[at] ^= (byte) (1 << random.nextInt(8));
      assertThatThrownBy(() -> blob.decrypt(plan, fetched))
          .as("range %s, flipped byte %d", plan, at)
          .isInstanceOfSatisfying(
              InvalidCiphertextIOException.class,
              e ->
                  assertThat(e.reason())
                      .isEqualTo(InvalidCiphertextException.Reason.AUTHENTICATION_FAILED));
    }
  }

  @Test
  void aSliceOfTheWrongSegmentsIsRejected() throws IOException {
    Blob blob = new Blob(FIRST + 3 * LATER + 500);
    RangePlan plan = blob.plan(FIRST + 1, 10); // segment 1
    RangePlan other = blob.plan(FIRST + LATER + 1, 10); // segment 2, same length
    assertThat(other.ciphertextLength()).isEqualTo(plan.ciphertextLength());
    assertThatThrownBy(() -> blob.decrypt(plan, blob.fetch(other)))
        .isInstanceOf(InvalidCiphertextIOException.class);
  }
}
