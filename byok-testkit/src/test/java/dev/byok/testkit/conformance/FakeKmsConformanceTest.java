package dev.byok.testkit.conformance;

/** The public conformance suite against {@link dev.byok.testkit.FakeKms}. */
class FakeKmsConformanceTest extends KeyProviderConformance {
  @Override
  protected KmsFixture fixture() {
    return InMemoryKmsFixture.fake();
  }
}
