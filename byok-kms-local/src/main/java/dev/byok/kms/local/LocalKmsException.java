package dev.byok.kms.local;

import dev.byok.spi.KeyState;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;

/**
 * An error from {@link InMemoryKms}, carrying the AWS KMS error code exactly as AWS sends it in the
 * {@code __type} of a JSON 1.1 error body (for example {@code DisabledException}) and the HTTP
 * status AWS answers with. Every {@link InMemoryKms} operation throws it; byok-testkit's {@code
 * FakeKms} translates it into byok's exceptions.
 *
 * <p>Immutable and thread-safe. {@link #keyArn()} and {@link #keyState()} are {@code null} when the
 * error does not concern one key (or was scripted without one).
 */
@NullMarked
public final class LocalKmsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Code: the key is disabled. */
  public static final String DISABLED = "DisabledException";

  /** Code: the key's state does not allow the operation (pending deletion/import, unavailable). */
  public static final String INVALID_STATE = "KMSInvalidStateException";

  /** Code: no such key or alias. */
  public static final String NOT_FOUND = "NotFoundException";

  /** Code: the ciphertext blob is corrupt or its encryption context does not match. */
  public static final String INVALID_CIPHERTEXT = "InvalidCiphertextException";

  /** Code: the KeyId given to Decrypt/ReEncrypt is not the key that encrypted the blob. */
  public static final String INCORRECT_KEY = "IncorrectKeyException";

  /** Code: the key's usage does not allow the operation. */
  public static final String INVALID_KEY_USAGE = "InvalidKeyUsageException";

  /** Code: the caller may not use the key (a common AWS error, not in the KMS model). */
  public static final String ACCESS_DENIED = "AccessDeniedException";

  /** Code: request rate exceeded (a common AWS error, not in the KMS model). */
  public static final String THROTTLING = "ThrottlingException";

  /** Code: internal KMS failure. */
  public static final String INTERNAL = "KMSInternalException";

  /** Code: a KMS dependency timed out. */
  public static final String DEPENDENCY_TIMEOUT = "DependencyTimeoutException";

  /** Code: the key is temporarily unavailable. */
  public static final String KEY_UNAVAILABLE = "KeyUnavailableException";

  /**
   * Code: a request field is missing or out of range (a common AWS error, not in the KMS model).
   */
  public static final String VALIDATION = "ValidationException";

  /** Code: a malformed ARN. */
  public static final String INVALID_ARN = "InvalidArnException";

  /** Code: a malformed or reserved alias name. */
  public static final String INVALID_ALIAS_NAME = "InvalidAliasNameException";

  /** Code: the alias already exists. */
  public static final String ALREADY_EXISTS = "AlreadyExistsException";

  /** Code: the operation is not supported for this key. */
  public static final String UNSUPPORTED_OPERATION = "UnsupportedOperationException";

  /**
   * Code: a key policy is not valid JSON, breaks a rule, or uses what the local KMS does not model.
   */
  public static final String MALFORMED_POLICY_DOCUMENT = "MalformedPolicyDocumentException";

  /** Code: a grant token in {@code GrantTokens} is not valid. */
  public static final String INVALID_GRANT_TOKEN = "InvalidGrantTokenException";

  /** Code: a quota was exceeded. */
  public static final String LIMIT_EXCEEDED = "LimitExceededException";

  /**
   * Error code to HTTP status, as in AWS KMS (botocore/Smithy model; the three codes marked as
   * common errors above are AWS-wide errors answered with 400). Only these codes can be thrown.
   */
  private static final Map<String, Integer> HTTP_STATUS;

  static {
    Map<String, Integer> m = new LinkedHashMap<>();
    m.put(DISABLED, 409);
    m.put(INVALID_STATE, 409);
    m.put(NOT_FOUND, 404);
    m.put(INVALID_CIPHERTEXT, 400);
    m.put(INCORRECT_KEY, 400);
    m.put(INVALID_KEY_USAGE, 400);
    m.put(ACCESS_DENIED, 400);
    m.put(THROTTLING, 400);
    m.put(INTERNAL, 500);
    m.put(DEPENDENCY_TIMEOUT, 503);
    m.put(KEY_UNAVAILABLE, 500);
    m.put(VALIDATION, 400);
    m.put(INVALID_ARN, 400);
    m.put(INVALID_ALIAS_NAME, 400);
    m.put(ALREADY_EXISTS, 409);
    m.put(UNSUPPORTED_OPERATION, 400);
    m.put(LIMIT_EXCEEDED, 400);
    m.put(INVALID_GRANT_TOKEN, 400);
    m.put(MALFORMED_POLICY_DOCUMENT, 400);
    HTTP_STATUS = Collections.unmodifiableMap(m);
  }

  /**
   * The AWS error code.
   *
   * @serial the AWS error code
   */
  private final String errorCode;

  /**
   * The key concerned, or null.
   *
   * @serial the key concerned, or null
   */
  private final @Nullable String keyArn;

  /**
   * The key's state when it caused the error, or null.
   *
   * @serial the key's state when it caused the error, or null
   */
  private final @Nullable KeyState keyState;

  /**
   * Creates the exception.
   *
   * @param errorCode one of {@link #errorCodes()}
   * @param message AWS-style message, without key material
   * @throws IllegalArgumentException if the code is unknown
   */
  public LocalKmsException(String errorCode, String message) {
    this(errorCode, message, null, null);
  }

  LocalKmsException(
      String errorCode, String message, @Nullable String keyArn, @Nullable KeyState keyState) {
    super(errorCode + ": " + Objects.requireNonNull(message, "message"));
    this.errorCode = checkCode(errorCode);
    this.keyArn = keyArn;
    this.keyState = keyState;
  }

  /**
   * {@return the code}
   *
   * @param errorCode a code
   * @throws IllegalArgumentException naming the code if it is not one of {@link #errorCodes()}
   */
  static String checkCode(String errorCode) {
    Objects.requireNonNull(errorCode, "errorCode");
    if (!HTTP_STATUS.containsKey(errorCode)) {
      throw new IllegalArgumentException(
          "unknown KMS error code '" + errorCode + "'; known: " + HTTP_STATUS.keySet());
    }
    return errorCode;
  }

  /** {@return every error code the fake can throw, in a stable order} */
  public static Set<String> errorCodes() {
    return HTTP_STATUS.keySet();
  }

  /**
   * {@return the HTTP status AWS KMS answers that error with}
   *
   * @param errorCode one of {@link #errorCodes()}
   */
  public static int httpStatus(String errorCode) {
    return Objects.requireNonNull(HTTP_STATUS.get(checkCode(errorCode)), errorCode);
  }

  /** {@return the AWS error code, e.g. {@code DisabledException}} */
  public String errorCode() {
    return errorCode;
  }

  /** {@return the HTTP status AWS answers this error with} */
  public int httpStatus() {
    return Objects.requireNonNull(HTTP_STATUS.get(errorCode), errorCode);
  }

  /** {@return whether AWS classes this as a server fault (HTTP 5xx) rather than a client fault} */
  public boolean serverFault() {
    return httpStatus() >= 500;
  }

  /** {@return the ARN of the key concerned, or {@code null}} */
  public @Nullable String keyArn() {
    return keyArn;
  }

  /** {@return the state of the key that caused the error, or {@code null}} */
  public @Nullable KeyState keyState() {
    return keyState;
  }
}
