package dev.byok;

import static dev.byok.Blobs.byok;
import static dev.byok.Blobs.decrypt;
import static dev.byok.Blobs.encrypt;
import static dev.byok.Blobs.keysCalled;
import static dev.byok.Blobs.plaintext;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.kms.local.InMemoryKms;
import dev.byok.testkit.FakeKmsExtension;
import java.util.Comparator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A blob wrapped under two KEKs: fallback between slots, and slot preference. */
class MultiSlotTest {
  @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();

  private String first;
  private String second;
  private byte[] blob;
  private final byte[] plain = plaintext(5000, 3);

  private InMemoryKms api() {
    return fake.api();
  }

  @BeforeEach
  void twoKeks() {
    first = api().createKey().arn();
    second = api().createKey().arn();
    blob = encrypt(byok(fake, first, second).build(), plain);
    assertThat(Blobs.header(blob).keySlots())
        .extracting(KeySlot::keyArn)
        .containsExactly(first, second);
    api().resetCallLog();
  }

  private Byok reader() {
    return byok(fake, first, second).build();
  }

  @Test
  void decryptsWithTheFirstSlotWhenBothWork() {
    assertThat(decrypt(reader(), blob)).isEqualTo(plain);
    assertThat(keysCalled(api(), "Decrypt")).containsExactly(first);
  }

  @Test
  void decryptsWhenTheFirstKekIsDisabled() {
    api().disableKey(first);
    assertThat(decrypt(reader(), blob)).isEqualTo(plain);
    assertThat(keysCalled(api(), "Decrypt")).containsExactly(first, second);
    assertThat(api().calls("Decrypt", "DisabledException")).isEqualTo(1);
  }

  @Test
  void decryptsWhenTheSecondKekIsDisabled() {
    api().disableKey(second);
    assertThat(decrypt(reader(), blob)).isEqualTo(plain);
    assertThat(keysCalled(api(), "Decrypt")).containsExactly(first);
  }

  @Test
  void failsWithKeyUnusableWhenBothAreDisabled() {
    api().disableKey(first);
    api().disableKey(second);
    assertThatThrownBy(() -> decrypt(reader(), blob))
        .isInstanceOfSatisfying(
            KeyUnusableException.class,
            e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.DISABLED));
    assertThat(keysCalled(api(), "Decrypt")).containsExactly(first, second);
  }

  @Test
  void aCachedKeyFromOneSlotIsPurgedWhenThatKekIsRevokedAndTheOtherSlotTakesOver() {
    Byok reader = reader();
    assertThat(decrypt(reader, blob)).isEqualTo(plain);
    reader
        .keys()
        .resolve(Blobs.header(blob))
        .destroy(); // a single-use copy; the cache keeps its own
    DataKey viaFirst =
        java.util.Objects.requireNonNull(reader.keys().cachedKey(Blobs.header(blob)));
    reader.keys().invalidate(first);
    assertThat(viaFirst.materialIsZero()).isTrue();
    api().disableKey(first);
    assertThat(decrypt(reader, blob)).isEqualTo(plain);
    assertThat(keysCalled(api(), "Decrypt")).containsExactly(first, first, second);
  }

  @Test
  void slotOrderPreferenceIsHonoured() {
    Comparator<KeySlot> secondFirst = Comparator.comparing(s -> !s.keyArn().equals(second));
    Byok reader = byok(fake, first, second).slotOrder(secondFirst).build();
    assertThat(decrypt(reader, blob)).isEqualTo(plain);
    assertThat(keysCalled(api(), "Decrypt")).containsExactly(second);

    api().disableKey(second); // preferred slot unusable: falls back to the other
    assertThat(decrypt(byok(fake, first, second).slotOrder(secondFirst).build(), blob))
        .isEqualTo(plain);
    assertThat(keysCalled(api(), "Decrypt")).containsExactly(second, second, first);
  }
}
