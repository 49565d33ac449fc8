package dev.byok.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.subtle.AesGcmHkdfStreaming;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SegmentLayoutTest {
  private static final int S = 4096;
  private static final int[] SEGMENT_SIZES = {4096, 4097, 65536, 70001, 1 << 20, 8 << 20};

  /** Every payload length up to 3 segments + 100: the valid ones invert, all others are -1. */
  @Test
  void everySmallPayloadLengthInvertsOrIsImpossible() {
    SegmentLayout layout = new SegmentLayout(S);
    long maxPlain = 3L * S + 100;
    long nextPlain =
        0; // the smallest plaintext length whose payload length has not been reached yet
    long nextPayload = layout.payloadLength(0);
    assertThat(nextPayload).isEqualTo(40 + 16);
    for (long payload = 0; payload <= layout.payloadLength(maxPlain); payload++) {
      long p = layout.plaintextLengthOrMinusOne(payload);
      if (payload == nextPayload) {
        assertThat(p).as("payload %d", payload).isEqualTo(nextPlain);
        nextPlain++;
        nextPayload = layout.payloadLength(nextPlain);
        assertThat(nextPayload).as("payload length grows with plaintext").isGreaterThan(payload);
      } else {
        assertThat(p).as("payload %d is impossible", payload).isEqualTo(-1);
      }
    }
    assertThat(nextPlain).isEqualTo(maxPlain + 1);
  }

  /** Independent model: one 40-byte payload header, then a 16-byte tag per segment. */
  @Test
  void payloadLengthMatchesModel() {
    SegmentLayout layout = new SegmentLayout(S);
    int first = S - 56;
    int later = S - 16;
    assertThat(layout.payloadLength(0)).isEqualTo(56);
    assertThat(layout.payloadLength(first)).isEqualTo(S);
    assertThat(layout.payloadLength(first + 1)).isEqualTo(S + 1 + 16);
    assertThat(layout.payloadLength(first + later)).isEqualTo(2L * S);
    assertThat(layout.payloadLength(first + 2L * later)).isEqualTo(3L * S);
    // an exact segment boundary has no empty segment after it
    assertThat(layout.segmentCount(first + later)).isEqualTo(2);
    assertThat(layout.segmentCount(first + later + 1)).isEqualTo(3);
    // a non-first final segment always holds at least one plaintext byte: S+1..S+16 are impossible
    for (long payload = 2L * S + 1; payload <= 2L * S + 16; payload++) {
      assertThat(layout.plaintextLengthOrMinusOne(payload)).as("payload %d", payload).isEqualTo(-1);
    }
    assertThat(layout.plaintextLengthOrMinusOne(2L * S + 17)).isEqualTo(first + later + 1);
  }

  @ParameterizedTest
  @ValueSource(ints = {4096, 4097, 65536, 70001, 1 << 20, 8 << 20})
  void randomLargeLengthsInvert(int segmentSize) {
    SegmentLayout layout = new SegmentLayout(segmentSize);
    Random random = new Random(segmentSize);
    long maxPlain = maxPlaintext(layout);
    long maxPayload = layout.payloadLength(maxPlain);
    for (int i = 0; i < 2000; i++) {
      long plain =
          Math.min(maxPlain, (long) Math.pow(maxPlain, random.nextDouble()) + random.nextInt(3));
      long payload = layout.payloadLength(plain);
      assertThat(layout.plaintextLengthOrMinusOne(payload))
          .as("plaintext %d", plain)
          .isEqualTo(plain);

      long anyPayload = (long) Math.pow(maxPayload, random.nextDouble()) + random.nextInt(20);
      long p = layout.plaintextLengthOrMinusOne(anyPayload);
      long inverse = smallestPlaintextReaching(layout, anyPayload, maxPlain);
      boolean possible = layout.payloadLength(inverse) == anyPayload;
      assertThat(p).as("payload %d", anyPayload).isEqualTo(possible ? inverse : -1);

      // around the start of a random segment k: k*S ends k full segments; 1..16 bytes more is a tag
      // without plaintext, impossible; 17 and up is a final segment with plaintext
      long k = 1 + (random.nextLong() >>> 1) % (layout.maxSegments() - 1);
      long full = layout.plaintextCapacity(0) + (k - 1) * layout.plaintextCapacity(1);
      for (int j = 0; j <= 18; j++) {
        long expected = j == 0 ? full : j <= 16 ? -1 : full + j - 16;
        assertThat(layout.plaintextLengthOrMinusOne(k * segmentSize + j))
            .as("k=%d j=%d", k, j)
            .isEqualTo(expected);
      }
    }
  }

  /**
   * Binary search over the strictly increasing payloadLength, independent of the closed-form
   * inverse.
   */
  private static long smallestPlaintextReaching(SegmentLayout layout, long payload, long maxPlain) {
    long lo = 0;
    long hi = Math.min(payload, maxPlain); // payloadLength(p) > p
    while (lo < hi) {
      long mid = (lo + hi) >>> 1;
      if (layout.payloadLength(mid) >= payload) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  /** The longest plaintext whose segments still fit the per-blob segment cap. */
  private static long maxPlaintext(SegmentLayout layout) {
    return layout.plaintextCapacity(0) + (layout.maxSegments() - 1) * layout.plaintextCapacity(1);
  }

  @Test
  void lengthsMatchStockTink() throws Exception {
    Random random = new Random(7);
    for (int segmentSize : SEGMENT_SIZES) {
      AesGcmHkdfStreaming tink =
          new AesGcmHkdfStreaming(new byte[32], "HmacSha256", 32, segmentSize, 0);
      SegmentLayout layout = new SegmentLayout(segmentSize);
      long first = segmentSize - 56L;
      long later = segmentSize - 16L;
      long[] boundaries = {
        0, 1, first - 1, first, first + 1, first + later - 1, first + later, first + later + 1
      };
      for (long plain : boundaries) {
        assertThat(layout.payloadLength(plain))
            .as("S=%d P=%d", segmentSize, plain)
            .isEqualTo(tink.expectedCiphertextSize(plain));
      }
      for (int i = 0; i < 500; i++) {
        long plain = (long) (Math.pow(2, 40 * random.nextDouble())) % (maxPlaintext(layout) + 1);
        assertThat(layout.payloadLength(plain))
            .as("S=%d P=%d", segmentSize, plain)
            .isEqualTo(tink.expectedCiphertextSize(plain));
      }
    }
  }

  @Test
  void segmentOffsetsAreConsistent() {
    SegmentLayout layout = new SegmentLayout(S);
    for (long p = 0; p < 4L * S; p++) {
      long seg = layout.segmentOf(p);
      assertThat(layout.plaintextOffset(seg)).isLessThanOrEqualTo(p);
      assertThat(layout.plaintextOffset(seg + 1)).isGreaterThan(p);
      assertThat(layout.plaintextOffset(seg + 1) - layout.plaintextOffset(seg))
          .isEqualTo(layout.plaintextCapacity(seg));
      assertThat(layout.ciphertextOffset(seg + 1) - layout.ciphertextOffset(seg))
          .isEqualTo(layout.ciphertextCapacity(seg));
    }
    assertThat(layout.ciphertextOffset(0)).isEqualTo(40);
    assertThat(layout.ciphertextOffset(1)).isEqualTo(S);
  }

  @Test
  void theSegmentLimitIsEnforcedBothWays() {
    SegmentLayout layout = new SegmentLayout(S);
    long maxPlain = maxPlaintext(layout);
    assertThat(maxPlain).isEqualTo((S - 56L) + (layout.maxSegments() - 1) * (S - 16L));
    assertThat(maxPlain).isEqualTo(layout.maxPlaintextLength());
    long maxPayload = layout.payloadLength(maxPlain);
    assertThat(maxPayload).isEqualTo(layout.maxSegments() * S);
    assertThat(layout.plaintextLengthOrMinusOne(maxPayload)).isEqualTo(maxPlain);
    assertThatThrownBy(() -> layout.payloadLength(maxPlain + 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(layout.plaintextLengthOrMinusOne(maxPayload + 17)).isEqualTo(-1);
    assertThat(layout.plaintextLengthOrMinusOne(Long.MAX_VALUE)).isEqualTo(-1);
  }

  @ParameterizedTest
  @ValueSource(longs = {-1, Long.MIN_VALUE})
  void negativeLengths(long length) {
    SegmentLayout layout = new SegmentLayout(S);
    assertThat(layout.plaintextLengthOrMinusOne(length)).isEqualTo(-1);
    assertThatThrownBy(() -> layout.payloadLength(length))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
