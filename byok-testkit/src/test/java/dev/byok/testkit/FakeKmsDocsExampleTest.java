package dev.byok.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.EncryptionContext;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.spi.GeneratedDataKey;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The code shown in docs/testing-with-the-testkit.md (section "The fake KMS"); keep the two in step. */
class FakeKmsDocsExampleTest {
  @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();

  @Test
  void revokingTheKeyStopsUnwrapAfterTheConsistencyDelay() {
    String arn = fake.api().createKey().arn();
    fake.api().createAlias("alias/snapshots", arn);
    fake.api().eventualConsistency(Duration.ofSeconds(30));
    EncryptionContext ctx = EncryptionContext.of("repository", "r1");
    GeneratedDataKey dek = fake.kms().generateDataKey("alias/snapshots", ctx);
    byte[] wrapped = dek.wrapped().ciphertext();

    fake.api().disableKey(arn);

    // for 30 seconds on the clock, KMS still answers as if the key were enabled
    assertThat(fake.kms().decrypt(dek.keyArn(), wrapped, ctx)).isEqualTo(dek.copyPlaintextKey());
    fake.clock().advance(Duration.ofSeconds(30));
    assertThatThrownBy(() -> fake.kms().decrypt(dek.keyArn(), wrapped, ctx))
        .isInstanceOfSatisfying(KeyUnusableException.class,
            e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.DISABLED));
    assertThat(fake.api().calls("Decrypt", "DisabledException")).isEqualTo(1);
  }

  @Test
  void aThrottledCallIsTransient() {
    String arn = fake.api().createKey().arn();
    fake.api().failNext("GenerateDataKey", "ThrottlingException");

    assertThatThrownBy(() -> fake.kms().generateDataKey(arn, EncryptionContext.empty()))
        .isInstanceOfSatisfying(KmsUnavailableException.class, e -> assertThat(e.throttled()).isTrue());
    assertThat(fake.kms().generateDataKey(arn, EncryptionContext.empty()).keyArn()).isEqualTo(arn);
  }
}
