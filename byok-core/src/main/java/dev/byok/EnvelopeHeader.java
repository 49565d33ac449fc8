package dev.byok;

import static dev.byok.InvalidCiphertextException.Reason.MALFORMED_HEADER;
import static dev.byok.InvalidCiphertextException.Reason.NOT_AN_ENVELOPE;
import static dev.byok.InvalidCiphertextException.Reason.TRUNCATED;
import static dev.byok.InvalidCiphertextException.Reason.UNSUPPORTED_VERSION;

import dev.byok.internal.Hex;
import dev.byok.internal.Io;
import dev.byok.internal.Kdf;
import dev.byok.internal.SegmentLayout;
import dev.byok.internal.Utf8;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The parsed header of one envelope: everything before the first payload segment. Reading it needs
 * no key and makes no KMS call; nothing in it is secret.
 *
 * <p>Layout (big-endian; full description in {@code docs/format.md}): the <em>immutable part</em>
 * (magic, version, suite, its own length, segment size, DEK id, encryption context, key commitment)
 * is the associated data of the payload; then the <em>key slots</em> (the only part that rewrap
 * replaces); then the 40-byte payload header of the Tink-compatible stream (length byte, HKDF salt,
 * nonce prefix).
 *
 * <p>Immutable and thread-safe.
 */
public final class EnvelopeHeader {
  private final byte[] immutable; // [0, L): the payload's associated data
  private final int segmentSize;
  private final byte[] dekId;
  private final EncryptionContext context;
  private final byte[] commitment;
  private final List<KeySlot> slots;
  private final byte[] slotSection; // 4-byte length + section
  private final byte[] payloadHeader; // 40 bytes

  private EnvelopeHeader(
      byte[] immutable,
      int segmentSize,
      byte[] dekId,
      EncryptionContext context,
      byte[] commitment,
      List<KeySlot> slots,
      byte[] slotSection,
      byte[] payloadHeader) {
    this.immutable = immutable;
    this.segmentSize = segmentSize;
    this.dekId = dekId;
    this.context = context;
    this.commitment = commitment;
    this.slots = slots;
    this.slotSection = slotSection;
    this.payloadHeader = payloadHeader;
  }

  // ---------------------------------------------------------------- creating (encrypt side)

  /** Builds the header for new blobs under {@code key}; the payload header is filled per blob. */
  static EnvelopeHeader create(
      int segmentSize, DataKey key, EncryptionContext context, List<KeySlot> slots) {
    ByteArrayOutputStream b = new ByteArrayOutputStream(128);
    b.writeBytes(EnvelopeFormat.MAGIC);
    b.write(EnvelopeFormat.VERSION);
    b.write(EnvelopeFormat.SUITE_AES256_GCM_HKDF_SHA256);
    b.write(0); // immutable length, patched below
    b.write(0);
    writeInt(b, segmentSize);
    byte[] id = key.id();
    b.writeBytes(id);
    b.writeBytes(context.toCanonicalBytes());
    int length = b.size() + Kdf.COMMITMENT_LENGTH;
    byte[] immutable = Arrays.copyOf(b.toByteArray(), length);
    immutable[6] = (byte) (length >>> 8);
    immutable[7] = (byte) length;
    byte[] dek = key.copyKeyMaterial();
    byte[] commitment;
    try {
      commitment = Kdf.commitment(dek, immutable, 0, length - Kdf.COMMITMENT_LENGTH);
    } finally {
      Arrays.fill(dek, (byte) 0);
    }
    System.arraycopy(
        commitment, 0, immutable, length - Kdf.COMMITMENT_LENGTH, Kdf.COMMITMENT_LENGTH);
    List<KeySlot> copy = List.copyOf(slots);
    return new EnvelopeHeader(
        immutable, segmentSize, id, context, commitment, copy, encodeSlots(copy), new byte[0]);
  }

  /** The same header with another payload header (salt and nonce prefix of a new blob). */
  EnvelopeHeader withPayloadHeader(byte[] payloadHeader) {
    return new EnvelopeHeader(
        immutable, segmentSize, dekId, context, commitment, slots, slotSection, payloadHeader);
  }

  /**
   * Returns this header with its key slots replaced: the immutable part and the payload header are
   * kept byte for byte, so the payload that follows stays valid. This is the rewrap primitive; the
   * caller must make sure every new slot wraps this header's data key ({@link #matchesKey}).
   *
   * @param newSlots 1 to {@value EnvelopeFormat#MAX_KEY_SLOTS} slots
   * @return a new header
   * @throws IllegalArgumentException if the slot count is out of bounds
   */
  public EnvelopeHeader withKeySlots(List<KeySlot> newSlots) {
    List<KeySlot> copy = List.copyOf(newSlots);
    return new EnvelopeHeader(
        immutable, segmentSize, dekId, context, commitment, copy, encodeSlots(copy), payloadHeader);
  }

  private static byte[] encodeSlots(List<KeySlot> slots) {
    if (slots.isEmpty() || slots.size() > EnvelopeFormat.MAX_KEY_SLOTS) {
      throw new IllegalArgumentException(
          "a header needs 1.." + EnvelopeFormat.MAX_KEY_SLOTS + " key slots, got " + slots.size());
    }
    ByteArrayOutputStream b = new ByteArrayOutputStream(256);
    writeInt(b, 0); // section length, patched below
    b.write(slots.size());
    for (KeySlot s : slots) {
      byte[] p = Utf8.encode(s.providerId());
      byte[] a = Utf8.encode(s.keyArn());
      byte[] w = s.wrappedKey();
      b.write(p.length);
      b.writeBytes(p);
      writeShort(b, a.length);
      b.writeBytes(a);
      writeShort(b, w.length);
      b.writeBytes(w);
    }
    byte[] out = b.toByteArray();
    int len = out.length - 4;
    out[0] = (byte) (len >>> 24);
    out[1] = (byte) (len >>> 16);
    out[2] = (byte) (len >>> 8);
    out[3] = (byte) len;
    return out;
  }

  private static void writeShort(ByteArrayOutputStream b, int v) {
    b.write(v >>> 8);
    b.write(v);
  }

  private static void writeInt(ByteArrayOutputStream b, int v) {
    b.write(v >>> 24);
    b.write(v >>> 16);
    b.write(v >>> 8);
    b.write(v);
  }

  /**
   * Writes this header (immutable part, key slots and payload header) to {@code out}.
   *
   * @param out the destination; not closed
   * @throws IOException if writing fails
   */
  public void writeTo(OutputStream out) throws IOException {
    out.write(immutable);
    out.write(slotSection);
    out.write(payloadHeader);
  }

  /** {@return the encoded header, as {@link #writeTo} writes it} */
  public byte[] toByteArray() {
    byte[] out = new byte[length()];
    System.arraycopy(immutable, 0, out, 0, immutable.length);
    System.arraycopy(slotSection, 0, out, immutable.length, slotSection.length);
    System.arraycopy(
        payloadHeader, 0, out, immutable.length + slotSection.length, payloadHeader.length);
    return out;
  }

  // ---------------------------------------------------------------- parsing (decrypt side)

  /**
   * Reads exactly one header from {@code in}, leaving the stream at the first payload segment.
   * Every length is checked against the documented bound before anything is allocated: a hostile
   * header allocates at most about {@value EnvelopeFormat#MAX_SLOT_SECTION_LENGTH} bytes.
   *
   * @param in the envelope, positioned at its start; not closed
   * @return the header
   * @throws InvalidCiphertextException if the bytes are not a well-formed v1 header
   * @throws IOException if reading fails
   */
  public static EnvelopeHeader read(InputStream in) throws IOException {
    Objects.requireNonNull(in, "in");
    byte[] fixed = new byte[8];
    int n = Io.readUpTo(in, fixed, 0, fixed.length);
    if (n == 0) {
      throw new InvalidCiphertextException(NOT_AN_ENVELOPE, "empty input");
    }
    if (!Arrays.equals(fixed, 0, Math.min(n, 4), EnvelopeFormat.MAGIC, 0, Math.min(n, 4))) {
      throw new InvalidCiphertextException(
          NOT_AN_ENVELOPE, "input does not start with the byok magic");
    }
    if (n < fixed.length) {
      throw new InvalidCiphertextException(
          TRUNCATED, "input ends inside the header (" + n + " bytes)");
    }
    if (fixed[4] != EnvelopeFormat.VERSION) {
      throw new InvalidCiphertextException(
          UNSUPPORTED_VERSION,
          "format version " + (fixed[4] & 0xff) + " is not supported (this library reads 1)");
    }
    if (fixed[5] != EnvelopeFormat.SUITE_AES256_GCM_HKDF_SHA256) {
      throw new InvalidCiphertextException(
          UNSUPPORTED_VERSION, "algorithm suite " + (fixed[5] & 0xff) + " is not supported");
    }
    int immutableLength = ((fixed[6] & 0xff) << 8) | (fixed[7] & 0xff);
    if (immutableLength < EnvelopeFormat.MIN_IMMUTABLE_LENGTH
        || immutableLength > EnvelopeFormat.MAX_IMMUTABLE_LENGTH) {
      throw new InvalidCiphertextException(
          MALFORMED_HEADER,
          "immutable header length "
              + immutableLength
              + " is outside "
              + EnvelopeFormat.MIN_IMMUTABLE_LENGTH
              + ".."
              + EnvelopeFormat.MAX_IMMUTABLE_LENGTH);
    }
    byte[] immutable = Arrays.copyOf(fixed, immutableLength);
    readExactly(in, immutable, 8, immutableLength - 8, "header");
    Cursor c = new Cursor(immutable, 8, immutableLength - Kdf.COMMITMENT_LENGTH);
    int segmentSize = c.int32();
    if (segmentSize < EnvelopeFormat.MIN_SEGMENT_SIZE
        || segmentSize > EnvelopeFormat.MAX_SEGMENT_SIZE) {
      throw new InvalidCiphertextException(
          MALFORMED_HEADER,
          "segment size " + Integer.toUnsignedString(segmentSize) + " is out of bounds");
    }
    byte[] dekId = c.bytes(DataKey.ID_LENGTH);
    EncryptionContext context = readContext(c);
    c.expectEnd("encryption context");
    byte[] commitment =
        Arrays.copyOfRange(immutable, immutableLength - Kdf.COMMITMENT_LENGTH, immutableLength);

    byte[] lengthField = new byte[4];
    readExactly(in, lengthField, 0, 4, "key slot section");
    long sectionLength = new Cursor(lengthField, 0, 4).int32() & 0xffffffffL;
    if (sectionLength < 1 || sectionLength > EnvelopeFormat.MAX_SLOT_SECTION_LENGTH) {
      throw new InvalidCiphertextException(
          MALFORMED_HEADER,
          "key slot section length "
              + sectionLength
              + " is outside 1.."
              + EnvelopeFormat.MAX_SLOT_SECTION_LENGTH);
    }
    byte[] slotSection = Arrays.copyOf(lengthField, 4 + (int) sectionLength);
    readExactly(in, slotSection, 4, (int) sectionLength, "key slot section");
    List<KeySlot> slots = readSlots(new Cursor(slotSection, 4, slotSection.length));

    byte[] payloadHeader = new byte[SegmentLayout.PAYLOAD_HEADER_LENGTH];
    readExactly(in, payloadHeader, 0, payloadHeader.length, "payload header");
    if ((payloadHeader[0] & 0xff) != SegmentLayout.PAYLOAD_HEADER_LENGTH) {
      throw new InvalidCiphertextException(
          MALFORMED_HEADER,
          "payload header length byte is " + (payloadHeader[0] & 0xff) + ", expected 40");
    }
    return new EnvelopeHeader(
        immutable, segmentSize, dekId, context, commitment, slots, slotSection, payloadHeader);
  }

  /**
   * Parses a header from the start of {@code envelopePrefix} (which may hold more bytes).
   *
   * @param envelopePrefix at least the header's bytes
   * @return the header
   * @throws InvalidCiphertextException if the bytes are not a well-formed v1 header
   */
  public static EnvelopeHeader parse(byte[] envelopePrefix) {
    try {
      return read(new ByteArrayInputStream(envelopePrefix));
    } catch (IOException e) {
      throw new IllegalStateException("unreachable: in-memory read failed", e);
    }
  }

  private static void readExactly(InputStream in, byte[] b, int off, int len, String what)
      throws IOException {
    int n = Io.readUpTo(in, b, off, len);
    if (n < len) {
      throw new InvalidCiphertextException(TRUNCATED, "input ends inside the " + what);
    }
  }

  private static EncryptionContext readContext(Cursor c) {
    int count = c.uint16();
    if (count > EncryptionContext.MAX_ENTRIES) {
      throw new InvalidCiphertextException(
          MALFORMED_HEADER,
          "encryption context claims "
              + count
              + " entries, at most "
              + EncryptionContext.MAX_ENTRIES);
    }
    Map<String, String> map = new LinkedHashMap<>();
    int previous = -1; // offset and length of the previous key in the section
    int previousLength = 0;
    for (int i = 0; i < count; i++) {
      int kl = c.length(1, EncryptionContext.MAX_STRING_BYTES, "context key");
      int at = c.pos;
      String k = c.utf8(kl, "context key");
      if (previous >= 0
          && Arrays.compareUnsigned(c.b, previous, previous + previousLength, c.b, at, at + kl)
              >= 0) {
        throw new InvalidCiphertextException(
            MALFORMED_HEADER, "encryption context keys are not in canonical order");
      }
      previous = at;
      previousLength = kl;
      String v =
          c.utf8(c.length(0, EncryptionContext.MAX_STRING_BYTES, "context value"), "context value");
      map.put(k, v);
    }
    try {
      return EncryptionContext.of(map);
    } catch (IllegalArgumentException e) {
      throw new InvalidCiphertextException(
          MALFORMED_HEADER, "encryption context: " + e.getMessage());
    }
  }

  private static List<KeySlot> readSlots(Cursor c) {
    int count = c.uint8();
    if (count < 1 || count > EnvelopeFormat.MAX_KEY_SLOTS) {
      throw new InvalidCiphertextException(
          MALFORMED_HEADER,
          "header claims " + count + " key slots, allowed 1.." + EnvelopeFormat.MAX_KEY_SLOTS);
    }
    List<KeySlot> slots = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int pl = c.uint8();
      if (pl < 1 || pl > KeySlot.MAX_PROVIDER_ID_BYTES) {
        throw new InvalidCiphertextException(
            MALFORMED_HEADER, "key slot " + i + " provider id length " + pl);
      }
      String provider = c.utf8(pl, "provider id");
      String arn = c.utf8(c.length(1, KeySlot.MAX_KEY_ARN_BYTES, "key ARN"), "key ARN");
      byte[] wrapped = c.bytes(c.length(1, KeySlot.MAX_WRAPPED_KEY_BYTES, "wrapped key"));
      try {
        slots.add(KeySlot.parsed(provider, arn, wrapped));
      } catch (IllegalArgumentException e) {
        throw new InvalidCiphertextException(
            MALFORMED_HEADER, "key slot " + i + ": " + e.getMessage());
      }
    }
    c.expectEnd("key slot section");
    return Collections.unmodifiableList(slots);
  }

  /** A bounds-checked reader over a byte range; every overrun is a typed header error. */
  private static final class Cursor {
    private final byte[] b;
    private int pos;
    private final int end;

    Cursor(byte[] b, int pos, int end) {
      this.b = b;
      this.pos = pos;
      this.end = end;
    }

    private void need(int n) {
      if (n < 0 || end - pos < n) {
        throw new InvalidCiphertextException(
            MALFORMED_HEADER, "a header field runs past its section");
      }
    }

    int uint8() {
      need(1);
      return b[pos++] & 0xff;
    }

    int uint16() {
      need(2);
      int v = ((b[pos] & 0xff) << 8) | (b[pos + 1] & 0xff);
      pos += 2;
      return v;
    }

    int int32() {
      need(4);
      int v =
          ((b[pos] & 0xff) << 24)
              | ((b[pos + 1] & 0xff) << 16)
              | ((b[pos + 2] & 0xff) << 8)
              | (b[pos + 3] & 0xff);
      pos += 4;
      return v;
    }

    int length(int min, int max, String what) {
      int v = uint16();
      if (v < min || v > max) {
        throw new InvalidCiphertextException(
            MALFORMED_HEADER, what + " length " + v + " is outside " + min + ".." + max);
      }
      return v;
    }

    byte[] bytes(int n) {
      need(n);
      byte[] out = Arrays.copyOfRange(b, pos, pos + n);
      pos += n;
      return out;
    }

    /** Decodes the next {@code n} bytes as well-formed UTF-8, copying nothing else. */
    String utf8(int n, String what) {
      need(n);
      try {
        String s = Utf8.decodeValid(b, pos, n);
        pos += n;
        return s;
      } catch (IllegalArgumentException e) {
        throw new InvalidCiphertextException(MALFORMED_HEADER, what + " is not valid UTF-8");
      }
    }

    void expectEnd(String what) {
      if (pos != end) {
        throw new InvalidCiphertextException(
            MALFORMED_HEADER, (end - pos) + " unexpected bytes after the " + what);
      }
    }
  }

  // ---------------------------------------------------------------- facts

  /** {@return the format version (1)} */
  public int formatVersion() {
    return immutable[4] & 0xff;
  }

  /** {@return the algorithm suite id ({@link EnvelopeFormat#SUITE_AES256_GCM_HKDF_SHA256})} */
  public int suiteId() {
    return immutable[5] & 0xff;
  }

  /** {@return the ciphertext segment size in bytes} */
  public int segmentSize() {
    return segmentSize;
  }

  /** {@return a copy of the data key id} */
  public byte[] dekId() {
    return dekId.clone();
  }

  /** {@return the data key id as lower-case hex} */
  public String dekIdHex() {
    return Hex.encode(dekId);
  }

  /** {@return the encryption context bound to the blob} */
  public EncryptionContext encryptionContext() {
    return context;
  }

  /** {@return the key slots, in header order; unmodifiable} */
  public List<KeySlot> keySlots() {
    return slots;
  }

  /** {@return a copy of the key commitment (public: it reveals nothing about the key)} */
  public byte[] keyCommitment() {
    return commitment.clone();
  }

  /** {@return length of the immutable part, the payload's associated data} */
  public int immutableLength() {
    return immutable.length;
  }

  /** {@return a copy of the immutable part: the associated data of the payload stream} */
  public byte[] associatedData() {
    return immutable.clone();
  }

  /** {@return total header length in bytes: where the first payload segment starts} */
  public int length() {
    return immutable.length + slotSection.length + payloadHeader.length;
  }

  /** {@return offset of the Tink-compatible payload (its 40-byte header) in the envelope} */
  public int payloadOffset() {
    return immutable.length + slotSection.length;
  }

  /**
   * Whether {@code key} is this header's data key: checks the key commitment in constant time. A
   * key that passes cannot decrypt to anything but the original plaintext.
   *
   * @param key a candidate data key
   * @return true if the commitment matches
   */
  public boolean matchesKey(DataKey key) {
    byte[] dek = key.copyKeyMaterial();
    try {
      return Kdf.equal(commitmentFor(dek), commitment);
    } finally {
      Arrays.fill(dek, (byte) 0);
    }
  }

  byte[] commitmentFor(byte[] dek) {
    return Kdf.commitment(dek, immutable, 0, immutable.length - Kdf.COMMITMENT_LENGTH);
  }

  /**
   * Checks that the blob's encryption context is exactly {@code expected}.
   *
   * @param expected the context the caller requires
   * @throws InvalidCiphertextException with reason {@code CONTEXT_MISMATCH} otherwise
   */
  public void requireContext(EncryptionContext expected) {
    if (!context.equals(expected)) {
      throw new InvalidCiphertextException(
          InvalidCiphertextException.Reason.CONTEXT_MISMATCH,
          "blob's encryption context "
              + Escaping.forDisplay(context.asMap())
              + " is not the required "
              + Escaping.forDisplay(expected.asMap()));
    }
  }

  byte[] salt() {
    return Arrays.copyOfRange(payloadHeader, 1, 1 + SegmentLayout.SALT_LENGTH);
  }

  byte[] noncePrefix() {
    return Arrays.copyOfRange(
        payloadHeader, 1 + SegmentLayout.SALT_LENGTH, SegmentLayout.PAYLOAD_HEADER_LENGTH);
  }

  byte[] immutableBytes() {
    return immutable;
  }

  /**
   * The associated data of the payload stream (Tink's "associated data", the HKDF info of the
   * payload key) for a blob written with {@code blobAssociatedData}: the immutable part followed by
   * the per-blob associated data. With none it is exactly the immutable part, as for every blob
   * written before per-blob associated data existed.
   *
   * @param blobAssociatedData the per-blob associated data the blob was written with; may be empty
   * @return a new array
   */
  public byte[] payloadAssociatedData(byte[] blobAssociatedData) {
    byte[] out = Arrays.copyOf(immutable, immutable.length + blobAssociatedData.length);
    System.arraycopy(blobAssociatedData, 0, out, immutable.length, blobAssociatedData.length);
    return out;
  }

  /**
   * The exact plaintext length of a blob with this header and total length.
   *
   * @param envelopeLength the envelope's total length in bytes
   * @return the plaintext length
   * @throws InvalidCiphertextException by the length rule of {@code docs/format.md}: {@code
   *     TRUNCATED} if no plaintext encrypts to that length (the blob was cut, or 1 to 16 bytes were
   *     appended to a full final segment), {@code TRAILING_DATA} beyond the per-blob segment cap
   *     (docs/format.md §3, "Limits")
   */
  public long plaintextLength(long envelopeLength) {
    return new SegmentLayout(segmentSize).checkedPlaintextLength(envelopeLength - payloadOffset());
  }

  /**
   * Plans a ranged read: which envelope bytes to fetch to decrypt the plaintext range {@code
   * [plaintextOffset, plaintextOffset + length)}. Pair with {@link EnvelopeDecryptor#decryptRange}.
   *
   * @param envelopeLength the envelope's total length (for example an object's Content-Length)
   * @param plaintextOffset first plaintext byte wanted; at most the plaintext length
   * @param length bytes wanted; clamped at the end of the plaintext
   * @return the plan
   * @throws IllegalArgumentException if the offset or length is negative or past the end
   * @throws InvalidCiphertextException if {@code envelopeLength} is impossible for this header
   */
  public RangePlan planRange(long envelopeLength, long plaintextOffset, long length) {
    return RangePlan.create(
        this, new SegmentLayout(segmentSize), envelopeLength, plaintextOffset, length);
  }

  /** Facts only: version, segment size, DEK id, context, slots, length. */
  @Override
  public String toString() {
    return "EnvelopeHeader[v"
        + formatVersion()
        + ", suite "
        + suiteId()
        + ", segment "
        + segmentSize
        + ", dek "
        + dekIdHex()
        + ", "
        + context
        + ", "
        + slots
        + ", "
        + length()
        + " bytes]";
  }
}
