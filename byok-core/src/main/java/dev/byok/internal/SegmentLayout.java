package dev.byok.internal;

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

  /** Segment numbers are 32-bit unsigned in the nonce. */
  public static final long MAX_SEGMENTS = 1L << 32;

  private final int segmentSize;
  private final int firstPlain;
  private final int plain;

  public SegmentLayout(int segmentSize) {
    if (segmentSize <= PAYLOAD_HEADER_LENGTH + TAG_LENGTH) {
      throw new IllegalArgumentException("segment size too small: " + segmentSize);
    }
    this.segmentSize = segmentSize;
    this.firstPlain = segmentSize - PAYLOAD_HEADER_LENGTH - TAG_LENGTH;
    this.plain = segmentSize - TAG_LENGTH;
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
    if (n > MAX_SEGMENTS) {
      throw new IllegalArgumentException(
          "plaintext of " + plaintextLength + " bytes needs " + n + " segments, more than 2^32");
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
    if (segments > MAX_SEGMENTS) {
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
   *     TRAILING_DATA} if it would need more than 2^32 segments
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
      if (segments > MAX_SEGMENTS) {
        throw new InvalidCiphertextException(
            Reason.TRAILING_DATA, "the payload would need " + segments + " segments, over 2^32");
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
