package dev.byok.examples.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.EncryptionContext;
import dev.byok.KeyUnusableException;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.testkit.FakeKmsExtension;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

// The first test of docs/testing-with-the-testkit.md ("The fake KMS"), as a host would write it;
// DocsTest keeps the two in step.
// docs:begin testkit-first-test
class SnapshotKeysTest {
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
}
// docs:end testkit-first-test
