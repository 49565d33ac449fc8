package dev.byok.examples.docs;

import dev.byok.testkit.conformance.InMemoryKmsFixture;
import dev.byok.testkit.conformance.KeyProviderConformance;
import dev.byok.testkit.conformance.KmsFixture;

/** The conformance sample of docs/testing-with-the-testkit.md: it runs the whole suite. */
// docs:begin testkit-conformance
class MyKmsProviderConformanceTest extends KeyProviderConformance {
  @Override
  protected KmsFixture fixture() {
    // your provider over a fake of your KMS, and that fake's controls; here, the testkit's own
    return InMemoryKmsFixture.fake();
  }
}
// docs:end testkit-conformance
