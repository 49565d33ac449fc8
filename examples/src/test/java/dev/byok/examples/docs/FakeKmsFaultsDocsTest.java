package dev.byok.examples.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.EncryptionContext;
import dev.byok.KmsUnavailableException;
import dev.byok.testkit.FakeKmsExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The fault-injection sample of docs/testing-with-the-testkit.md ("Faults, the call log and the
 * leak check"); {@link DocsTest} keeps the two in step.
 */
class FakeKmsFaultsDocsTest {
  @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();

  // docs:begin testkit-faults
  @Test
  void aThrottledCallIsTransient() {
    String arn = fake.api().createKey().arn();
    fake.api().failNext("GenerateDataKey", "ThrottlingException");

    assertThatThrownBy(() -> fake.kms().generateDataKey(arn, EncryptionContext.empty()))
        .isInstanceOfSatisfying(KmsUnavailableException.class, e -> assertThat(e.throttled()).isTrue());
    assertThat(fake.kms().generateDataKey(arn, EncryptionContext.empty()).keyArn()).isEqualTo(arn);
  }
  // docs:end testkit-faults
}
