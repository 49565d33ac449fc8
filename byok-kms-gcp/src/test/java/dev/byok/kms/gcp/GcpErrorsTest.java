package dev.byok.kms.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.api.gax.grpc.GrpcStatusCode;
import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.ApiExceptionFactory;
import dev.byok.ByokConfigurationException;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import io.grpc.Status;
import org.junit.jupiter.api.Test;

/**
 * The rows of the error table the test server cannot provoke through a correct provider: a request
 * damaged in transit (Cloud KMS's checksum refusal), the other precondition states, and codes the
 * server never sends.
 */
class GcpErrorsTest {
  private static ApiException error(Status.Code code, String message) {
    return ApiExceptionFactory.createException(
        Status.fromCode(code).withDescription(message).asRuntimeException(),
        GrpcStatusCode.of(code),
        false);
  }

  @Test
  void aChecksumRefusalIsTransientNotACorruptKey() {
    assertThat(
            GcpErrors.map(
                "Decrypt",
                "k",
                error(
                    Status.Code.INVALID_ARGUMENT,
                    "The checksum in field ciphertext_crc32c did not match the data in field"
                        + " ciphertext.")))
        .isInstanceOfSatisfying(
            KmsUnavailableException.class, e -> assertThat(e.throttled()).isFalse());
    assertThat(
            GcpErrors.map("Decrypt", "k", error(Status.Code.INVALID_ARGUMENT, "Decryption failed")))
        .isInstanceOf(InvalidCiphertextException.class);
    assertThat(GcpErrors.map("Encrypt", "k", error(Status.Code.INVALID_ARGUMENT, "bad name")))
        .isInstanceOf(ByokConfigurationException.class);
  }

  @Test
  void failedPreconditionTakesItsReasonFromTheVersionState() {
    String[][] rows = {
      {"DISABLED", "DISABLED"},
      {"DESTROY_SCHEDULED", "PENDING_DELETION"},
      {"DESTROYED", "NOT_FOUND"},
      {"PENDING_IMPORT", "PENDING_IMPORT"},
      {"PENDING_GENERATION", "PENDING_IMPORT"},
      {"IMPORT_FAILED", "UNAVAILABLE"},
    };
    for (String[] row : rows) {
      ApiException e =
          error(
              Status.Code.FAILED_PRECONDITION,
              "The request cannot be fulfilled. Resource projects/p/locations/l/keyRings/DISABLED/"
                  + "cryptoKeys/k/cryptoKeyVersions/1 has value "
                  + row[0]
                  + " in field crypto_key_version.state.");
      assertThat(GcpErrors.map("Encrypt", "k", e))
          .isInstanceOfSatisfying(
              KeyUnusableException.class,
              u -> assertThat(u.reason().name()).as(row[0]).isEqualTo(row[1]));
    }
  }

  @Test
  void codesTheServerNeverSendsAreClassifiedToo() {
    assertThat(GcpErrors.map("Encrypt", "k", error(Status.Code.UNIMPLEMENTED, "")))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessage("Encrypt on k failed: UNIMPLEMENTED");
    assertThat(GcpErrors.map("Encrypt", "k", error(Status.Code.CANCELLED, "x")))
        .isInstanceOf(KmsUnavailableException.class);
    assertThat(GcpErrors.map("Encrypt", "k", error(Status.Code.RESOURCE_EXHAUSTED, "quota")))
        .isInstanceOfSatisfying(
            KmsUnavailableException.class, e -> assertThat(e.throttled()).isTrue())
        .hasMessage("Encrypt on k failed: RESOURCE_EXHAUSTED: quota");
  }
}
