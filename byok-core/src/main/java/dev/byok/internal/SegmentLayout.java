package dev.byok.internal;

import dev.byok.BlobTooLargeException;
import dev.byok.InvalidCiphertextException;
import dev.byok.InvalidCiphertextException.Reason;

/**
 * The arithmetic of the Tink-compatible AES-GCM-HKDF streaming payload: a 40-byte payload header
 * (length byte, 32-byte HKDF salt, 7-byte nonce prefix) followed by segments of {@code S}
 * ciphertext bytes (the first one {@code S - 40}), each carrying a 16-byte GCM tag. The last
 * segment may be shorter; a segment is written as non-last only when more plaintext follows.
 *
 * <p>All offsets here are relative to the start of the payload. Immutable and thread-safe.
 */
public final class SegmentLayout {
  public static final int TAG_LENGTH = 16;
  public static final int SALT_LENGTH = 32;
  public static final int NONCE_PREFIX_LENGTH = 7;

  /** Payload header: one length byte, the salt and the nonce prefix. */
  public static final int PAYLOAD_HEADER_LENGTH = 1 + SALT_LENGTH + NONCE_PREFIX_LENGTH;

  /** Segment numbers are 32-bit unsigned in the nonce: no layout allows more segments. */
  public static final long MAX_SEGMENTS = 1L << 32;

  /**
   * AES block operations one blob key may perform: 2^36 (1 TiB of AES output). Every blob has its
   * own key (HKDF of the data key and the blob's random salt), so this is a per-blob limit. By the
   * AES-GCM confidentiality bound of draft-irtf-cfrg-aead-limits (section 5.1, after Bellare and
   * Tackmann / NIST SP 800-38D), an attacker's advantage in telling the ciphertext from random is
   * at most {@code (sigma + q + 1)^2 / 2^129} for {@code sigma} plaintext blocks in {@code q}
   * messages; keeping {@code sigma + q} below 2^36 keeps it below 2^-57, the draft's target and the
   * one Tink's and the AWS Encryption SDK's per-key limits are set by. See docs/format.md section
   * 3, "Limits".
   */
  public static final long MAX_BLOCKS_PER_KEY = 1L << 36;

  private final int segmentSize;
  private final long maxSegments;
  private final int firstPlain;
  private final int plain;

  public SegmentLayout(int segmentSize) {
    this(segmentSize, maxSegments(segmentSize));
  }

  /** Test seam: a layout with a lower segment cap, so tests can reach it. */
  SegmentLayout(int segmentSize, long maxSegments) {
    if (segmentSize <= PAYLOAD_HEADER_LENGTH + TAG_LENGTH) {
      throw new IllegalArgumentException("segment size too small: " + segmentSize);
    }
    if (maxSegments < 1 || maxSegments > maxSegments(segmentSize)) {
      throw new IllegalArgumentException("segment cap out of range: " + maxSegments);
    }
    this.segmentSize = segmentSize;
    this.firstPlain = segmentSize - PAYLOAD_HEADER_LENGTH - TAG_LENGTH;
    this.plain = segmentSize - TAG_LENGTH;
    this.maxSegments = maxSegments;
  }

  /**
   * The segment cap of a blob with segments of {@code segmentSize} bytes: a segment encrypts at
   * most {@code ceil((S - 16) / 16)} plaintext blocks plus one block for its tag, at most {@code
   * ceil(S / 16)} AES operations, so {@code floor(2^36 / ceil(S / 16))} segments keep a blob within
   * {@link #MAX_BLOCKS_PER_KEY}; never more than the nonce's 2^32.
   */
  static long maxSegments(int segmentSize) {
    long blocks = (segmentSize + 15L) / 16;
    return Math.min(MAX_SEGMENTS, MAX_BLOCKS_PER_KEY / blocks);
  }

  /** {@return the most segments a blob of this layout may have (see {@link #maxSegments(int)})} */
  public long maxSegments() {
    return maxSegments;
  }

  /** {@return the typed error of a blob that would exceed {@link #maxSegments()}} */
  public BlobTooLargeException tooLarge() {
    return new BlobTooLargeException(segmentSize, maxSegments, maxPlaintextLength());
  }

  /** {@return the longest plaintext a blob of this layout may hold} */
  public long maxPlaintextLength() {
    return firstPlain + (maxSegments - 1) * plain;
  }

  /** {@return the ciphertext segment size {@code S}} */
  public int segmentSize() {
    return segmentSize;
  }

  /** {@return plaintext bytes in segment {@code i} when it is full} */
  public int plaintextCapacity(long i) {
    return i == 0 ? firstPlain : plain;
  }

  /** {@return ciphertext bytes of segment {@code i} when it is full} */
  public int ciphertextCapacity(long i) {
    return i == 0 ? segmentSize - PAYLOAD_HEADER_LENGTH : segmentSize;
  }

  /** {@return the largest plaintext segment, for buffer sizing} */
  public int maxPlaintextSegment() {
    return plain;
  }

  /** {@return number of segments that a plaintext of this length is written as (at least one)} */
  public long segmentCount(long plaintextLength) {
    if (plaintextLength < 0) {
      throw new IllegalArgumentException("plaintext length must be >= 0, was " + plaintextLength);
    }
    if (plaintextLength <= firstPlain) {
      return 1;
    }
    return 1 + ceilDiv(plaintextLength - firstPlain, plain);
  }

  /** {@return exact payload length for a plaintext length} */
  public long payloadLength(long plaintextLength) {
    long n = segmentCount(plaintextLength);
    if (n > maxSegments) {
      throw new IllegalArgumentException(
          "plaintext of "
              + plaintextLength
              + " bytes needs "
              + n
              + " segments, more than the "
              + maxSegments
              + " a blob of "
              + segmentSize
              + "-byte segments may hold (2^36 AES blocks per blob key)");
    }
    return Math.addExact(
        PAYLOAD_HEADER_LENGTH + plaintextLength, Math.multiplyExact(n, TAG_LENGTH));
  }

  /**
   * Inverse of {@link #payloadLength}.
   *
   * @return the plaintext length, or -1 if no plaintext encrypts to exactly this payload length
   */
  public long plaintextLengthOrMinusOne(long payloadLength) {
    long c = payloadLength - PAYLOAD_HEADER_LENGTH;
    if (c < TAG_LENGTH) {
      return -1;
    }
    long first = segmentSize - PAYLOAD_HEADER_LENGTH;
    if (c <= first) {
      return c - TAG_LENGTH;
    }
    long rest = c - first;
    long full = rest / segmentSize;
    long rem = rest % segmentSize;
    long segments = 1 + full + (rem == 0 ? 0 : 1);
    if (segments > maxSegments) {
      return -1;
    }
    if (rem == 0) {
      return firstPlain + full * plain;
    }
    if (rem <= TAG_LENGTH) {
      return -1; // a non-first last segment always carries at least one plaintext byte
    }
    return firstPlain + full * plain + (rem - TAG_LENGTH);
  }

  /**
   * The plaintext length of a payload of {@code payloadLength} bytes (from its 40-byte header to
   * the end of the envelope), by the length rule of {@code docs/format.md} section 5: every reader
   * applies it, so every reader gives the same reason for a payload of an impossible length.
   *
   * @param payloadLength bytes from the payload header to the end of the envelope
   * @return the plaintext length
   * @throws InvalidCiphertextException {@code TRUNCATED} if the payload is shorter than its header
   *     plus one tag or its final segment is a non-first segment of at most 16 bytes; {@code
   *     TRAILING_DATA} if it would need more than {@link #maxSegments()} segments
   */
  public long checkedPlaintextLength(long payloadLength) {
    long c = payloadLength - PAYLOAD_HEADER_LENGTH;
    if (c < TAG_LENGTH) {
      throw new InvalidCiphertextException(
          Reason.TRUNCATED,
          "the payload has "
              + Math.max(0, c)
              + " bytes after its header, less than one segment's tag");
    }
    long first = segmentSize - PAYLOAD_HEADER_LENGTH;
    if (c > first) {
      long rest = c - first;
      long segments = 1 + rest / segmentSize + (rest % segmentSize == 0 ? 0 : 1);
      if (segments > maxSegments) {
        throw new InvalidCiphertextException(
            Reason.TRAILING_DATA,
            "the payload would need "
                + segments
                + " segments, over the cap of "
                + maxSegments
                + " for "
                + segmentSize
                + "-byte segments");
      }
      long rem = rest % segmentSize;
      if (rem > 0 && rem <= TAG_LENGTH) {
        throw new InvalidCiphertextException(
            Reason.TRUNCATED,
            "the payload ends "
                + rem
                + " bytes into segment "
                + (segments - 1)
                + ": a final segment after the first carries more than a tag");
      }
    }
    return plaintextLengthOrMinusOne(payloadLength);
  }

  /** {@return the index of the segment holding this plaintext offset} */
  public long segmentOf(long plaintextOffset) {
    return plaintextOffset < firstPlain ? 0 : 1 + (plaintextOffset - firstPlain) / plain;
  }

  /** {@return the plaintext offset where segment {@code i} starts} */
  public long plaintextOffset(long i) {
    return i == 0 ? 0 : firstPlain + (i - 1) * plain;
  }

  /** {@return the payload offset where segment {@code i} starts} */
  public long ciphertextOffset(long i) {
    return i == 0 ? PAYLOAD_HEADER_LENGTH : i * segmentSize;
  }

  private static long ceilDiv(long a, long b) {
    return -Math.floorDiv(-a, b);
  }
}
