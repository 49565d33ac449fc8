package dev.byok.kms.gcp;

import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.StatusCode;
import dev.byok.ByokConfigurationException;
import dev.byok.ByokException;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one table that turns Cloud KMS (gRPC status) failures into byok's classes. Documented row by
 * row in docs/gcp-kms.md; every row is exercised over gRPC by GcpKmsProviderTest.
 */
final class GcpErrors {
  private GcpErrors() {}

  /** Maps a failure of {@code operation} on {@code keyId}; never returns a Google type. */
  static ByokException map(String operation, String keyId, ApiException e) {
    StatusCode.Code code = e.getStatusCode().getCode();
    String message = operation + " on " + keyId + " failed: " + code + gcpMessage(e);
    return switch (code) {
      // transient: the client's retry settings already ran out; keep serving from cache.
      // UNAUTHENTICATED: the host's own credentials (expired token, clock skew) say nothing
      // about the key.
      case UNAVAILABLE,
          DEADLINE_EXCEEDED,
          INTERNAL,
          UNKNOWN,
          ABORTED,
          CANCELLED,
          DATA_LOSS,
          UNAUTHENTICATED ->
          new KmsUnavailableException(message, false, e);
      case RESOURCE_EXHAUSTED -> new KmsUnavailableException(message, true, e);
      case PERMISSION_DENIED ->
          new KeyUnusableException(KeyUnusableException.Reason.ACCESS_DENIED, keyId, message, e);
      case NOT_FOUND ->
          new KeyUnusableException(KeyUnusableException.Reason.NOT_FOUND, keyId, message, e);
      // Cloud KMS names the version's state: "... has value DISABLED in field
      // crypto_key_version.state."
      case FAILED_PRECONDITION -> new KeyUnusableException(stateReason(message), keyId, message, e);
      case INVALID_ARGUMENT -> invalidArgument(operation, message, e);
      // UNIMPLEMENTED, OUT_OF_RANGE, ALREADY_EXISTS: a caller or configuration bug
      default -> new ByokConfigurationException(message, e);
    };
  }

  private static ByokException invalidArgument(String operation, String message, ApiException e) {
    if (isChecksumMismatch(message)) {
      // the request was damaged on its way: Cloud KMS's integrity guide says retry
      return new KmsUnavailableException(message, false, e);
    }
    if (operation.equals("Decrypt")) {
      // a corrupt ciphertext, another key's ciphertext, or other additional authenticated data
      return new InvalidCiphertextException(
          InvalidCiphertextException.Reason.WRAPPED_KEY_REJECTED, message, e);
    }
    return new ByokConfigurationException(message, e);
  }

  private static boolean isChecksumMismatch(String message) {
    return message.toLowerCase(Locale.ROOT).contains("checksum");
  }

  private static final Pattern STATE =
      Pattern.compile("has value ([A-Z_]+) in field crypto_key_version\\.state");

  static KeyUnusableException.Reason stateReason(String message) {
    Matcher m = STATE.matcher(message);
    if (m.find()) {
      message = m.group(1);
    }
    if (message.contains("DESTROY_SCHEDULED") || message.contains("PENDING_EXTERNAL_DESTRUCTION")) {
      return KeyUnusableException.Reason.PENDING_DELETION;
    }
    if (message.contains("DESTROYED")) {
      return KeyUnusableException.Reason.NOT_FOUND;
    }
    if (message.contains("DISABLED")) {
      return KeyUnusableException.Reason.DISABLED;
    }
    if (message.contains("PENDING_IMPORT") || message.contains("PENDING_GENERATION")) {
      return KeyUnusableException.Reason.PENDING_IMPORT;
    }
    return KeyUnusableException.Reason.UNAVAILABLE;
  }

  /** {@code ": " + the server's description}, or nothing when there is none. */
  private static String gcpMessage(ApiException e) {
    String m = e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
    if (m == null) {
      return "";
    }
    // io.grpc.StatusRuntimeException: "FAILED_PRECONDITION: <description>", or the bare code
    String code = e.getStatusCode().getCode().name();
    if (m.equals(code)) {
      return "";
    }
    if (m.startsWith(code + ": ")) {
      m = m.substring(code.length() + 2);
    }
    return m.isBlank() ? "" : ": " + m;
  }
}
