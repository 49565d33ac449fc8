package dev.byok.kms.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.KmsUnavailableException;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.KeyState;
import dev.byok.testkit.conformance.Fault;
import dev.byok.testkit.conformance.KeyProviderConformance;
import dev.byok.testkit.conformance.KmsFixture;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/**
 * byok-testkit's public {@link KeyProviderConformance} against {@link GcpKmsProvider} over the
 * official Cloud KMS client (grpc-inprocess) and the Cloud KMS test server.
 *
 * <p>One check is adapted: the suite's throttling check injects {@link
 * KmsFixture#attemptsPerCall()} faults per call, but the Cloud KMS client's default retry codes
 * ({@code UNAVAILABLE}, {@code DEADLINE_EXCEEDED}) do not include {@code RESOURCE_EXHAUSTED}, so a
 * throttled call is one attempt and the surplus faults would fail the next, unrelated call. The
 * override injects one fault per call and checks the same outcome.
 */
class GcpKmsProviderConformanceTest extends KeyProviderConformance {
  @Override
  protected KmsFixture fixture() {
    return new GcpKmsFixture();
  }

  /**
   * {@link Fault#THROTTLED} (one attempt: not retried) is a throttled, retryable unavailability.
   */
  @Test
  @Override
  public void throttlingIsTransientAndThrottled() {
    KeyProvider p = kms().provider();
    String key = kms().newKey();
    GeneratedDataKey dek = p.generateDataKey(key, CONTEXT);
    List<ThrowingCallable> calls =
        List.of(
            () -> p.decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CONTEXT),
            () -> p.generateDataKey(key, CONTEXT),
            () -> p.encrypt(key, dek.copyPlaintextKey(), CONTEXT),
            () -> p.describeKey(key));
    for (ThrowingCallable call : calls) {
      kms().failNext(1, Fault.THROTTLED);
      assertThatThrownBy(call)
          .isInstanceOfSatisfying(
              KmsUnavailableException.class,
              e -> {
                assertThat(e.throttled()).isTrue();
                assertThat(e.retryable()).isTrue();
              });
    }
    assertThat(p.describeKey(key).state()).isEqualTo(KeyState.ENABLED);
    assertThat(p.decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CONTEXT))
        .isEqualTo(dek.copyPlaintextKey());
  }
}
