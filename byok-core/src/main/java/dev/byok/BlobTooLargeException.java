package dev.byok;

import java.io.IOException;

/**
 * A write (or a pull-mode read) would take a blob past its size cap: at most {@link #maxSegments()}
 * segments, derived from the AES-GCM usage limit of one blob key (2^36 AES blocks, about 1 TiB; see
 * docs/format.md section 3, "Limits"). The stream fails before it encrypts the segment that would
 * exceed the cap, and like any failed encrypting stream it is then poisoned: its output is never a
 * complete envelope. Split such data into several blobs.
 *
 * <p>Immutable; carries no key material.
 */
public final class BlobTooLargeException extends IOException {
  private static final long serialVersionUID = 1L;

  /** The segment size of the blob, in bytes. */
  private final int segmentSize;

  /** The most segments a blob of that segment size may hold. */
  private final long maxSegments;

  /** The longest plaintext a blob of that segment size may hold, in bytes. */
  private final long maxPlaintextLength;

  /**
   * Creates the exception for a blob of {@code segmentSize}-byte segments.
   *
   * @param segmentSize the ciphertext segment size in bytes
   * @param maxSegments the segment cap for that size
   * @param maxPlaintextLength the plaintext bytes that many segments hold
   */
  public BlobTooLargeException(int segmentSize, long maxSegments, long maxPlaintextLength) {
    super(
        "plaintext too long: a blob of "
            + segmentSize
            + "-byte segments holds at most "
            + maxSegments
            + " segments ("
            + maxPlaintextLength
            + " plaintext bytes), the AES-GCM limit of 2^36 blocks per blob key;"
            + " split the data into several blobs");
    this.segmentSize = segmentSize;
    this.maxSegments = maxSegments;
    this.maxPlaintextLength = maxPlaintextLength;
  }

  /** {@return the segment size of the blob, in bytes} */
  public int segmentSize() {
    return segmentSize;
  }

  /** {@return the most segments a blob of this segment size may hold} */
  public long maxSegments() {
    return maxSegments;
  }

  /** {@return the longest plaintext a blob of this segment size may hold, in bytes} */
  public long maxPlaintextLength() {
    return maxPlaintextLength;
  }
}
