package dev.byok.kms.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.byok.ByokConfigurationException;
import dev.byok.EncryptionContext;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.kms.local.LocalKmsException;
import dev.byok.kms.local.LocalKmsServer;
import dev.byok.spi.GeneratedDataKey;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every row of {@link AwsErrors#TABLE}, driven over the wire through the real SDK, produces the
 * byok class documented for it in docs/aws-kms.md (the test reads the table from the doc).
 */
class AwsErrorMappingTest {
  private static final EncryptionContext CTX = EncryptionContext.of("tenant", "acme");
  private static final Pattern CODE = Pattern.compile("`([A-Za-z]+)`");

  /** A row of the doc's error table, as it applies to one code. */
  record Documented(String byokClass, List<String> reasons, boolean throttled) {}

  private static Map<String, Documented> documented;
  private static JsonObject referenceErrors;
  private LocalKms kms;
  private GeneratedDataKey dek;

  @BeforeAll
  static void readDocAndReference() throws IOException {
    documented =
        documentedRows(Path.of(System.getProperty("basedir", ".")).resolve("../docs/aws-kms.md"));
    String shapes = "/reference/kms-wire-shapes.json"; // the AWS KMS model, in the test resources
    try (InputStream in =
        Objects.requireNonNull(
            AwsErrorMappingTest.class.getResourceAsStream(shapes), "test resource " + shapes)) {
      referenceErrors =
          JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8))
              .getAsJsonObject()
              .getAsJsonObject("errors");
    }
  }

  @BeforeEach
  void setUp() {
    kms = new LocalKms();
    dek = kms.provider.generateDataKey(kms.newKey(), CTX);
    kms.server.resetRequestLog();
  }

  @AfterEach
  void tearDown() {
    kms.close();
  }

  static Stream<String> tableCodes() {
    return AwsErrors.TABLE.keySet().stream().sorted();
  }

  @Test
  void everyRowIsDocumentedAndTheDocNamesNoCodeTheTableLacks() {
    assertThat(documented.keySet()).containsExactlyInAnyOrderElementsOf(AwsErrors.TABLE.keySet());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("tableCodes")
  void everyRowProducesTheDocumentedClassOverTheWire(String code) {
    Documented doc = documented.get(code);
    assertThat(doc).as("docs/aws-kms.md row for %s", code).isNotNull();
    int status = statusOf(code);
    for (int i = 0; i < LocalKms.MAX_ATTEMPTS; i++) { // enough for every attempt the SDK makes
      if (LocalKmsException.errorCodes().contains(code)) {
        kms.api().failNext("Decrypt", code);
      } else {
        kms.server.failNextRequest(code, status, "scripted " + code);
      }
    }

    Throwable thrown =
        catchThrowable(() -> kms.provider.decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CTX));

    assertThat(thrown).as(code).isNotNull();
    assertThat(thrown.getClass().getSimpleName()).as(code).isEqualTo(doc.byokClass());
    if (thrown instanceof KeyUnusableException) {
      assertThat(((KeyUnusableException) thrown).reason().name()).as(code).isIn(doc.reasons());
      assertThat(((KeyUnusableException) thrown).keyId()).isEqualTo(dek.keyArn());
    }
    if (thrown instanceof InvalidCiphertextException) {
      assertThat(((InvalidCiphertextException) thrown).reason().name()).isIn(doc.reasons());
    }
    if (thrown instanceof KmsUnavailableException) {
      assertThat(((KmsUnavailableException) thrown).throttled())
          .as(code + " throttled()")
          .isEqualTo(doc.throttled());
    }
    List<LocalKmsServer.WireCall> calls = kms.server.requests();
    assertThat(calls)
        .allSatisfy(
            c -> assertThat(c).isEqualTo(new LocalKmsServer.WireCall("Decrypt", status, code)));
    if (status >= 500 || code.equals("ThrottlingException")) {
      assertThat(calls).as("the SDK retries %s", code).hasSize(LocalKms.MAX_ATTEMPTS);
    } else if (!(thrown instanceof KmsUnavailableException)) {
      assertThat(calls).as("the SDK does not retry %s", code).hasSize(1);
    }
  }

  /** The rows "any other 5xx or 429" and "any other 4xx". */
  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "BrandNewServerFault, 502, KmsUnavailableException, false",
    "BrandNewRateLimit, 429, KmsUnavailableException, true",
    "BrandNewClientFault, 400, ByokConfigurationException, false",
    "InvalidAliasNameException, 400, ByokConfigurationException, false"
  })
  void codesOutsideTheTableFallBackOnTheStatus(
      String code, int status, String byokClass, boolean throttled) {
    for (int i = 0; i < LocalKms.MAX_ATTEMPTS; i++) {
      kms.server.failNextRequest(code, status, "scripted " + code);
    }
    Throwable thrown = catchThrowable(() -> kms.provider.generateDataKey(dek.keyArn(), CTX));
    assertThat(thrown.getClass().getSimpleName()).isEqualTo(byokClass);
    if (thrown instanceof KmsUnavailableException) {
      assertThat(((KmsUnavailableException) thrown).throttled()).isEqualTo(throttled);
      assertThat(kms.server.requests()).as("retried").hasSize(LocalKms.MAX_ATTEMPTS);
    } else {
      assertThat(thrown).isInstanceOf(ByokConfigurationException.class);
      assertThat(kms.server.requests()).hasSize(1);
    }
  }

  /** The status the server answers a code with is the one in the KMS reference model. */
  @Test
  void theServerAnswersEveryFakeCodeWithTheReferenceStatus() {
    for (String code : LocalKmsException.errorCodes()) {
      if (referenceErrors.has(code)) {
        assertThat(LocalKmsException.httpStatus(code))
            .as(code)
            .isEqualTo(referenceErrors.getAsJsonObject(code).get("httpStatus").getAsInt());
      }
    }
  }

  private static int statusOf(String code) {
    if (LocalKmsException.errorCodes().contains(code)) {
      return LocalKmsException.httpStatus(code);
    }
    if (referenceErrors.has(code)) {
      return referenceErrors.getAsJsonObject(code).get("httpStatus").getAsInt();
    }
    return 400; // AWS-wide authentication errors (ExpiredTokenException, ...) are client faults
  }

  /**
   * Reads the "Error mapping" table: every backticked error code in a row's first cell maps to the
   * class, reasons and throttled flag in its second cell.
   */
  static Map<String, Documented> documentedRows(Path doc) throws IOException {
    List<String> lines = Files.readAllLines(doc);
    int start = lines.indexOf("## Error mapping");
    assertThat(start).as("docs/aws-kms.md has an '## Error mapping' section").isNotNegative();
    Map<String, Documented> rows = new LinkedHashMap<>();
    for (String line : lines.subList(start + 1, lines.size())) {
      if (line.startsWith("## ")) {
        break;
      }
      if (!line.startsWith("| ")) {
        continue;
      }
      String[] cells = line.split("\\|");
      List<String> codes = new ArrayList<>();
      Matcher code = CODE.matcher(cells[1]);
      while (code.find()) {
        if (AwsErrors.TABLE.containsKey(code.group(1))) {
          codes.add(code.group(1));
        }
      }
      if (codes.isEmpty()) {
        continue; // the header, and rows about failures that are not error codes
      }
      Matcher byok = Pattern.compile("`(\\w+)(?:\\(([A-Z_ /]+)\\))?`").matcher(cells[2]);
      assertThat(byok.find()).as("byok class in %s", line).isTrue();
      List<String> reasons = new ArrayList<>();
      if (byok.group(2) != null) {
        for (String r : byok.group(2).split("/")) {
          reasons.add(r.trim());
        }
      }
      Documented d = new Documented(byok.group(1), reasons, cells[2].contains("throttled()"));
      codes.forEach(c -> rows.put(c, d));
    }
    return rows;
  }
}
