package dev.byok;

import dev.byok.internal.Utf8;
import java.util.Collections;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Non-secret key/value pairs bound to a blob: stored in its header, authenticated with its payload
 * and passed to the KMS with every wrap and unwrap. Use it to say what the blob is for (for example
 * {@code tenant}, {@code repository}, {@code path}) so a blob cannot be moved silently.
 *
 * <p>Immutable and thread-safe. Entries are kept in canonical order: keys sorted by their UTF-8
 * bytes, compared unsigned. Bounds: at most {@value #MAX_ENTRIES} entries, keys of 1 to {@value
 * #MAX_STRING_BYTES} UTF-8 bytes, values of 0 to {@value #MAX_STRING_BYTES} UTF-8 bytes, at most
 * {@value #MAX_ENCODED_BYTES} bytes encoded. Strings must be well-formed UTF-16 (no lone
 * surrogates).
 */
public final class EncryptionContext {
  /** Largest number of entries. */
  public static final int MAX_ENTRIES = 64;

  /** Largest key or value, in UTF-8 bytes. */
  public static final int MAX_STRING_BYTES = 1024;

  /** Largest encoded context (count plus length-prefixed entries), in bytes. */
  public static final int MAX_ENCODED_BYTES = 8192;

  // UTF-8 byte order is code point order: compared without encoding (no allocation per compare)
  private static final Comparator<String> UTF8_ORDER = Utf8::compare;
  private static final EncryptionContext EMPTY = new EncryptionContext(new TreeMap<>(UTF8_ORDER));

  private final SortedMap<String, String> entries;

  private EncryptionContext(SortedMap<String, String> entries) {
    this.entries = Collections.unmodifiableSortedMap(entries);
  }

  /** {@return the empty context} */
  public static EncryptionContext empty() {
    return EMPTY;
  }

  /**
   * Creates a context from a map, validating every bound.
   *
   * @param map the entries; copied
   * @return the context
   * @throws IllegalArgumentException if an entry or the whole context breaks a bound; the message
   *     names the entry
   */
  public static EncryptionContext of(Map<String, String> map) {
    Objects.requireNonNull(map, "map");
    if (map.size() > MAX_ENTRIES) {
      throw new IllegalArgumentException(
          "encryption context has " + map.size() + " entries, at most " + MAX_ENTRIES + " allowed");
    }
    TreeMap<String, String> sorted = new TreeMap<>(UTF8_ORDER);
    int encoded = 2;
    for (Map.Entry<String, String> e : map.entrySet()) {
      String k = Objects.requireNonNull(e.getKey(), "encryption context key");
      String v = Objects.requireNonNull(e.getValue(), () -> "encryption context value for " + k);
      int kl = checkedLength(k, "key '" + k + "'");
      int vl = checkedLength(v, "value of '" + k + "'");
      if (kl == 0) {
        throw new IllegalArgumentException("encryption context key must not be empty");
      }
      encoded += 4 + kl + vl;
      sorted.put(k, v);
    }
    if (encoded > MAX_ENCODED_BYTES) {
      throw new IllegalArgumentException(
          "encryption context encodes to " + encoded + " bytes, at most " + MAX_ENCODED_BYTES);
    }
    return new EncryptionContext(sorted);
  }

  /**
   * Creates a context from alternating keys and values.
   *
   * @param keysAndValues {@code k1, v1, k2, v2, ...}
   * @return the context
   * @throws IllegalArgumentException on an odd count, a duplicate key, or a bound
   */
  public static EncryptionContext of(String... keysAndValues) {
    if (keysAndValues.length % 2 != 0) {
      throw new IllegalArgumentException(
          "keysAndValues must alternate key, value; got an odd count");
    }
    TreeMap<String, String> m = new TreeMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      if (m.put(keysAndValues[i], keysAndValues[i + 1]) != null) {
        throw new IllegalArgumentException(
            "duplicate encryption context key '" + Escaping.forDisplay(keysAndValues[i]) + "'");
      }
    }
    return of(m);
  }

  private static int checkedLength(String s, String what) {
    byte[] b;
    try {
      b = Utf8.encodeStrict(s);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "encryption context " + what + " is not well-formed UTF-16", e);
    }
    if (b.length > MAX_STRING_BYTES) {
      throw new IllegalArgumentException(
          "encryption context "
              + what
              + " is "
              + b.length
              + " UTF-8 bytes, at most "
              + MAX_STRING_BYTES);
    }
    return b.length;
  }

  /**
   * The canonical encoding of this context: exactly the bytes byok writes into a header and binds
   * into the payload's associated data and key commitment ({@code docs/format.md} section 1). A
   * third-party {@code KeyProvider} that binds the context into its own wrapping (for example as
   * the associated data of a local AEAD) should bind these bytes, so that it authenticates exactly
   * what byok does.
   *
   * <p>Layout, big-endian: {@code u16 n}, then for each entry in canonical order (keys sorted by
   * their UTF-8 bytes compared unsigned) {@code u16 key length, key (UTF-8), u16 value length,
   * value (UTF-8)}. The empty context is the two bytes {@code 00 00}.
   *
   * @return a new array of at most {@value #MAX_ENCODED_BYTES} bytes
   */
  public byte[] toCanonicalBytes() {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream(64);
    writeShort(b, entries.size());
    for (Map.Entry<String, String> e : entries.entrySet()) {
      byte[] k = Utf8.encode(e.getKey());
      byte[] v = Utf8.encode(e.getValue());
      writeShort(b, k.length);
      b.writeBytes(k);
      writeShort(b, v.length);
      b.writeBytes(v);
    }
    return b.toByteArray();
  }

  private static void writeShort(java.io.ByteArrayOutputStream b, int v) {
    b.write(v >>> 8);
    b.write(v);
  }

  /** {@return the entries in canonical order; unmodifiable} */
  public SortedMap<String, String> asMap() {
    return entries;
  }

  /** {@return whether there are no entries} */
  public boolean isEmpty() {
    return entries.isEmpty();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EncryptionContext && ((EncryptionContext) o).entries.equals(entries);
  }

  @Override
  public int hashCode() {
    return entries.hashCode();
  }

  /** The entries; an encryption context is not secret (KMS logs it in its audit trail). */
  @Override
  public String toString() {
    return "EncryptionContext" + Escaping.forDisplay(entries); // control characters escaped
  }
}
