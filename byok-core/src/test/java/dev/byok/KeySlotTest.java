package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every bound of a key slot, at and past it; the largest slot section still round-trips. */
class KeySlotTest {
  private static final byte[] W = {1};

  @Test
  void providerIdBounds() {
    assertThat(KeySlot.of("a".repeat(64), "k", W).providerId()).hasSize(64);
    assertThat(KeySlot.of("aws-kms.eu_1", "k", W).providerId()).isEqualTo("aws-kms.eu_1");
    assertThatThrownBy(() -> KeySlot.of("", "k", W))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("was 0");
    assertThatThrownBy(() -> KeySlot.of("a".repeat(65), "k", W))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("was 65");
  }

  @ParameterizedTest
  @ValueSource(strings = {"AWS", "aws kms", "aws/kms", "k\u00e9", "a:b", "\uD800"})
  void providerIdCharactersAreNamed(String bad) {
    assertThatThrownBy(() -> KeySlot.of(bad, "k", W))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + Escaping.forDisplay(bad) + "'")
        .hasMessageContaining("[a-z0-9._-]");
  }

  @Test
  void keyArnBoundsCountUtf8Bytes() {
    assertThat(KeySlot.of("p", "a".repeat(2048), W).keyArn()).hasSize(2048);
    // only characters a KMS key ARN can hold: a non-ASCII letter is refused, by its code point
    assertThatThrownBy(() -> KeySlot.of("p", "\u00e9".repeat(1024), W))
        .hasMessageContaining("U+00E9");
    assertThatThrownBy(() -> KeySlot.of("p", "", W))
        .hasMessageContaining("keyArn")
        .hasMessageContaining("was 0");
    assertThatThrownBy(() -> KeySlot.of("p", "a".repeat(2049), W))
        .hasMessageContaining("keyArn")
        .hasMessageContaining("was 2049");
    assertThatThrownBy(() -> KeySlot.of("p", "\u00e9".repeat(1025), W))
        .hasMessageContaining("was 2050");
  }

  @ParameterizedTest
  @ValueSource(strings = {"\uD800", "arn:aws:kms:\uDC00", "arn\uDBFF"})
  void keyArnLoneSurrogatesAreNamed(String bad) {
    assertThatThrownBy(() -> KeySlot.of("p", bad, W))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("keyArn '" + Escaping.forDisplay(bad) + "'")
        .hasMessageContaining("UTF-16");
  }

  @Test
  void wrappedKeyBounds() {
    assertThat(KeySlot.of("p", "k", new byte[6144]).wrappedKeyLength()).isEqualTo(6144);
    assertThatThrownBy(() -> KeySlot.of("p", "k", new byte[0]))
        .hasMessageContaining("wrappedKey")
        .hasMessageContaining("was 0");
    assertThatThrownBy(() -> KeySlot.of("p", "k", new byte[6145]))
        .hasMessageContaining("wrappedKey")
        .hasMessageContaining("was 6145");
  }

  @Test
  void nullsAreNamed() {
    assertThatThrownBy(() -> KeySlot.of(null, "k", W))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("providerId");
    assertThatThrownBy(() -> KeySlot.of("p", null, W))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("keyArn");
    assertThatThrownBy(() -> KeySlot.of("p", "k", null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("wrappedKey");
  }

  @Test
  void wrappedKeyIsCopiedBothWaysAndNotPrinted() {
    byte[] w = {7, 8, 9};
    KeySlot s = KeySlot.of("p", "k", w);
    w[0] = 0;
    s.wrappedKey()[1] = 0;
    assertThat(s.wrappedKey()).containsExactly(7, 8, 9);
    assertThat(s)
        .isEqualTo(KeySlot.of("p", "k", new byte[] {7, 8, 9}))
        .hasSameHashCodeAs(KeySlot.of("p", "k", new byte[] {7, 8, 9}));
    assertThat(s).isNotEqualTo(KeySlot.of("p", "k", new byte[] {7, 8, 10}));
    assertThat(s.toString()).contains("3 bytes").doesNotContain("[7, 8, 9]");
  }

  /** 16 slots each at every bound: the slot section is exactly its documented maximum. */
  @Test
  void theLargestSlotSectionRoundTrips() throws IOException {
    List<KeySlot> slots = new ArrayList<>();
    for (int i = 0; i < EnvelopeFormat.MAX_KEY_SLOTS; i++) {
      byte[] wrapped = new byte[KeySlot.MAX_WRAPPED_KEY_BYTES];
      Arrays.fill(wrapped, (byte) i);
      slots.add(
          KeySlot.of(
              Integer.toString(i, 36).repeat(64).substring(0, 64),
              "arn-" + "x".repeat(2044),
              wrapped));
    }
    DataKey key = DataKey.generate();
    EnvelopeEncryptor enc = EnvelopeEncryptor.builder().dataKey(key).keySlots(slots).build();
    assertThat(enc.header().payloadOffset() - enc.header().immutableLength() - 4)
        .isEqualTo(EnvelopeFormat.MAX_SLOT_SECTION_LENGTH);
    byte[] pt = RobustTestSupport.plaintext(10_000);
    byte[] env = RobustTestSupport.encrypt(enc, pt);
    assertThat(EnvelopeHeader.parse(env).keySlots()).containsExactlyElementsOf(slots);
    try (InputStream in =
        EnvelopeDecryptor.create(DataKeyResolver.of(key))
            .newDecryptingStream(new ByteArrayInputStream(env))) {
      assertThat(in.readAllBytes()).isEqualTo(pt);
    }
  }
}
