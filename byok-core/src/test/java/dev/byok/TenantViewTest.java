package dev.byok;

import static dev.byok.KeyLayerFixture.decrypt;
import static dev.byok.KeyLayerFixture.encrypt;
import static dev.byok.KeyLayerFixture.header;
import static dev.byok.KeyLayerFixture.plaintext;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** One Byok serves many KEKs: per-tenant views, a host policy for decryption, per-KEK bounds. */
class TenantViewTest {
  private final TestKms kms = new TestKms();
  private final String a = kms.createKey();
  private final String b = kms.createKey();
  private final Byok byok = Byok.builder().provider(kms).build(); // no default KEK

  private static KeyRef ref(String arn) {
    return KeyRef.of(TestKms.ID, arn);
  }

  @Test
  void eachViewEncryptsUnderItsTenantsKeyAndDecryptsOnlyItsTenantsBlobs() {
    Byok tenantA = byok.forKeys(List.of(ref(a)));
    Byok tenantB = byok.forKeys(TestKms.ID + "://" + b);
    byte[] pa = plaintext(100, 1);
    byte[] pb = plaintext(100, 2);
    byte[] blobA = encrypt(tenantA, pa);
    byte[] blobB = encrypt(tenantB, pb);
    assertThat(header(blobA).keySlots()).extracting(KeySlot::keyArn).containsExactly(a);
    assertThat(header(blobB).keySlots()).extracting(KeySlot::keyArn).containsExactly(b);

    assertThat(decrypt(tenantA, blobA)).isEqualTo(pa);
    assertThat(decrypt(tenantB, blobB)).isEqualTo(pb);
    // a tenant's view refuses another tenant's blob, without asking the KMS
    int calls = kms.calls("decrypt");
    assertThatThrownBy(() -> decrypt(tenantA, blobB))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining("allow-list");
    assertThat(kms.calls("decrypt")).isEqualTo(calls);
    // one cache, one manager: the instance sees both tenants' keys
    assertThat(tenantA.keys()).isSameAs(byok.keys()).isSameAs(tenantB.keys());
    assertThat(byok.keys().stats().dataKeysGenerated()).isEqualTo(2);
    assertThatThrownBy(() -> encrypt(byok, pa))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining("KEK");
  }

  @Test
  void aViewMatchesAnAliasByTheKeyItResolvesTo() {
    kms.alias("alias/tenant-a", a);
    byte[] blob = encrypt(byok.forKeys(List.of(ref(a))), plaintext(10, 3));
    Byok view = byok.forKeys(List.of(ref("alias/tenant-a")));
    assertThat(decrypt(view, blob)).isEqualTo(plaintext(10, 3));
    kms.down("describeKey");
    Byok cold = Byok.builder().provider(kms).build().forKeys(List.of(ref("alias/tenant-a")));
    assertThatThrownBy(() -> decrypt(cold, blob)).isInstanceOf(KmsUnavailableException.class);
  }

  @Test
  void closingAViewLeavesTheSharedCacheAlone() {
    Byok view = byok.forKeys(List.of(ref(a)));
    byte[] blob = encrypt(view, plaintext(10, 4));
    assertThat(decrypt(view, blob)).isEqualTo(plaintext(10, 4));
    view.close();
    assertThat(byok.keys().cachedKeys()).isEqualTo(1);
    assertThat(decrypt(view, blob)).isEqualTo(plaintext(10, 4));
    byok.close();
    assertThatThrownBy(() -> decrypt(view, blob)).isInstanceOf(ByokConfigurationException.class);
  }

  @Test
  void theHostPolicyDecidesWhichKeysTheInstanceDecryptsWith() {
    Set<String> registry = Set.of(a);
    Byok host =
        Byok.builder().provider(kms).allowDecryptWithKeysMatching(registry::contains).build();
    byte[] blobA = encrypt(byok.forKeys(List.of(ref(a))), plaintext(10, 5));
    byte[] blobB = encrypt(byok.forKeys(List.of(ref(b))), plaintext(10, 6));
    assertThat(decrypt(host, blobA)).isEqualTo(plaintext(10, 5));
    assertThatThrownBy(() -> decrypt(host, blobB))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining("allow-list");
  }

  @Test
  void oneBusyTenantCannotEvictAnother() {
    Byok shared = Byok.builder().provider(kms).decryptCachePerKek(2).build();
    Byok writerA = byok.forKeys(List.of(ref(a)));
    Byok writerB = byok.forKeys(List.of(ref(b)));
    byte[] quiet = encrypt(writerB, plaintext(10, 7));
    Byok readerB = shared.forKeys(List.of(ref(b)));
    assertThat(decrypt(readerB, quiet)).isEqualTo(plaintext(10, 7));
    int callsForB = kms.calls("decrypt");

    Byok readerA = shared.forKeys(List.of(ref(a)));
    List<byte[]> busy = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      busy.add(encrypt(writerA, plaintext(10, i), EncryptionContext.of("object", "o" + i)));
    }
    for (byte[] blob : busy) {
      decrypt(readerA, blob);
    }
    assertThat(shared.keys().cachedKeys()).isEqualTo(3); // two of A's, B's one
    int before = kms.calls("decrypt");
    assertThat(decrypt(readerB, quiet)).isEqualTo(plaintext(10, 7));
    assertThat(kms.calls("decrypt")).isEqualTo(before); // B's key is still cached
    assertThat(callsForB).isPositive();
  }

  @Test
  void forKeysFailsFastNamingTheBadValue() {
    assertThatThrownBy(() -> byok.forKeys(List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one");
    assertThatThrownBy(() -> byok.forKeys("other-kms://" + a))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("other-kms");
  }
}
