package dev.byok.testkit;

import dev.byok.EnvelopeHeader;

/**
 * Where the header regions and the payload segments of one v1 envelope lie, from its parsed header
 * and its length. The arithmetic is restated from {@code docs/format.md} on purpose, so that the
 * suite does not trust the code it tests: the payload header (40 bytes) starts at {@code
 * payloadOffset()}, segment 0 holds {@code S - 40} ciphertext bytes after it, every later segment
 * {@code S}, the last may be shorter; each carries a 16-byte tag. Immutable.
 */
final class EnvelopeLayout {
  static final int PAYLOAD_HEADER = 40;
  static final int TAG = 16;

  final int immutableLength;
  final int payloadOffset;
  final int segmentSize;
  final int length;

  /** Where segment 0 starts: the end of the whole header. */
  final int headerEnd;

  final int segments;

  EnvelopeLayout(EnvelopeHeader header, int length) {
    this(header.immutableLength(), header.payloadOffset(), header.segmentSize(), length);
  }

  private EnvelopeLayout(int immutableLength, int payloadOffset, int segmentSize, int length) {
    this.immutableLength = immutableLength;
    this.payloadOffset = payloadOffset;
    this.segmentSize = segmentSize;
    this.length = length;
    this.headerEnd = payloadOffset + PAYLOAD_HEADER;
    int n = 1;
    while (start(n) < length) {
      n++;
    }
    this.segments = n;
  }

  static EnvelopeLayout of(byte[] envelope) {
    return new EnvelopeLayout(EnvelopeHeader.parse(envelope), envelope.length);
  }

  /**
   * The same header followed by a payload of another length: how a reader splits a cut or extended
   * copy.
   */
  EnvelopeLayout withLength(int newLength) {
    return new EnvelopeLayout(immutableLength, payloadOffset, segmentSize, newLength);
  }

  /** Envelope offset where segment {@code k} starts. */
  int start(int k) {
    return k == 0 ? headerEnd : payloadOffset + k * segmentSize;
  }

  /** Envelope offset where segment {@code k} ends (exclusive), clipped to the envelope. */
  int end(int k) {
    return Math.min(payloadOffset + (k + 1) * segmentSize, length);
  }

  /** Whether segment {@code k} is the final one: no byte follows it. */
  boolean isLast(int k) {
    return payloadOffset + (k + 1) * segmentSize >= length;
  }

  /** Plaintext offset where segment {@code k} starts. */
  long plaintextOffset(int k) {
    return k == 0 ? 0 : (segmentSize - PAYLOAD_HEADER - TAG) + (long) (k - 1) * (segmentSize - TAG);
  }

  /**
   * A name for the header region that holds envelope byte {@code i} (i below {@link #headerEnd}).
   */
  String headerRegion(int i) {
    if (i < 4) {
      return "magic";
    } else if (i < 6) {
      return "version/suite";
    } else if (i < 8) {
      return "immutable length";
    } else if (i < 12) {
      return "segment size";
    } else if (i < 28) {
      return "DEK id";
    } else if (i < immutableLength - 32) {
      return "encryption context";
    } else if (i < immutableLength) {
      return "key commitment";
    } else if (i < payloadOffset) {
      return "key slots";
    } else if (i == payloadOffset) {
      return "payload header length byte";
    } else if (i < payloadOffset + 33) {
      return "HKDF salt";
    }
    return "nonce prefix";
  }
}
