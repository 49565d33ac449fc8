package dev.byok;

import static dev.byok.KeyLayerFixture.decrypt;
import static dev.byok.KeyLayerFixture.encrypt;
import static dev.byok.KeyLayerFixture.header;
import static dev.byok.KeyLayerFixture.plaintext;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Regression tests for the key-layer findings of the adversarial review (H1, H2, M3). */
class KeyLayerReviewTest {
  private final TestKms kms = new TestKms();
  private final String a = kms.createKey();
  private final String b = kms.createKey();

  private static ReadPolicy anyContext(String id) {
    return ReadPolicy.matching(List.of(ref(id)), c -> true);
  }

  private static KeyRef ref(String id) {
    return KeyRef.of(TestKms.ID, id);
  }

  /** H1: rewrap on a tenant view must resolve through the view's allow-list, not the manager's. */
  @Test
  void rewrapHeaderOnATenantViewRefusesAnotherTenantsBlob() {
    try (Byok byok = Byok.builder().provider(kms).build()) {
      Byok tenantA = byok.forKeys(List.of(ref(a)));
      Byok tenantB = byok.forKeys(List.of(ref(b)));
      byte[] blobB = encrypt(tenantB, plaintext(100, 1));
      assertThat(decrypt(tenantB, blobB)).isEqualTo(plaintext(100, 1)); // B's key is cached
      int decrypts = kms.calls("decrypt");
      int reEncrypts = kms.calls("reEncrypt");
      int encrypts = kms.calls("encrypt");

      assertThatThrownBy(() -> tenantA.rewrapHeader(header(blobB), anyContext(a)))
          .isInstanceOf(ByokConfigurationException.class)
          .hasMessageContaining("allow-list");
      // nothing reached the KMS: B's data key was never wrapped under A's key
      assertThat(kms.calls("decrypt")).isEqualTo(decrypts);
      assertThat(kms.calls("reEncrypt")).isEqualTo(reEncrypts);
      assertThat(kms.calls("encrypt")).isEqualTo(encrypts);
      // the owner still rewraps B's blob under its view's key (the legitimate path)
      EnvelopeHeader own = tenantB.rewrapHeader(header(blobB), anyContext(b));
      assertThat(own.keySlots()).extracting(KeySlot::keyArn).containsExactly(b);
    }
  }

  /** H2: lock with a configured alias must lock the key ARN the decrypt path checks. */
  @Test
  void lockByAliasRefusesCachedDataKeysOfTheArnBehindIt() {
    kms.alias("alias/x", a);
    try (Byok byok = KeyLayerFixture.byok(kms, "alias/x").build()) {
      byte[] blob = encrypt(byok, plaintext(50, 2));
      assertThat(decrypt(byok, blob)).isEqualTo(plaintext(50, 2));
      int decrypts = kms.calls("decrypt");

      byok.keys().lock("alias/x");

      assertThat(byok.keys().isLocked(a)).isTrue();
      assertThatThrownBy(() -> decrypt(byok, blob)).isInstanceOf(KeyUnusableException.class);
      assertThat(kms.calls("decrypt")).isEqualTo(decrypts);
      assertThat(byok.keys().cachedKeys()).isZero();
      assertThatThrownBy(() -> encrypt(byok, plaintext(5, 3)))
          .isInstanceOf(KeyUnusableException.class);

      byok.keys().unlock("alias/x");
      assertThat(byok.keys().isLocked(a)).isFalse();
      assertThat(decrypt(byok, blob)).isEqualTo(plaintext(50, 2));
      assertThat(kms.calls("decrypt")).isEqualTo(decrypts + 1);
    }
  }

  /** H2: invalidate with a configured alias purges the cached keys of the ARN behind it. */
  @Test
  void invalidateByAliasPurgesTheArnBehindIt() {
    kms.alias("alias/x", a);
    try (Byok byok = KeyLayerFixture.byok(kms, "alias/x").build()) {
      byte[] blob = encrypt(byok, plaintext(50, 4));
      assertThat(decrypt(byok, blob)).isEqualTo(plaintext(50, 4));
      assertThat(byok.keys().cachedKeys()).isEqualTo(1);

      assertThat(byok.keys().invalidate("alias/x")).isPositive();

      assertThat(byok.keys().cachedKeys()).isZero();
      int decrypts = kms.calls("decrypt");
      assertThat(decrypt(byok, blob)).isEqualTo(plaintext(50, 4));
      assertThat(kms.calls("decrypt")).isEqualTo(decrypts + 1);
    }
  }

  /**
   * M3: a view whose alias cannot be resolved (deleted, or DescribeKey denied) must not treat that
   * as the header's key being revoked: another tenant's cached keys stay put.
   */
  @Test
  void anUnresolvableAliasNeitherRevokesNorPurgesTheKeyAHeaderNames() {
    try (Byok byok = Byok.builder().provider(kms).build()) {
      Byok tenantB = byok.forKeys(List.of(ref(b)));
      byte[] blobB = encrypt(tenantB, plaintext(40, 5));
      assertThat(decrypt(tenantB, blobB)).isEqualTo(plaintext(40, 5));
      assertThat(byok.keys().cachedKeys()).isEqualTo(1);
      Byok tenantA = byok.forKeys(List.of(ref("alias/deleted")));

      // a storage-only attacker hands tenant A a blob of tenant B
      assertThatThrownBy(() -> decrypt(tenantA, blobB))
          .isInstanceOf(ByokConfigurationException.class)
          .hasMessageContaining("could not resolve")
          .hasMessageContaining("alias/deleted");

      assertThat(byok.keys().cachedKeys()).isEqualTo(1);
      assertThat(byok.keys().stats().purges()).isZero();
      int decrypts = kms.calls("decrypt");
      assertThat(decrypt(tenantB, blobB)).isEqualTo(plaintext(40, 5));
      assertThat(kms.calls("decrypt")).isEqualTo(decrypts); // still cached: nothing was purged
    }
  }

  /**
   * M2: another tenant's invalidation while tenant A's GenerateDataKey is in flight must not
   * discard A's data key (the encrypt side compares A's own epochs, not a global counter).
   */
  @Test
  void anotherTenantsInvalidationDoesNotDiscardAGenerationInFlight() throws Exception {
    try (Byok byok = Byok.builder().provider(kms).build()) {
      Byok tenantA = byok.forKeys(List.of(ref(a)));
      CountDownLatch answered = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      kms.hook(
          (op, arn) -> {
            if (op.equals("generateDataKey") && arn.equals(a) && answered.getCount() > 0) {
              answered.countDown();
              release.await(10, TimeUnit.SECONDS);
            }
          });
      AtomicReference<Object> out = new AtomicReference<>();
      Thread writer =
          new Thread(
              () -> {
                try {
                  out.set(encrypt(tenantA, plaintext(20, 9)));
                } catch (RuntimeException e) {
                  out.set(e);
                }
              });
      writer.start();
      assertThat(answered.await(10, TimeUnit.SECONDS)).isTrue();
      byok.keys().invalidate(b); // tenant B's key: unrelated to A's generation
      release.countDown();
      writer.join(10_000);

      assertThat(out.get()).isInstanceOf(byte[].class);
      assertThat(kms.calls("generateDataKey")).isEqualTo(1); // A's data key was kept, not redone
    }
  }

  /** M2 (the other side): an invalidation of A's own key still discards A's generation. */
  @Test
  void anInvalidationOfTheTenantsOwnKeyDiscardsItsGenerationInFlight() throws Exception {
    try (Byok byok = Byok.builder().provider(kms).build()) {
      Byok tenantA = byok.forKeys(List.of(ref(a)));
      CountDownLatch answered = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      kms.hook(
          (op, arn) -> {
            if (op.equals("generateDataKey") && answered.getCount() > 0) {
              answered.countDown();
              release.await(10, TimeUnit.SECONDS);
            }
          });
      Thread writer = new Thread(() -> encrypt(tenantA, plaintext(20, 9)));
      writer.start();
      assertThat(answered.await(10, TimeUnit.SECONDS)).isTrue();
      byok.keys().invalidate(a);
      release.countDown();
      writer.join(10_000);

      assertThat(kms.calls("generateDataKey")).isEqualTo(2); // the overlapped one was discarded
    }
  }

  /** M7: the active data key of a (KEK, context) pair that goes idle is retired after maxAge. */
  @Test
  void anIdleContextsActiveDataKeyIsRetiredOnceItIsPastMaxAge() {
    AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
    InstantSource clock = now::get;
    try (Byok byok =
        KeyLayerFixture.byok(kms, a)
            .clock(clock)
            .dataKeyPolicy(DataKeyPolicy.builder().maxAge(Duration.ofMinutes(10)).build())
            .build()) {
      encrypt(byok, plaintext(10, 1), EncryptionContext.of("tenant", "idle"));
      assertThat(byok.keys().activeEncryptionKeys()).isEqualTo(1);

      now.set(now.get().plus(Duration.ofMinutes(11)));
      encrypt(byok, plaintext(10, 2), EncryptionContext.of("tenant", "busy"));

      // the idle context's key is gone (retired, zeroed: no blob of it is open), the busy one stays
      assertThat(byok.keys().activeEncryptionKeys()).isEqualTo(1);
      assertThat(kms.calls("generateDataKey")).isEqualTo(2);
    }
  }

  /** L5: a blob under the key an alias was just retargeted to decrypts without a minute's wait. */
  @Test
  void aBlobUnderTheAliasNewKeyDecryptsSoonAfterARetarget() {
    kms.alias("alias/x", a);
    AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
    InstantSource clock = now::get;
    byte[] underB;
    try (Byok writer = KeyLayerFixture.byok(kms, b).build()) {
      underB = encrypt(writer, plaintext(10, 4));
    }
    try (Byok reader = KeyLayerFixture.byok(kms, "alias/x").clock(clock).build();
        Byok writerA = KeyLayerFixture.byok(kms, a).build()) {
      assertThat(decrypt(reader, encrypt(writerA, plaintext(10, 3)))).isEqualTo(plaintext(10, 3));
      int describes = kms.calls("describeKey");
      // within the same second a hostile header naming another key costs no extra DescribeKey
      assertThatThrownBy(() -> decrypt(reader, underB))
          .isInstanceOf(ByokConfigurationException.class)
          .hasMessageContaining("allow-list");
      assertThat(kms.calls("describeKey")).isEqualTo(describes);

      kms.alias("alias/x", b); // retargeted
      now.set(now.get().plusSeconds(2));
      assertThat(decrypt(reader, underB)).isEqualTo(plaintext(10, 4));
      assertThat(kms.calls("describeKey")).isEqualTo(describes + 1);
    }
  }
}
