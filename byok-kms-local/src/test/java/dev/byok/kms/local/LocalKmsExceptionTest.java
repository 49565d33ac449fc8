package dev.byok.kms.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Error codes, HTTP statuses and operation names agree with the AWS KMS model (a copy of its wire
 * shapes in the test resources, {@code reference/kms-wire-shapes.json}).
 */
class LocalKmsExceptionTest {
  /** AWS-wide errors that the KMS service model does not list; AWS answers each with 400. */
  private static final Set<String> COMMON_ERRORS =
      Set.of("AccessDeniedException", "ThrottlingException", "ValidationException");

  private static final Map<String, Integer> REFERENCE_STATUS = new HashMap<>();
  private static final Map<String, String> REFERENCE_FAULT = new HashMap<>();
  private static final Set<String> REFERENCE_OPERATIONS = new LinkedHashSet<>();

  @BeforeAll
  static void readReference() throws IOException {
    String file = "/reference/kms-wire-shapes.json";
    String json;
    try (InputStream in =
        Objects.requireNonNull(
            LocalKmsExceptionTest.class.getResourceAsStream(file), "test resource " + file)) {
      json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Matcher errors =
        Pattern.compile(
                "\"(\\w+)\":\\s*\\{\\s*\"fault\":\\s*\"(\\w+)\",\\s*\"httpStatus\":\\s*(\\d+)")
            .matcher(json);
    while (errors.find()) {
      REFERENCE_FAULT.put(errors.group(1), errors.group(2));
      REFERENCE_STATUS.put(errors.group(1), Integer.parseInt(errors.group(3)));
    }
    Matcher ops = Pattern.compile("\"target\":\\s*\"TrentService\\.(\\w+)\"").matcher(json);
    while (ops.find()) {
      REFERENCE_OPERATIONS.add(ops.group(1));
    }
    assertThat(REFERENCE_STATUS).as("errors parsed from %s", file).hasSizeGreaterThan(20);
  }

  @Test
  void everyCodeHasTheHttpStatusAndFaultOfTheAwsModel() {
    for (String code : LocalKmsException.errorCodes()) {
      LocalKmsException e = new LocalKmsException(code, "test");
      if (COMMON_ERRORS.contains(code)) {
        assertThat(REFERENCE_STATUS).as(code).doesNotContainKey(code);
        assertThat(e.httpStatus()).as(code).isEqualTo(400);
        assertThat(e.serverFault()).as(code).isFalse();
      } else {
        assertThat(REFERENCE_STATUS).as(code).containsKey(code);
        assertThat(e.httpStatus()).as(code).isEqualTo(REFERENCE_STATUS.get(code));
        assertThat(e.serverFault()).as(code).isEqualTo(REFERENCE_FAULT.get(code).equals("server"));
      }
      assertThat(e.errorCode()).isEqualTo(code);
      assertThat(e.getMessage()).isEqualTo(code + ": test");
    }
  }

  @Test
  void theFakeImplementsExactlyTheOperationsOfTheReference() {
    // the key-policy and grant operations are not in the reference extract; their shapes are
    // tested in KeyPolicyTest and GrantsAndMultiRegionKeysTest against the AWS API reference
    Set<String> policyOperations =
        Set.of("PutKeyPolicy", "GetKeyPolicy", "CreateGrant", "RevokeGrant");
    assertThat(InMemoryKms.OPERATIONS)
        .containsAll(policyOperations)
        .filteredOn(op -> !policyOperations.contains(op))
        .containsExactlyInAnyOrderElementsOf(REFERENCE_OPERATIONS);
  }

  @Test
  void unknownCodesAreRejected() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> new LocalKmsException("KmsDisabled", "x"))
        .withMessageContaining("'KmsDisabled'");
  }
}
