package dev.byok.kms.local;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Shared helpers for the fake KMS tests. */
final class KmsAssertions {
  static final Map<String, String> CTX = Map.of("tenant", "t1", "repository", "snapshots");

  private KmsAssertions() {}

  /** Asserts that the call fails with a {@link LocalKmsException} of exactly this AWS code. */
  static void assertKmsError(ThrowingCallable call, String errorCode) {
    assertThatThrownBy(call)
        .isInstanceOf(LocalKmsException.class)
        .satisfies(
            e ->
                org.assertj.core.api.Assertions.assertThat(((LocalKmsException) e).errorCode())
                    .as("AWS error code of %s", e.getMessage())
                    .isEqualTo(errorCode));
  }
}
