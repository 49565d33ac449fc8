package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The builder fails fast, and its messages name the bad value. */
class EnvelopeEncryptorBuilderTest {
  private final DataKey key = DataKey.generate();

  private static List<KeySlot> slots(int n) {
    List<KeySlot> l = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      l.add(KeySlot.of("p", "key-" + i, new byte[] {(byte) i}));
    }
    return l;
  }

  @ParameterizedTest
  @ValueSource(ints = {Integer.MIN_VALUE, -1, 0, 56, 4095, 8 * 1024 * 1024 + 1, Integer.MAX_VALUE})
  void segmentSizeOutOfBoundsIsNamed(int bad) {
    assertThatThrownBy(() -> EnvelopeEncryptor.builder().segmentSize(bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("segmentSize")
        .hasMessageContaining("was " + bad);
  }

  @ParameterizedTest
  @ValueSource(ints = {4096, 4097, 65536, 8 * 1024 * 1024})
  void segmentSizeBoundsAreInclusive(int ok) {
    EnvelopeEncryptor enc =
        EnvelopeEncryptor.builder()
            .dataKey(key)
            .keySlot(RobustTestSupport.SLOT)
            .segmentSize(ok)
            .build();
    assertThat(enc.segmentSize()).isEqualTo(ok);
    assertThat(enc.header().segmentSize()).isEqualTo(ok);
  }

  @Test
  void defaultsAreDocumented() {
    EnvelopeEncryptor enc =
        EnvelopeEncryptor.builder().dataKey(key).keySlot(RobustTestSupport.SLOT).build();
    assertThat(enc.segmentSize()).isEqualTo(EnvelopeFormat.DEFAULT_SEGMENT_SIZE);
    assertThat(enc.encryptionContext()).isEqualTo(EncryptionContext.empty());
  }

  @Test
  void missingDataKeyOrSlotsFailTheBuild() {
    assertThatThrownBy(() -> EnvelopeEncryptor.builder().keySlot(RobustTestSupport.SLOT).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("dataKey");
    assertThatThrownBy(() -> EnvelopeEncryptor.builder().dataKey(key).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("keySlot");
    assertThatThrownBy(() -> EnvelopeEncryptor.builder().dataKey(key).keySlots(List.of()).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("keySlot");
  }

  @Test
  void seventeenSlotsAreRejectedNamingTheCount() {
    EnvelopeEncryptor.Builder b = EnvelopeEncryptor.builder().dataKey(key).keySlots(slots(16));
    KeySlot extra = KeySlot.of("p", "key-16", new byte[] {16});
    assertThatThrownBy(() -> b.keySlot(extra))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("17")
        .hasMessageContaining("at most 16");
    assertThat(b.build().header().keySlots()).containsExactlyElementsOf(slots(16));
    assertThatThrownBy(() -> EnvelopeEncryptor.builder().keySlots(slots(17)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("got 17")
        .hasMessageContaining("at most 16");
    // a rejected list leaves the builder's slots as they were
    EnvelopeEncryptor.Builder c =
        EnvelopeEncryptor.builder().dataKey(key).keySlot(RobustTestSupport.SLOT);
    assertThatThrownBy(() -> c.keySlots(slots(17))).isInstanceOf(IllegalArgumentException.class);
    assertThat(c.build().header().keySlots()).containsExactly(RobustTestSupport.SLOT);
  }

  @Test
  void keySlotsReplaceInOrder() {
    EnvelopeEncryptor enc =
        EnvelopeEncryptor.builder()
            .dataKey(key)
            .keySlot(RobustTestSupport.SLOT)
            .keySlots(slots(3))
            .build();
    assertThat(enc.header().keySlots()).containsExactlyElementsOf(slots(3));
  }

  @Test
  void nullsAndDestroyedKeysAreNamed() {
    assertThatThrownBy(() -> EnvelopeEncryptor.builder().dataKey(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("dataKey");
    assertThatThrownBy(() -> EnvelopeEncryptor.builder().keySlot(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("keySlot");
    assertThatThrownBy(() -> EnvelopeEncryptor.builder().encryptionContext(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("encryptionContext");
    DataKey gone = DataKey.generate();
    gone.destroy();
    assertThatThrownBy(() -> EnvelopeEncryptor.builder().dataKey(gone))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(gone.idHex())
        .hasMessageContaining("destroyed");
  }

  @Test
  void lengthArithmeticRejectsImpossibleValues() {
    EnvelopeEncryptor enc = RobustTestSupport.encryptor(key);
    assertThatThrownBy(() -> enc.ciphertextLength(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("-1");
    long headerOnly = enc.ciphertextLength(0) - 16;
    assertThatThrownBy(() -> enc.plaintextLength(headerOnly))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(Long.toString(headerOnly));
    assertThat(enc.plaintextLength(enc.ciphertextLength(12_345))).isEqualTo(12_345);
  }
}
