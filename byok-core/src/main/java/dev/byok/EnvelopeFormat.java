package dev.byok;

/**
 * Constants of envelope format v1; the byte-for-byte description is {@code docs/format.md}. Every
 * length field in a header is checked against the bounds here before anything is allocated.
 */
public final class EnvelopeFormat {
  /** The four magic bytes that start every envelope: ASCII {@code BYOK}. */
  static final byte[] MAGIC = {'B', 'Y', 'O', 'K'};

  /** The format version this library writes and reads. */
  public static final int VERSION = 1;

  /**
   * Suite 1: payload AES-256-GCM-HKDF-SHA256 streaming (Tink-compatible, 32-byte derived key), key
   * commitment HMAC-SHA256.
   */
  public static final int SUITE_AES256_GCM_HKDF_SHA256 = 1;

  /** Smallest ciphertext segment size, in bytes. */
  public static final int MIN_SEGMENT_SIZE = 4 * 1024;

  /** Largest ciphertext segment size, in bytes. */
  public static final int MAX_SEGMENT_SIZE = 8 * 1024 * 1024;

  /** Default ciphertext segment size, in bytes; see docs/format.md for why. */
  public static final int DEFAULT_SEGMENT_SIZE = 64 * 1024;

  /** Largest number of key slots in one header. */
  public static final int MAX_KEY_SLOTS = 16;

  /**
   * Bytes of the immutable part before the context: magic, version, suite, length, segment size,
   * DEK id.
   */
  static final int FIXED_PREFIX = 4 + 1 + 1 + 2 + 4 + DataKey.ID_LENGTH;

  /** Smallest immutable part: fixed prefix, an empty context (2-byte count), the commitment. */
  static final int MIN_IMMUTABLE_LENGTH = FIXED_PREFIX + 2 + 32;

  /** Largest immutable part. */
  public static final int MAX_IMMUTABLE_LENGTH =
      FIXED_PREFIX + EncryptionContext.MAX_ENCODED_BYTES + 32;

  /** Largest key slot section (after its 4-byte length field). */
  public static final int MAX_SLOT_SECTION_LENGTH =
      1
          + MAX_KEY_SLOTS
              * (1
                  + KeySlot.MAX_PROVIDER_ID_BYTES
                  + 2
                  + KeySlot.MAX_KEY_ARN_BYTES
                  + 2
                  + KeySlot.MAX_WRAPPED_KEY_BYTES);

  private EnvelopeFormat() {}

  /**
   * Checks a segment size against the bounds.
   *
   * @param segmentSize the ciphertext segment size
   * @return the same value
   * @throws IllegalArgumentException naming the value if it is out of bounds
   */
  static int checkSegmentSize(int segmentSize) {
    if (segmentSize < MIN_SEGMENT_SIZE || segmentSize > MAX_SEGMENT_SIZE) {
      throw new IllegalArgumentException(
          "segmentSize must be between "
              + MIN_SEGMENT_SIZE
              + " and "
              + MAX_SEGMENT_SIZE
              + " bytes, was "
              + segmentSize);
    }
    return segmentSize;
  }
}
