package dev.byok;

import static dev.byok.Blobs.byok;
import static dev.byok.Blobs.decrypt;
import static dev.byok.Blobs.encrypt;
import static dev.byok.Blobs.header;
import static dev.byok.Blobs.plaintext;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.kms.local.InMemoryKms;
import dev.byok.testkit.FakeKmsExtension;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Purge on revocation, zeroing on purge and eviction. */
class RevocationTest {
  @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();

  private InMemoryKms api() {
    return fake.api();
  }

  private static void assertDisabled(Runnable decrypt) {
    assertThatThrownBy(decrypt::run)
        .isInstanceOfSatisfying(
            KeyUnusableException.class,
            e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.DISABLED));
  }

  /**
   * The manager's own cached key for {@code header} (loading it first), not the single-use copy
   * {@code resolve} hands out: the copy stays usable until its user is done; the cached key is what
   * a purge zeroes.
   */
  private static DataKey cached(Byok byok, EnvelopeHeader header) {
    byok.keys().resolve(header).destroy();
    return java.util.Objects.requireNonNull(byok.keys().cachedKey(header));
  }

  @Test
  void invalidatePurgesZeroesAndTheNextDecryptAsksKms() {
    String arn = api().createKey().arn();
    Byok byok = byok(fake, arn).build();
    byte[] blob = encrypt(byok, plaintext(100, 1));
    assertThat(decrypt(byok, blob)).isEqualTo(plaintext(100, 1));
    DataKey cached = cached(byok, header(blob));
    assertThat(cached.materialIsZero()).isFalse();
    assertThat(api().calls("Decrypt")).isEqualTo(1);

    api().disableKey(arn);
    // KMS is not asked while the key is cached: the manager cannot know yet
    assertThat(decrypt(byok, blob)).isEqualTo(plaintext(100, 1));
    assertThat(api().calls("Decrypt")).isEqualTo(1);

    assertThat(byok.keys().invalidate(arn))
        .isEqualTo(2); // the decrypt entry and the active encrypting key
    assertThat(cached.materialIsZero()).isTrue();
    assertThat(cached.isDestroyed()).isTrue();
    assertThat(byok.keys().cachedKeys()).isZero();
    assertDisabled(() -> decrypt(byok, blob));
    assertThat(api().calls("Decrypt")).isEqualTo(2);
    assertThat(api().calls("Decrypt", "DisabledException")).isEqualTo(1);
    assertThat(byok.keys().stats().purges()).isGreaterThanOrEqualTo(2);

    // the encrypting key was purged too: a new blob needs GenerateDataKey, which the disabled key
    // refuses
    assertDisabled(() -> encrypt(byok, plaintext(10, 2)));
  }

  @Test
  void aDisabledErrorFromKmsPurgesEveryKeyUnwrappedWithThatKek() {
    String arn = api().createKey().arn();
    Byok writer = byok(fake, arn).build();
    byte[] a = encrypt(writer, plaintext(100, 1), EncryptionContext.of("tenant", "a"));
    byte[] b = encrypt(writer, plaintext(100, 2), EncryptionContext.of("tenant", "b"));
    assertThat(header(a).dekIdHex()).isNotEqualTo(header(b).dekIdHex());

    Byok reader = byok(fake, arn).build();
    assertThat(decrypt(reader, a)).isEqualTo(plaintext(100, 1));
    DataKey cachedA = cached(reader, header(a));

    api().disableKey(arn);
    assertDisabled(
        () -> decrypt(reader, b)); // uncached: KMS says Disabled, which purges a's key too
    assertThat(cachedA.materialIsZero()).isTrue();
    assertDisabled(() -> decrypt(reader, a));
    assertThat(api().calls("Decrypt")).isEqualTo(3);
    assertThat(api().calls("Decrypt", "DisabledException")).isEqualTo(2);

    api().enableKey(arn);
    assertThat(decrypt(reader, a)).isEqualTo(plaintext(100, 1));
    assertThat(api().calls("Decrypt")).isEqualTo(4);
  }

  @Test
  void aDisabledErrorOnTheEncryptSidePurgesTheDecryptCacheToo() {
    String arn = api().createKey().arn();
    Byok byok = byok(fake, arn).build();
    byte[] a = encrypt(byok, plaintext(100, 1), EncryptionContext.of("tenant", "a"));
    assertThat(decrypt(byok, a)).isEqualTo(plaintext(100, 1));
    DataKey cached = cached(byok, header(a));

    api().disableKey(arn);
    // a new context needs GenerateDataKey; the KMS refuses the key
    assertDisabled(() -> encrypt(byok, plaintext(10, 2), EncryptionContext.of("tenant", "new")));
    assertThat(cached.materialIsZero()).isTrue();
    assertDisabled(() -> decrypt(byok, a));
  }

  @Test
  void lockRefusesWithoutAskingKmsUntilUnlocked() {
    String arn = api().createKey().arn();
    Byok byok = byok(fake, arn).build();
    byte[] blob = encrypt(byok, plaintext(100, 1));
    decrypt(byok, blob);
    DataKey cached = cached(byok, header(blob));
    int before = api().callLog().size();

    byok.keys().lock(arn);
    assertThat(byok.keys().isLocked(arn)).isTrue();
    assertThat(cached.materialIsZero()).isTrue();
    assertThatThrownBy(() -> decrypt(byok, blob))
        .isInstanceOfSatisfying(
            KeyUnusableException.class,
            e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.LOCKED));
    assertThatThrownBy(() -> encrypt(byok, plaintext(10, 2)))
        .isInstanceOf(KeyUnusableException.class);
    assertThat(api().callLog()).hasSize(before);

    byok.keys().unlock(arn);
    assertThat(decrypt(byok, blob)).isEqualTo(plaintext(100, 1));
    assertThat(api().calls("Decrypt")).isEqualTo(2);
  }

  @Test
  void sizeEvictionZeroesTheEvictedKey() {
    String arn = api().createKey().arn();
    Byok writer = byok(fake, arn).dataKeyPolicy(DataKeyPolicy.noReuse()).build();
    byte[] a = encrypt(writer, plaintext(10, 1));
    byte[] b = encrypt(writer, plaintext(10, 2));
    Byok reader = byok(fake, arn).decryptCache(1, Duration.ofHours(1)).build();

    DataKey ka = cached(reader, header(a));
    reader.keys().resolve(header(b)).destroy();
    DataKey kb = reader.keys().cachedKey(header(b)); // null if the size policy turned b away
    assertThat(reader.keys().cachedKeys()).isEqualTo(1);
    assertThat(reader.keys().stats().evictions()).isEqualTo(1);
    // the size policy decides which of the two goes; whichever it is, its bytes are zero
    if (kb == null) {
      assertThat(ka.materialIsZero()).isFalse();
    } else {
      assertThat(ka.isDestroyed()).isTrue();
      assertThat(ka.materialIsZero()).isTrue();
      assertThat(kb.materialIsZero()).isFalse();
    }
    assertThat(decrypt(reader, a)).isEqualTo(plaintext(10, 1));
    assertThat(decrypt(reader, b)).isEqualTo(plaintext(10, 2));
  }

  @Test
  void ttlExpiryOnTheClockZeroesAndRefetches() {
    String arn = api().createKey().arn();
    Byok byok = byok(fake, arn).decryptCache(100, Duration.ofMinutes(10)).build();
    byte[] blob = encrypt(byok, plaintext(10, 1));
    DataKey first = cached(byok, header(blob));
    fake.clock().advance(Duration.ofMinutes(9));
    assertThat(cached(byok, header(blob))).isSameAs(first);
    assertThat(api().calls("Decrypt")).isEqualTo(1);

    fake.clock().advance(Duration.ofMinutes(1));
    DataKey second = cached(byok, header(blob));
    assertThat(second).isNotSameAs(first);
    assertThat(first.materialIsZero()).isTrue();
    assertThat(second.materialIsZero()).isFalse();
    assertThat(api().calls("Decrypt")).isEqualTo(2);
    assertThat(byok.keys().stats().evictions()).isEqualTo(1);
    assertThat(decrypt(byok, blob)).isEqualTo(plaintext(10, 1));
  }

  @Test
  void closePurgesAndZeroesEverything() {
    String arn = api().createKey().arn();
    Byok byok = byok(fake, arn).build();
    byte[] blob = encrypt(byok, plaintext(10, 1));
    DataKey cached = cached(byok, header(blob));
    byok.close();
    assertThat(cached.materialIsZero()).isTrue();
    assertThat(byok.keys().cachedKeys()).isZero();
  }
}
