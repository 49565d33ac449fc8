package dev.byok;

import static dev.byok.KeyLayerFixture.byok;
import static dev.byok.KeyLayerFixture.decrypt;
import static dev.byok.KeyLayerFixture.encrypt;
import static dev.byok.KeyLayerFixture.header;
import static dev.byok.KeyLayerFixture.plaintext;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** A KMS refusal seen while encrypting under an alias purges the data keys of the ARN behind it. */
class KeyUnusablePurgeTest {
  @Test
  void aRefusalOnTheEncryptSideUnderAnAliasPurgesTheDecryptCacheOfItsArn() {
    TestKms kms = new TestKms();
    String arn = kms.createKey();
    kms.alias("alias/app", arn);
    Byok byok = byok(kms, "alias/app").build();
    byte[] blob = encrypt(byok, plaintext(10, 1));
    assertThat(decrypt(byok, blob)).isEqualTo(plaintext(10, 1));
    DataKey cached = byok.keys().cachedKey(header(blob));
    assertThat(cached).isNotNull();

    kms.disable(arn);
    assertThatThrownBy(() -> encrypt(byok, plaintext(10, 2), EncryptionContext.of("new", "ctx")))
        .isInstanceOf(KeyUnusableException.class);
    assertThat(cached.materialIsZero()).isTrue();
    assertThat(byok.keys().cachedKeys()).isZero();
    assertThatThrownBy(() -> decrypt(byok, blob)).isInstanceOf(KeyUnusableException.class);
  }

  @Test
  void perKekEvictionsAreCounted() {
    TestKms kms = new TestKms();
    String arn = kms.createKey();
    Byok writer = byok(kms, arn).dataKeyPolicy(DataKeyPolicy.noReuse()).build();
    Byok reader = byok(kms, arn).decryptCachePerKek(1).build();
    decrypt(reader, encrypt(writer, plaintext(10, 1)));
    decrypt(reader, encrypt(writer, plaintext(10, 2)));
    assertThat(reader.keys().cachedKeys()).isEqualTo(1);
    assertThat(reader.keys().stats().evictions()).isEqualTo(1);
  }
}
