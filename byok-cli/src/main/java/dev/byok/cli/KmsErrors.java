package dev.byok.cli;

import java.net.URI;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.exception.SdkServiceException;

/**
 * Turns AWS SDK failures of the {@code byok kms} admin commands into exit codes and one line a
 * person can act on. The data path goes through byok-kms-aws, whose (package-private) error table
 * this follows: throttling, 5xx and credential trouble are "KMS unavailable" (exit 5); disabled,
 * invalid state, not found and access denied are "key unusable" (exit 4); validation errors are
 * usage errors (exit 2). Admin commands add the advice that fits the operation. Stateless.
 */
@NullMarked
final class KmsErrors {
  /**
   * Error codes meaning the credentials or the request signature were rejected: not about the key.
   */
  private static final Set<String> CREDENTIALS =
      Set.of(
          "UnrecognizedClientException",
          "InvalidSignatureException",
          "SignatureDoesNotMatch",
          "IncompleteSignature",
          "ExpiredTokenException",
          "RequestExpired",
          "InvalidClientTokenId");

  private KmsErrors() {}

  /**
   * @param kms where the KMS is
   * @param io the environment
   * @param operation the AWS operation, e.g. {@code DisableKey}
   * @param key the key or alias as the user named it
   * @param e the SDK failure
   * @return the failure to throw
   */
  static CliException translate(
      KmsOptions kms, CliIo io, String operation, String key, SdkException e) {
    if (!(e instanceof SdkServiceException s)) {
      String m = Failures.message(e);
      if (m.contains("credentials")) {
        return new CliException(
            ExitCodes.KMS_UNAVAILABLE,
            "no AWS credentials ("
                + firstLine(m)
                + "): configure "
                + "them (aws configure, AWS_PROFILE, AWS_ACCESS_KEY_ID), or pass --endpoint for `byok kms serve`",
            e);
      }
      return new CliException(
          ExitCodes.KMS_UNAVAILABLE,
          unreachable(kms, io) + " (" + operation + ": " + firstLine(m) + ")",
          e);
    }
    String code = errorCode(s);
    String aws = awsMessage(s);
    String detail = " (" + operation + ": " + code + (aws.isEmpty() ? "" : ": " + aws) + ")";
    switch (code) {
      case "NotFoundException":
        return new CliException(
            ExitCodes.KEY_UNUSABLE,
            "key "
                + key
                + " not found in this account and Region; "
                + "check the key, --region and --endpoint (`byok kms create-key` makes one)"
                + detail,
            e);
      case "DisabledException":
        return new CliException(
            ExitCodes.KEY_UNUSABLE,
            "key "
                + key
                + " is disabled; enable it with "
                + "`byok kms enable "
                + key
                + "`"
                + detail,
            e);
      case "KMSInvalidStateException":
        return new CliException(
            ExitCodes.KEY_UNUSABLE, invalidState(operation, key, aws) + detail, e);
      case "AccessDeniedException":
        return new CliException(
            ExitCodes.KEY_UNUSABLE,
            "access denied: the key policy or IAM must allow kms:"
                + operation
                + " on "
                + key
                + " for these credentials"
                + detail,
            e);
      case "AlreadyExistsException":
        return new CliException(
            ExitCodes.USAGE,
            "it already exists"
                + detail
                + "; pick another name, or move an alias with `byok kms alias ALIAS KEY`",
            e);
      case "ValidationException", "InvalidArnException", "InvalidAliasNameException":
        return new CliException(ExitCodes.USAGE, "the KMS rejected the request" + detail, e);
      case "LimitExceededException":
        return new CliException(
            ExitCodes.FAILURE,
            "a KMS limit was reached; it resets with time or on request to " + "AWS" + detail,
            e);
      default:
        break;
    }
    if (CREDENTIALS.contains(code)) {
      return new CliException(
          ExitCodes.KMS_UNAVAILABLE,
          "the KMS rejected the credentials; refresh them "
              + "(aws sso login, AWS_PROFILE) or check the clock, then retry"
              + detail,
          e);
    }
    if (s.isThrottlingException() || code.contains("Throttling")) {
      return new CliException(
          ExitCodes.KMS_UNAVAILABLE,
          "the KMS is throttling requests; retry in a moment" + detail,
          e);
    }
    if (s.statusCode() >= 500) {
      return new CliException(
          ExitCodes.KMS_UNAVAILABLE,
          "the KMS failed (HTTP " + s.statusCode() + "); retry in a moment" + detail,
          e);
    }
    return new CliException(ExitCodes.FAILURE, operation + " on " + key + " failed" + detail, e);
  }

  /**
   * @return "no KMS at ...: start one ..." or, for AWS, what to check
   */
  static String unreachable(KmsOptions kms, CliIo io) {
    URI ep = kms.endpoint(io);
    if (ep != null) {
      return "no KMS answers at "
          + ep
          + ": start one with `byok kms serve`, or fix --endpoint / BYOK_KMS_ENDPOINT";
    }
    String region = kms.region(io);
    return "could not reach AWS KMS"
        + (region == null ? "" : " in " + region)
        + ": check the network and --region, or pass --endpoint";
  }

  private static String invalidState(String operation, String key, String aws) {
    String m = aws.toLowerCase(Locale.ROOT);
    boolean pendingDeletion = m.contains("pending deletion") || m.contains("pendingdeletion");
    if (operation.equals("CancelKeyDeletion") && !pendingDeletion) {
      return "key " + key + " is not scheduled for deletion; nothing to cancel";
    }
    if (operation.equals("ScheduleKeyDeletion") && pendingDeletion) {
      return "key "
          + key
          + " is already scheduled for deletion (see `byok kms describe "
          + key
          + "`)";
    }
    if (pendingDeletion) {
      return "key "
          + key
          + " is scheduled for deletion; cancel that first with `byok kms cancel-deletion "
          + key
          + "`, then enable it";
    }
    return "key " + key + " is in a state that does not allow " + operation;
  }

  /**
   * @return "CODE (HTTP n)" of the first AWS service error in {@code t}'s cause chain, or {@code
   *     null} if there is none
   */
  static @Nullable String serviceError(Throwable t) {
    @Nullable Throwable e = t;
    for (int depth = 0; e != null && depth < 16; depth++, e = e.getCause()) {
      if (e instanceof SdkServiceException s) {
        return errorCode(s) + " (HTTP " + s.statusCode() + ")";
      }
    }
    return null;
  }

  private static String errorCode(SdkServiceException s) {
    if (s instanceof AwsServiceException a && a.awsErrorDetails() != null) {
      String c = a.awsErrorDetails().errorCode();
      if (c != null) {
        return c;
      }
    }
    return s.getClass().getSimpleName();
  }

  private static String awsMessage(SdkServiceException s) {
    @Nullable String m =
        s instanceof AwsServiceException a && a.awsErrorDetails() != null
            ? a.awsErrorDetails().errorMessage()
            : null;
    return m == null ? "" : firstLine(m);
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
