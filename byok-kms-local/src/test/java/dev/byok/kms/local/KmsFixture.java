package dev.byok.kms.local;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh {@link InMemoryKms} on a fresh {@link TestClock} per test; a test that passed but left
 * scripted faults unconsumed fails.
 */
final class KmsFixture implements AfterEachCallback {
  private final TestClock clock = new TestClock();
  private final InMemoryKms kms = InMemoryKms.builder().clock(clock).build();

  InMemoryKms api() {
    return kms;
  }

  TestClock clock() {
    return clock;
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (context.getExecutionException().isEmpty()) {
      kms.checkNoUnconsumedFaults();
    }
  }
}
