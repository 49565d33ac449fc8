package dev.byok.kms.local;

import static dev.byok.kms.local.KmsAssertions.CTX;
import static dev.byok.kms.local.KmsAssertions.assertKmsError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Fault injection and the call log. */
class InMemoryKmsFaultsTest {
  @RegisterExtension final KmsFixture fake = new KmsFixture();

  @Test
  void scriptedErrorsFailTheNextCallsOfTheirOperationInOrder() {
    InMemoryKms api = fake.api();
    String arn = api.createKey().arn();
    byte[] blob = api.generateDataKeyWithoutPlaintext(arn, CTX, 32).ciphertextBlob();
    api.failNext("Decrypt", LocalKmsException.DISABLED);
    api.failNext("Decrypt", LocalKmsException.THROTTLING);

    assertThat(api.unconsumedFaults())
        .containsExactly("Decrypt: DisabledException", "Decrypt: ThrottlingException");
    api.generateDataKey(arn, CTX, 32);
    assertKmsError(() -> api.decrypt(blob, CTX, arn), LocalKmsException.DISABLED);
    assertKmsError(() -> api.decrypt(blob, CTX, arn), LocalKmsException.THROTTLING);
    assertThat(api.decrypt(blob, CTX, arn).plaintext()).hasSize(32);
    assertThat(api.unconsumedFaults()).isEmpty();
    api.checkNoUnconsumedFaults();
  }

  @Test
  void scriptingRejectsUnknownOperationsAndCodes() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> fake.api().failNext("Decrypts", "DisabledException"))
        .withMessageContaining("Decrypts");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> fake.api().failNext("Decrypt", "Disabled"))
        .withMessageContaining("'Disabled'");
  }

  @Test
  void leftOverScriptedErrorsFailTheLeakCheckUntilCleared() {
    fake.api().failNext("GenerateDataKey", LocalKmsException.INTERNAL);

    org.assertj.core.api.Assertions.assertThatIllegalStateException()
        .isThrownBy(() -> fake.api().checkNoUnconsumedFaults())
        .withMessageContaining("GenerateDataKey: KMSInternalException");

    fake.api().clearFaults();
    fake.api().checkNoUnconsumedFaults();
  }

  @Test
  void anOutageFailsEveryOperationUntilItEnds() {
    InMemoryKms api = fake.api();
    String arn = api.createKey().arn();

    api.startOutage();
    assertKmsError(api::createKey, LocalKmsException.INTERNAL);
    assertKmsError(() -> api.describeKey(arn), LocalKmsException.INTERNAL);
    assertKmsError(() -> api.generateDataKey(arn, CTX, 32), LocalKmsException.INTERNAL);
    api.startOutage(LocalKmsException.DEPENDENCY_TIMEOUT);
    assertKmsError(() -> api.disableKey(arn), LocalKmsException.DEPENDENCY_TIMEOUT);
    assertThat(LocalKmsException.httpStatus(LocalKmsException.DEPENDENCY_TIMEOUT)).isEqualTo(503);

    api.endOutage();
    assertThat(api.describeKey(arn).enabled()).isTrue();
    assertThatIllegalArgumentException()
        .isThrownBy(() -> api.startOutage(LocalKmsException.NOT_FOUND));
  }

  @Test
  void throttlingRateIsRespectedAndReproducibleBySeed() {
    List<String> first = throttledOutcomes(0.25, 42, 400);
    List<String> again = throttledOutcomes(0.25, 42, 400);
    List<String> otherSeed = throttledOutcomes(0.25, 43, 400);

    long throttled = first.stream().filter(LocalKmsException.THROTTLING::equals).count();
    // binomial(400, 0.25): mean 100, sd 8.7; the bound is 4.5 sd either side
    assertThat(throttled).isBetween(61L, 139L);
    assertThat(first).containsOnly(InMemoryKms.OK, LocalKmsException.THROTTLING);
    assertThat(again).isEqualTo(first);
    assertThat(otherSeed).isNotEqualTo(first);
    assertThat(throttledOutcomes(0, 1, 50)).containsOnly(InMemoryKms.OK);
    assertThat(throttledOutcomes(1, 1, 50)).containsOnly(LocalKmsException.THROTTLING);
    assertThatIllegalArgumentException().isThrownBy(() -> fake.api().throttle(1.5, 1));
  }

  private static List<String> throttledOutcomes(double rate, long seed, int calls) {
    InMemoryKms api = InMemoryKms.builder().clock(new TestClock()).build();
    String arn = api.createKey().arn();
    api.throttle(rate, seed);
    for (int i = 0; i < calls; i++) {
      try {
        api.describeKey(arn);
      } catch (LocalKmsException e) {
        assertThat(e.errorCode()).isEqualTo(LocalKmsException.THROTTLING);
      }
    }
    List<String> outcomes = new ArrayList<>();
    api.callLog().stream().skip(1).forEach(c -> outcomes.add(c.outcome()));
    assertThat(api.calls("DescribeKey", LocalKmsException.THROTTLING))
        .isEqualTo((int) outcomes.stream().filter(LocalKmsException.THROTTLING::equals).count());
    return outcomes;
  }

  @Test
  void latencyIsServedByThePluggableSleeper() {
    InMemoryKms api = fake.api();
    api.injectLatency(Duration.ofMillis(250), fake.clock()::advance);
    var start = fake.clock().instant();

    String arn = api.createKey().arn();
    api.describeKey(arn);

    assertThat(fake.clock().instant()).isEqualTo(start.plusMillis(500));
    assertThat(api.describeKey(arn).creationDate()).isEqualTo(start.plusMillis(250));
    api.clearFaults();
    api.describeKey(arn);
    assertThat(fake.clock().instant()).isEqualTo(start.plusMillis(750));
  }

  @Test
  void anInterruptedWaitIsADependencyTimeout() {
    InMemoryKms api = fake.api();
    api.injectLatency(
        Duration.ofSeconds(1),
        d -> {
          throw new InterruptedException("test");
        });
    try {
      assertKmsError(api::createKey, LocalKmsException.DEPENDENCY_TIMEOUT);
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
    assertThat(api.calls("CreateKey", LocalKmsException.DEPENDENCY_TIMEOUT)).isEqualTo(1);
  }

  @Test
  void theCallLogRecordsOperationKeyAndOutcome() {
    InMemoryKms api = fake.api();
    String arn = api.createKey().arn();
    byte[] blob = api.generateDataKeyWithoutPlaintext(arn, CTX, 32).ciphertextBlob();
    api.decrypt(blob, CTX, arn);
    api.disableKey(arn);
    assertKmsError(() -> api.decrypt(blob, CTX, null), LocalKmsException.DISABLED);

    assertThat(api.callLog())
        .containsExactly(
            new InMemoryKms.Call("CreateKey", null, "OK"),
            new InMemoryKms.Call("GenerateDataKeyWithoutPlaintext", arn, "OK"),
            new InMemoryKms.Call("Decrypt", arn, "OK"),
            new InMemoryKms.Call("DisableKey", arn, "OK"),
            new InMemoryKms.Call("Decrypt", null, "DisabledException"));
    assertThat(api.calls("Decrypt")).isEqualTo(2);
    assertThat(api.calls("Decrypt", InMemoryKms.OK)).isEqualTo(1);
    assertThat(api.calls("Encrypt")).isZero();
    assertThat(api.callLog().get(4).succeeded()).isFalse();
    assertThatIllegalArgumentException().isThrownBy(() -> api.calls("decrypt"));

    api.resetCallLog();
    assertThat(api.callLog()).isEmpty();
    assertThat(api.calls("Decrypt")).isZero();
  }

  @Test
  void testControlsAreNeitherLoggedNorFaulted() {
    InMemoryKms api = fake.api();
    String arn = api.createKey().arn();
    api.resetCallLog();
    api.startOutage();

    api.denyAccess(arn, true);
    api.denyAccess(arn, false);
    api.forceKeyState(arn, dev.byok.spi.KeyState.DISABLED);

    assertThat(api.callLog()).isEmpty();
    api.endOutage();
    assertThat(api.describeKey(arn).enabled()).isFalse();
  }
}
