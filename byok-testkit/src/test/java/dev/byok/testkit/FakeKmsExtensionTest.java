package dev.byok.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.byok.kms.local.InMemoryKms;
import dev.byok.kms.local.LocalKmsException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/** The extension: a fresh fake and clock per test, parameter injection, and the leak check. */
class FakeKmsExtensionTest {
  @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();

  // Both tests create the same alias and advance the clock: each would fail if state leaked across
  // tests.
  @Test
  void eachTestGetsAFreshFakeAndClock() {
    assertFresh();
  }

  @Test
  void eachTestGetsAFreshFakeAndClockToo() {
    assertFresh();
  }

  private void assertFresh() {
    assertThat(fake.clock().instant()).isEqualTo(ManualClock.DEFAULT_START);
    assertThat(fake.api().listAliases(null)).isEmpty();
    fake.api().createAlias("alias/once", fake.api().createKey().arn());
    fake.clock().advance(Duration.ofDays(1));
    assertThat(fake.api().clock()).isSameAs(fake.clock());
  }

  @Test
  void injectsTheSameInstancesAsParameters(FakeKms kms, InMemoryKms api, ManualClock clock) {
    assertThat(kms).isSameAs(fake.kms());
    assertThat(api).isSameAs(fake.api());
    assertThat(clock).isSameAs(fake.clock());
  }

  @Test
  void configuredAppliesToEachTestsBuilder() {
    assertThat(run(ConfiguredCase.class).getTestsSucceededCount()).isEqualTo(1);
    org.assertj.core.api.Assertions.assertThatIllegalStateException()
        .isThrownBy(() -> FakeKmsExtension.create().kms());
  }

  @Test
  void aPassingTestThatLeavesAScriptedFaultFails() {
    TestExecutionSummary summary = run(LeakyCase.class);

    assertThat(summary.getTestsFailedCount()).isEqualTo(1);
    Throwable failure = summary.getFailures().get(0).getException();
    assertThat(failure)
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("Decrypt: DisabledException");
  }

  @Test
  void consumedFaultsAndFailingTestsAreNotReportedAsLeaks() {
    TestExecutionSummary clean = run(CleanCase.class);
    assertThat(clean.getTestsSucceededCount()).isEqualTo(1);
    assertThat(clean.getTestsFailedCount()).isZero();

    TestExecutionSummary failing = run(FailingCase.class);
    assertThat(failing.getTestsFailedCount()).isEqualTo(1);
    Throwable failure = failing.getFailures().get(0).getException();
    assertThat(failure).hasMessage("the test's own failure");
    assertThat(failure.getSuppressed()).isEmpty();
  }

  @Test
  void theLeakCheckItselfThrowsAnAssertionError() {
    fake.api().failNext("Encrypt", LocalKmsException.INTERNAL);

    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> FakeKmsExtension.verifyNoLeaks(fake.kms()))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("Encrypt: KMSInternalException");
    fake.api().clearFaults();
  }

  private static TestExecutionSummary run(Class<?> testClass) {
    SummaryGeneratingListener listener = new SummaryGeneratingListener();
    LauncherFactory.create()
        .execute(
            LauncherDiscoveryRequestBuilder.request().selectors(selectClass(testClass)).build(),
            listener);
    return listener.getSummary();
  }

  // Run only through the launcher above: surefire skips nested classes.
  static class LeakyCase {
    @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();

    @Test
    void scriptsAFailureButNeverDecrypts() {
      fake.api().failNext("Decrypt", LocalKmsException.DISABLED);
      fake.api().createKey();
    }
  }

  static class CleanCase {
    @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();

    @Test
    void consumesItsScriptedFailure() {
      fake.api().failNext("CreateKey", LocalKmsException.THROTTLING);
      try {
        fake.api().createKey();
      } catch (LocalKmsException expected) {
        // consumed
      }
      assertThat(fake.api().calls("CreateKey", LocalKmsException.THROTTLING)).isEqualTo(1);
    }
  }

  static class ConfiguredCase {
    @RegisterExtension
    final FakeKmsExtension fake =
        FakeKmsExtension.configured(b -> b.providerId("local").region("eu-west-1"));

    @Test
    void usesTheConfiguration() {
      assertThat(fake.kms().providerId()).isEqualTo("local");
      assertThat(fake.api().createKey().arn())
          .startsWith("arn:aws:kms:eu-west-1:111122223333:key/");
    }
  }

  static class FailingCase {
    @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();

    @Test
    void failsOnItsOwn() {
      fake.api().failNext("Decrypt", LocalKmsException.DISABLED);
      throw new AssertionError("the test's own failure");
    }
  }
}
