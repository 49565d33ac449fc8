package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.InvalidCiphertextException;
import dev.byok.InvalidCiphertextException.Reason;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.kms.model.KmsException;

/**
 * Exit codes and messages of failures as the library and the JDK throw them: mapped by cause
 * through java.io wrappers (a stream's read failure is an IOException whose cause is the byok
 * failure), the library's reason code always shown, and never a "null" where a message was missing.
 */
class FailuresTest {
  private static final String ARN = "arn:aws:kms:us-east-1:111122223333:key/k";

  @Test
  void anIoExceptionCarryingAByokFailureIsReportedByItsCause() {
    InvalidCiphertextException ice = new InvalidCiphertextException(Reason.TRUNCATED, "ends early");
    IOException io = new IOException(ice.getMessage(), ice);
    assertThat(Failures.exitCode(io)).isEqualTo(ExitCodes.INVALID_BLOB);
    assertThat(Failures.describe(io)).startsWith("the blob is truncated (TRUNCATED: ends early)");

    UncheckedIOException wrapped = new UncheckedIOException(io);
    assertThat(Failures.exitCode(wrapped)).isEqualTo(ExitCodes.INVALID_BLOB);

    KeyUnusableException k =
        new KeyUnusableException(KeyUnusableException.Reason.DISABLED, ARN, "disabled", null);
    assertThat(Failures.exitCode(new IOException("read failed", k)))
        .isEqualTo(ExitCodes.KEY_UNUSABLE);
    assertThat(Failures.describe(new IOException("read failed", k))).contains("is disabled");
  }

  @Test
  void aPlainIoExceptionStaysAFileProblem() {
    IOException io = new IOException("No space left on device", new IllegalStateException("x"));
    assertThat(Failures.exitCode(io)).isEqualTo(ExitCodes.IO);
    assertThat(Failures.describe(io)).isEqualTo("I/O error: No space left on device");
  }

  @Test
  void everyReasonIsNamedInTheMessage() {
    for (Reason r : Reason.values()) {
      String d = Failures.describe(new InvalidCiphertextException(r, "detail"));
      assertThat(d).as(r.name()).contains(r.name() + ": detail");
    }
  }

  @Test
  void aMissingMessageIsNeverPrintedAsNull() {
    assertThat(Failures.describe(new IOException())).isEqualTo("I/O error: IOException");
    assertThat(Failures.describe(new IllegalArgumentException((String) null)))
        .isEqualTo("IllegalArgumentException");
    assertThat(Failures.message(new IOException("null"))).isEqualTo("IOException");
  }

  @Test
  void aKmsErrorWithoutAMessageShowsItsErrorCode() {
    KmsException aws =
        (KmsException)
            KmsException.builder()
                .statusCode(500)
                .awsErrorDetails(
                    AwsErrorDetails.builder().errorCode("KMSInternalException").build())
                .build();
    // what byok-kms-aws makes of it: its message ends in ": null" when AWS sent no message
    KmsUnavailableException k =
        new KmsUnavailableException(
            "Decrypt on " + ARN + " failed: KMSInternalException (HTTP 500): null", false, aws);
    String d = Failures.describe(k);
    assertThat(d).contains("KMSInternalException (HTTP 500)").doesNotContain("null");
    assertThat(Failures.message(new IllegalStateException((String) null, aws)))
        .isEqualTo("KMSInternalException (HTTP 500)");
  }

  @Test
  void aStandardStreamFailureIsItsOwnOneLiner() {
    StdioException e =
        StdioException.cannotWrite("standard output", new IOException("Broken pipe"));
    assertThat(Failures.exitCode(e)).isEqualTo(ExitCodes.IO);
    assertThat(Failures.describe(e))
        .isEqualTo("cannot write standard output: Broken pipe; the output is incomplete");
  }
}
