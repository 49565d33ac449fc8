package dev.byok.kms.aws;

import dev.byok.ByokConfigurationException;
import dev.byok.ByokException;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import java.util.Locale;
import java.util.Map;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.exception.SdkServiceException;
import software.amazon.awssdk.services.kms.model.KmsException;

/**
 * The one table that turns AWS KMS failures into byok's classes. Documented row by row in
 * docs/aws-kms.md; every row is exercised over the wire by AwsErrorMappingTest.
 */
final class AwsErrors {
  /** What a KMS error code means to byok. */
  enum Kind {
    TRANSIENT,
    KEY_UNUSABLE,
    CORRUPT,
    CALLER
  }

  /**
   * Error code -> class. Codes not listed: 5xx and throttling are transient, other 4xx caller bugs.
   */
  static final Map<String, Kind> TABLE =
      Map.ofEntries(
          // transient: keep serving from cache, never lock
          Map.entry("ThrottlingException", Kind.TRANSIENT),
          Map.entry("KMSInternalException", Kind.TRANSIENT),
          Map.entry("DependencyTimeoutException", Kind.TRANSIENT),
          Map.entry("KeyUnavailableException", Kind.TRANSIENT),
          // host-side credential and clock problems say nothing about the customer's key
          Map.entry("UnrecognizedClientException", Kind.TRANSIENT),
          Map.entry("InvalidSignatureException", Kind.TRANSIENT),
          Map.entry("SignatureDoesNotMatch", Kind.TRANSIENT),
          Map.entry("IncompleteSignature", Kind.TRANSIENT),
          Map.entry("ExpiredTokenException", Kind.TRANSIENT),
          Map.entry("RequestExpired", Kind.TRANSIENT),
          Map.entry("InvalidClientTokenId", Kind.TRANSIENT),
          // authoritative denial about the key: lock
          Map.entry("DisabledException", Kind.KEY_UNUSABLE),
          Map.entry("KMSInvalidStateException", Kind.KEY_UNUSABLE),
          Map.entry("NotFoundException", Kind.KEY_UNUSABLE),
          Map.entry("AccessDeniedException", Kind.KEY_UNUSABLE),
          // corrupt wrapped key or wrong context: never retry
          Map.entry("InvalidCiphertextException", Kind.CORRUPT),
          // caller bug: fix the configuration
          Map.entry("IncorrectKeyException", Kind.CALLER),
          Map.entry("InvalidKeyUsageException", Kind.CALLER),
          Map.entry("InvalidArnException", Kind.CALLER),
          Map.entry("ValidationException", Kind.CALLER),
          Map.entry("InvalidGrantTokenException", Kind.CALLER),
          Map.entry("UnsupportedOperationException", Kind.CALLER),
          Map.entry("DryRunOperationException", Kind.CALLER),
          Map.entry("LimitExceededException", Kind.CALLER));

  private AwsErrors() {}

  static Kind kindOf(String code, int status) {
    Kind k = TABLE.get(code);
    if (k != null) {
      return k;
    }
    return status >= 500 || status == 429 ? Kind.TRANSIENT : Kind.CALLER;
  }

  /** Maps any SDK failure of {@code operation} on {@code keyId}; never returns an AWS type. */
  static ByokException map(String operation, String keyId, SdkException e) {
    if (e instanceof SdkServiceException) {
      SdkServiceException s = (SdkServiceException) e;
      String code = errorCode(s);
      String message =
          operation
              + " on "
              + keyId
              + " failed: "
              + code
              + " (HTTP "
              + s.statusCode()
              + ")"
              + awsMessage(e);
      switch (kindOf(code, s.statusCode())) {
        case TRANSIENT:
          return new KmsUnavailableException(
              message, s.isThrottlingException() || code.contains("Throttling"), e);
        case KEY_UNUSABLE:
          return new KeyUnusableException(reason(code, s), keyId, message, e);
        case CORRUPT:
          return new InvalidCiphertextException(
              InvalidCiphertextException.Reason.WRAPPED_KEY_REJECTED, message, e);
        default:
          return new ByokConfigurationException(message, e);
      }
    }
    // SdkClientException: network, time-outs (ApiCallTimeout/ApiCallAttemptTimeout), credentials
    // that cannot be loaded, interrupted calls: all transient, the key may be fine.
    String what = e instanceof SdkClientException ? "could not reach AWS KMS" : "AWS SDK failure";
    return new KmsUnavailableException(
        operation + " on " + keyId + ": " + what + ": " + e.getMessage(), false, e);
  }

  private static String errorCode(SdkServiceException s) {
    if (s instanceof KmsException && ((KmsException) s).awsErrorDetails() != null) {
      String c = ((KmsException) s).awsErrorDetails().errorCode();
      if (c != null) {
        return c;
      }
    }
    return s.getClass().getSimpleName();
  }

  private static KeyUnusableException.Reason reason(String code, SdkServiceException s) {
    switch (code) {
      case "DisabledException":
        return KeyUnusableException.Reason.DISABLED;
      case "NotFoundException":
        return KeyUnusableException.Reason.NOT_FOUND;
      case "AccessDeniedException":
        return KeyUnusableException.Reason.ACCESS_DENIED;
      default:
        // KMSInvalidStateException: AWS says which state in the message
        String m = String.valueOf(s.getMessage()).toLowerCase(Locale.ROOT);
        if (m.contains("pending deletion") || m.contains("pendingdeletion")) {
          return KeyUnusableException.Reason.PENDING_DELETION;
        }
        if (m.contains("pending import") || m.contains("pendingimport")) {
          return KeyUnusableException.Reason.PENDING_IMPORT;
        }
        if (m.contains("disabled")) {
          return KeyUnusableException.Reason.DISABLED;
        }
        return KeyUnusableException.Reason.UNAVAILABLE;
    }
  }

  /** {@code ": " + AWS's message}, or nothing when AWS sent none (never {@code ": null"}). */
  private static String awsMessage(SdkException e) {
    if (e instanceof KmsException k && k.awsErrorDetails() != null) {
      String m = k.awsErrorDetails().errorMessage();
      if (m != null && !m.isBlank()) {
        return ": " + m;
      }
    }
    return "";
  }
}
