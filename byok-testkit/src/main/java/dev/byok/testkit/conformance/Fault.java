package dev.byok.testkit.conformance;

/**
 * A transient KMS fault a {@link KmsFixture} can inject with {@link KmsFixture#failNext}. A
 * provider must classify both as {@link dev.byok.KmsUnavailableException}: the key is fine, the KMS
 * is not answering right now.
 */
public enum Fault {
  /**
   * The KMS is down or failing on its side (AWS {@code KMSInternalException}, HTTP 500/503, gRPC
   * {@code UNAVAILABLE}); {@link dev.byok.KmsUnavailableException#throttled()} is false.
   */
  UNAVAILABLE,
  /**
   * The caller is rate-limited (AWS {@code ThrottlingException}, HTTP 429, gRPC {@code
   * RESOURCE_EXHAUSTED}); {@link dev.byok.KmsUnavailableException#throttled()} is true.
   */
  THROTTLED
}
