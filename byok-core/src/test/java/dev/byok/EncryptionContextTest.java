package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every bound of an encryption context, at and past it, and the canonical UTF-8 order. */
class EncryptionContextTest {
  private static String repeat(String s, int n) {
    return s.repeat(n);
  }

  private static Map<String, String> entries(int n) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < n; i++) {
      m.put("k" + i, "v");
    }
    return m;
  }

  @Test
  void entryCountBound() {
    assertThat(EncryptionContext.of(entries(EncryptionContext.MAX_ENTRIES)).asMap()).hasSize(64);
    assertThatThrownBy(() -> EncryptionContext.of(entries(65)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("65 entries");
  }

  /** One-, two-, three- and four-byte characters up to exactly 1024 UTF-8 bytes, then one more. */
  @ParameterizedTest
  @ValueSource(strings = {"a", "\u00e9", "\u20ac", "\uD83D\uDE00"})
  void keyAndValueLengthsCountUtf8Bytes(String ch) {
    int perChar = ch.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    int fits = EncryptionContext.MAX_STRING_BYTES / perChar;
    String longest = repeat(ch, fits);
    String tooLong = repeat(ch, fits + 1);
    int tooLongBytes = (fits + 1) * perChar;
    assertThat(EncryptionContext.of(longest, longest).asMap()).containsEntry(longest, longest);
    assertThatThrownBy(() -> EncryptionContext.of(tooLong, "v"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("key '" + tooLong + "'")
        .hasMessageContaining(tooLongBytes + " UTF-8 bytes");
    assertThatThrownBy(() -> EncryptionContext.of("k", tooLong))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("value of 'k'")
        .hasMessageContaining(tooLongBytes + " UTF-8 bytes");
  }

  @Test
  void emptyKeyIsRejectedEmptyValueIsNot() {
    assertThatThrownBy(() -> EncryptionContext.of("", "v"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("empty");
    assertThat(EncryptionContext.of("k", "").asMap()).containsEntry("k", "");
  }

  /** 2 + sum(4 + key + value) bytes: exactly 8192 passes, 8193 does not. */
  @Test
  void encodedSizeBound() throws IOException {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < 8; i++) {
      m.put("k" + i, "x".repeat(i < 6 ? 1018 : 1017)); // 2 + 8 * 6 + 6 * 1018 + 2 * 1017 = 8192
    }
    EncryptionContext max = EncryptionContext.of(m);
    m.put("k7", "x".repeat(1018));
    assertThatThrownBy(() -> EncryptionContext.of(m))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("8193 bytes");

    // the largest context makes the largest immutable header, which still parses and decrypts
    DataKey key = DataKey.generate();
    EnvelopeEncryptor enc =
        EnvelopeEncryptor.builder()
            .dataKey(key)
            .keySlot(RobustTestSupport.SLOT)
            .encryptionContext(max)
            .build();
    assertThat(enc.header().immutableLength()).isEqualTo(EnvelopeFormat.MAX_IMMUTABLE_LENGTH);
    byte[] pt = RobustTestSupport.plaintext(1000);
    byte[] env = RobustTestSupport.encrypt(enc, pt);
    assertThat(EnvelopeHeader.parse(env).encryptionContext()).isEqualTo(max);
    try (InputStream in =
        EnvelopeDecryptor.create(DataKeyResolver.of(key))
            .newDecryptingStream(new ByteArrayInputStream(env), max)) {
      assertThat(in.readAllBytes()).isEqualTo(pt);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"\uD800", "a\uDC00", "\uDC00\uD800", "x\uD83D"})
  void loneSurrogatesAreRejectedNamingTheEntry(String bad) {
    assertThatThrownBy(() -> EncryptionContext.of(bad, "v"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("key '" + bad + "'")
        .hasMessageContaining("UTF-16");
    assertThatThrownBy(() -> EncryptionContext.of("tenant", bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("value of 'tenant'")
        .hasMessageContaining("UTF-16");
  }

  @Test
  void nullsAndMalformedArgumentsAreNamed() {
    assertThatThrownBy(() -> EncryptionContext.of((Map<String, String>) null))
        .isInstanceOf(NullPointerException.class);
    Map<String, String> nullKey = new HashMap<>();
    nullKey.put(null, "v");
    assertThatThrownBy(() -> EncryptionContext.of(nullKey))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("key");
    Map<String, String> nullValue = new HashMap<>();
    nullValue.put("tenant", null);
    assertThatThrownBy(() -> EncryptionContext.of(nullValue))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("tenant");
    assertThatThrownBy(() -> EncryptionContext.of("tenant", null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("tenant");
    assertThatThrownBy(() -> EncryptionContext.of("a", "1", "b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("odd");
    assertThatThrownBy(() -> EncryptionContext.of("a", "1", "a", "2"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'a'");
  }

  /** U+FF61 sorts before U+1F600 in UTF-8 (EF.. < F0..) but after it in UTF-16 (FF61 > D83D). */
  @Test
  void canonicalOrderIsUtf8ByteOrder() throws IOException {
    String halfwidth = "\uFF61";
    String emoji = "\uD83D\uDE00";
    assertThat(halfwidth.compareTo(emoji)).isPositive();
    EncryptionContext c =
        EncryptionContext.of(emoji, "1", halfwidth, "2", "Z", "3", "a", "4", "\u00e9", "5");
    assertThat(List.copyOf(c.asMap().keySet()))
        .containsExactly("Z", "a", "\u00e9", halfwidth, emoji);
    DataKey key = DataKey.generate();
    EnvelopeEncryptor enc =
        EnvelopeEncryptor.builder()
            .dataKey(key)
            .keySlot(RobustTestSupport.SLOT)
            .encryptionContext(c)
            .build();
    assertThat(
            EnvelopeHeader.parse(RobustTestSupport.encrypt(enc, new byte[1])).encryptionContext())
        .isEqualTo(c);
  }

  @Test
  void immutableValueSemantics() {
    Map<String, String> m = new HashMap<>(Map.of("a", "1"));
    EncryptionContext c = EncryptionContext.of(m);
    m.put("b", "2");
    assertThat(c.asMap()).containsOnlyKeys("a");
    assertThatThrownBy(() -> c.asMap().put("x", "y"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(c)
        .isEqualTo(EncryptionContext.of("a", "1"))
        .hasSameHashCodeAs(EncryptionContext.of("a", "1"));
    assertThat(c).isNotEqualTo(EncryptionContext.of("a", "2"));
    assertThat(EncryptionContext.of(Map.of())).isEqualTo(EncryptionContext.empty());
    assertThat(EncryptionContext.empty().isEmpty()).isTrue();
  }
}
