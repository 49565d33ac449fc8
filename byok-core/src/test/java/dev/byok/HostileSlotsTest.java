package dev.byok;

import static dev.byok.KeyLayerFixture.byok;
import static dev.byok.KeyLayerFixture.decrypt;
import static dev.byok.KeyLayerFixture.encrypt;
import static dev.byok.KeyLayerFixture.header;
import static dev.byok.KeyLayerFixture.plaintext;
import static dev.byok.KeyLayerFixture.withSlots;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hole 8: a hostile header costs a bounded number of KMS calls, and a replay costs none. */
class HostileSlotsTest {
  private final TestKms kms = new TestKms();
  private final String arn = kms.createKey();
  private final byte[] plain = plaintext(100, 9);
  private final byte[] blob = encrypt(byok(kms, arn).build(), plain);

  private byte[] sixteenBogusSlotsUnderTheHostsOwnKey() {
    List<KeySlot> slots = new ArrayList<>();
    for (int i = 0; i < EnvelopeFormat.MAX_KEY_SLOTS; i++) {
      byte[] garbage = plaintext(60, 100 + i);
      slots.add(KeySlot.of(TestKms.ID, arn, garbage));
    }
    return withSlots(blob, slots);
  }

  @Test
  void sixteenSlotsNamingTheAllowedKeyCostAtMostTheDocumentedNumberOfUnwraps() {
    Byok reader = byok(kms, arn).build();
    byte[] hostile = sixteenBogusSlotsUnderTheHostsOwnKey();
    assertThatThrownBy(() -> decrypt(reader, hostile))
        .isInstanceOf(InvalidCiphertextException.class);
    assertThat(kms.calls("decrypt")).isEqualTo(DataKeyManager.MAX_UNWRAP_ATTEMPTS);
  }

  @Test
  void aReplayedHostileBlobCostsNoFurtherKmsCall() {
    Byok reader = byok(kms, arn).build();
    byte[] hostile = sixteenBogusSlotsUnderTheHostsOwnKey();
    assertThatThrownBy(() -> decrypt(reader, hostile))
        .isInstanceOf(InvalidCiphertextException.class);
    int first = kms.calls("decrypt");
    for (int i = 0; i < 5; i++) {
      assertThatThrownBy(() -> decrypt(reader, hostile))
          .isInstanceOf(InvalidCiphertextException.class);
    }
    assertThat(kms.calls("decrypt")).isEqualTo(first);
    // the genuine blob still decrypts
    assertThat(decrypt(reader, blob)).isEqualTo(plain);
  }

  @Test
  void duplicateSlotsAreTriedOnce() {
    Byok reader = byok(kms, arn).build();
    KeySlot bogus = KeySlot.of(TestKms.ID, arn, plaintext(60, 7));
    List<KeySlot> slots = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      slots.add(bogus);
    }
    byte[] hostile = withSlots(blob, slots);
    assertThatThrownBy(() -> decrypt(reader, hostile))
        .isInstanceOf(InvalidCiphertextException.class);
    assertThat(kms.calls("decrypt")).isEqualTo(1);
  }

  @Test
  void aBogusSlotInFrontOfTheRealOneDoesNotHideIt() {
    Byok reader = byok(kms, arn).build();
    List<KeySlot> slots = new ArrayList<>();
    slots.add(KeySlot.of(TestKms.ID, arn, plaintext(60, 8)));
    slots.addAll(header(blob).keySlots());
    assertThat(decrypt(reader, withSlots(blob, slots))).isEqualTo(plain);
    assertThat(kms.calls("decrypt")).isEqualTo(2);
  }
}
