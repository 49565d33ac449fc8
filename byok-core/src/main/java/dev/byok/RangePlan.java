package dev.byok;

import dev.byok.internal.SegmentLayout;

/**
 * Which envelope bytes to fetch to decrypt one plaintext range, for ranged GETs on object stores.
 * Only whole segments authenticate, so the fetched range covers every segment that overlaps the
 * plaintext range; {@link EnvelopeDecryptor#decryptRange} then returns exactly the requested
 * plaintext bytes. The header (including its 40-byte payload header) is needed as well: read it
 * once with {@link EnvelopeHeader#read} from the first {@link EnvelopeHeader#length()} bytes.
 *
 * <p>Immutable and thread-safe.
 */
public final class RangePlan {
  private final long plaintextSize;
  private final long plaintextOffset;
  private final long plaintextLength;
  private final long firstSegment;
  private final long lastSegment;
  private final long segmentCount;
  private final long ciphertextOffset;
  private final long ciphertextLength;
  private final int finalSegmentLength;

  private RangePlan(
      long plaintextSize,
      long plaintextOffset,
      long plaintextLength,
      long firstSegment,
      long lastSegment,
      long segmentCount,
      long ciphertextOffset,
      long ciphertextLength,
      int finalSegmentLength) {
    this.plaintextSize = plaintextSize;
    this.plaintextOffset = plaintextOffset;
    this.plaintextLength = plaintextLength;
    this.firstSegment = firstSegment;
    this.lastSegment = lastSegment;
    this.segmentCount = segmentCount;
    this.ciphertextOffset = ciphertextOffset;
    this.ciphertextLength = ciphertextLength;
    this.finalSegmentLength = finalSegmentLength;
  }

  static RangePlan create(
      EnvelopeHeader header, SegmentLayout layout, long envelopeLength, long offset, long length) {
    long size = header.plaintextLength(envelopeLength);
    if (offset < 0 || length < 0) {
      throw new IllegalArgumentException(
          "offset and length must be >= 0, were " + offset + " and " + length);
    }
    if (offset > size) {
      throw new IllegalArgumentException(
          "offset " + offset + " is past the plaintext size " + size);
    }
    long len = Math.min(length, size - offset);
    long count = layout.segmentCount(size);
    long payload = header.payloadOffset();
    long lastLen = envelopeLength - payload - layout.ciphertextOffset(count - 1);
    if (len == 0 && offset == size) {
      // a read at the end: fetch the final segment, so the end of the blob is authenticated
      long start = payload + layout.ciphertextOffset(count - 1);
      return new RangePlan(
          size,
          offset,
          0,
          count - 1,
          count - 1,
          count,
          start,
          envelopeLength - start,
          (int) lastLen);
    }
    if (len == 0) {
      return new RangePlan(
          size, offset, 0, 0, -1, count, payload + layout.ciphertextOffset(0), 0, (int) lastLen);
    }
    long first = layout.segmentOf(offset);
    long last = layout.segmentOf(offset + len - 1);
    long start = payload + layout.ciphertextOffset(first);
    long end = last == count - 1 ? envelopeLength : payload + layout.ciphertextOffset(last + 1);
    return new RangePlan(size, offset, len, first, last, count, start, end - start, (int) lastLen);
  }

  /** {@return the blob's total plaintext size} */
  public long plaintextSize() {
    return plaintextSize;
  }

  /** {@return first plaintext byte of the range} */
  public long plaintextOffset() {
    return plaintextOffset;
  }

  /** {@return plaintext bytes the range yields (clamped at the end of the blob)} */
  public long plaintextLength() {
    return plaintextLength;
  }

  /** {@return first segment to fetch} */
  public long firstSegment() {
    return firstSegment;
  }

  /**
   * {@return last segment to fetch (inclusive); {@code firstSegment - 1} for an empty range that
   * fetches nothing}
   */
  public long lastSegment() {
    return lastSegment;
  }

  /** {@return number of segments in the whole blob} */
  public long segmentCount() {
    return segmentCount;
  }

  /** {@return envelope offset of the first byte to fetch} */
  public long ciphertextOffset() {
    return ciphertextOffset;
  }

  /**
   * {@return number of envelope bytes to fetch: 0 for an empty range before the end of the
   * plaintext; an empty range at the end (offset = size) fetches the final segment, so that reading
   * it authenticates where the blob ends}
   */
  public long ciphertextLength() {
    return ciphertextLength;
  }

  /** Length of the blob's final segment, which may be short. */
  int finalSegmentLength() {
    return finalSegmentLength;
  }

  /**
   * The HTTP {@code Range} header value for the bytes to fetch, for example {@code
   * bytes=65536-131071}.
   *
   * @return the header value
   * @throws IllegalStateException for an empty range that needs no fetch
   */
  public String httpRange() {
    if (ciphertextLength == 0) {
      throw new IllegalStateException("empty range: nothing to fetch");
    }
    return "bytes=" + ciphertextOffset + "-" + (ciphertextOffset + ciphertextLength - 1);
  }

  @Override
  public String toString() {
    return "RangePlan[plaintext "
        + plaintextOffset
        + "+"
        + plaintextLength
        + " of "
        + plaintextSize
        + ", segments "
        + firstSegment
        + ".."
        + lastSegment
        + " of "
        + segmentCount
        + ", fetch "
        + ciphertextOffset
        + "+"
        + ciphertextLength
        + "]";
  }
}
