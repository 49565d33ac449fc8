package dev.byok;

import static dev.byok.KeyLayerFixture.CTX;
import static dev.byok.KeyLayerFixture.encrypt;
import static dev.byok.KeyLayerFixture.header;
import static dev.byok.KeyLayerFixture.plaintext;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Review of issue 15, findings 5, 10 and 11: refusals that cost no (repeated) KMS call. */
class KeyLayerR3ReviewTest {
  private final TestKms kms = new TestKms();
  private final String a = kms.createKey();

  private static KeyRef ref(String arn) {
    return KeyRef.of(TestKms.ID, arn);
  }

  /** Finding 5: an ACCESS_DENIED for one slot and context is remembered, not asked again. */
  @Test
  void accessDeniedOnDecryptIsRememberedForTheSameHeader() {
    EncryptionContext hostile = EncryptionContext.of("tenant", "forged");
    byte[] blob = encrypt(KeyLayerFixture.byok(kms, a).build(), plaintext(10, 1), hostile);
    kms.denyContext(hostile);
    Byok reader = Byok.builder().provider(kms).encryptUnder(ref(a)).build();
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> KeyLayerFixture.decrypt(reader, blob))
          .isInstanceOfSatisfying(
              KeyUnusableException.class,
              e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.ACCESS_DENIED));
    }
    assertThat(kms.calls("decrypt")).as("one Decrypt, then remembered").isEqualTo(1);
    // another context under the same key is not affected
    byte[] fine = encrypt(KeyLayerFixture.byok(kms, a).build(), plaintext(10, 2), CTX);
    assertThat(KeyLayerFixture.decrypt(reader, fine)).isEqualTo(plaintext(10, 2));
  }

  /** Finding 10: a known length over the cap is refused before admit (no GenerateDataKey). */
  @Test
  void knownLengthOverTheCapIsRefusedBeforeAnyKmsCall() {
    Byok byok = KeyLayerFixture.byok(kms, a).build();
    InputStream source = new ByteArrayInputStream(new byte[0]);
    assertThatThrownBy(
            () -> byok.newEncryptingInputStream(source, Long.MAX_VALUE, CTX, new byte[0]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasCauseInstanceOf(BlobTooLargeException.class);
    assertThat(kms.calls("generateDataKey")).isZero();
  }

  /** Finding 11: rewrap without a KEK to wrap under fails before the KMS unwrap. */
  @Test
  void rewrapWithoutEncryptUnderFailsBeforeAnyKmsCall() {
    byte[] blob = encrypt(KeyLayerFixture.byok(kms, a).build(), plaintext(10, 3));
    Byok noKek = Byok.builder().provider(kms).build();
    int calls = kms.calls("decrypt");
    assertThatThrownBy(() -> noKek.rewrapHeader(header(blob), ReadPolicy.of(List.of(ref(a)), CTX)))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining("encryptUnder");
    assertThat(kms.calls("decrypt")).isEqualTo(calls);
  }

  /**
   * Finding 8: a forged slot whose ARN is in another account than the policy alias's key forced a
   * DescribeKey once a second; no retarget can reach it, so it makes none.
   */
  @Test
  void aliasPolicyMakesNoDescribeKeyForAnArnInAnotherAccount() {
    kms.alias("alias/tenant", a);
    AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
    InstantSource clock = now::get;
    byte[] blob = encrypt(KeyLayerFixture.byok(kms, a).build(), plaintext(10, 4));
    String foreign = "arn:aws:kms:eu-west-1:999999999999:key/forged";
    byte[] forged =
        KeyLayerFixture.withSlots(blob, List.of(KeySlot.of(TestKms.ID, foreign, new byte[40])));
    Byok reader =
        Byok.builder()
            .provider(kms)
            .clock(clock)
            .build()
            .forReading(ReadPolicy.of(List.of(ref("alias/tenant")), CTX));
    assertThat(KeyLayerFixture.decrypt(reader, blob)).isEqualTo(plaintext(10, 4));
    int describes = kms.calls("describeKey");
    for (int i = 0; i < 3; i++) {
      now.set(now.get().plusSeconds(2)); // past FORCED_REFRESH, within ALIAS_REFRESH
      assertThatThrownBy(() -> KeyLayerFixture.decrypt(reader, forged))
          .isInstanceOf(ByokConfigurationException.class);
    }
    assertThat(kms.calls("describeKey")).isEqualTo(describes);
    assertThat(kms.calls("decrypt")).isEqualTo(1);
  }
}
