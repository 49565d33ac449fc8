package dev.byok.kms.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LocalKmsServer over raw HTTP (java.net.http, no AWS SDK): the JSON 1.1 protocol, request
 * validation, wire faults, loopback-only binding, the state file and the standalone command line.
 * byok-kms-aws tests the same server with the real AWS SDK client.
 */
class LocalKmsServerTest {
  private final TestClock clock = new TestClock();
  private final InMemoryKms kms = InMemoryKms.builder().clock(clock).build();
  private final LocalKmsServer server = LocalKmsServer.start(kms);

  @AfterEach
  void tearDown() {
    server.close();
  }

  /** An answer: status and parsed JSON body. */
  record Answer(int status, JsonObject body, String contentType) {
    String errorCode() {
      return body.get("__type").getAsString();
    }
  }

  static Answer post(URI endpoint, String target, String json, boolean signed) throws IOException {
    return post(endpoint, target, json, signed ? "AKIDEXAMPLE" : null);
  }

  /** A request signed (with a dummy signature) by {@code accessKeyId}, or unsigned if null. */
  static Answer post(URI endpoint, String target, String json, String accessKeyId)
      throws IOException {
    boolean signed = accessKeyId != null;
    HttpURLConnection c = (HttpURLConnection) endpoint.resolve("/").toURL().openConnection();
    c.setRequestMethod("POST");
    c.setDoOutput(true);
    c.setRequestProperty("Content-Type", LocalKmsServer.CONTENT_TYPE);
    if (target != null) {
      c.setRequestProperty("X-Amz-Target", target);
    }
    if (signed) {
      c.setRequestProperty(
          "Authorization",
          "AWS4-HMAC-SHA256 Credential="
              + accessKeyId
              + "/20300101/us-east-1/kms/"
              + "aws4_request, SignedHeaders=host, Signature=0000");
    }
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    c.setFixedLengthStreamingMode(body.length); // streaming: no silent retry of a dropped POST
    try (OutputStream out = c.getOutputStream()) {
      out.write(body);
    }
    int status = c.getResponseCode();
    try (InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream()) {
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return new Answer(
          status,
          JsonParser.parseString(text).getAsJsonObject(),
          Objects.requireNonNullElse(c.getContentType(), ""));
    } finally {
      c.disconnect();
    }
  }

  private Answer call(String operation, String json) throws IOException {
    return post(server.endpoint(), "TrentService." + operation, json, true);
  }

  @Test
  void speaksJson11WithBase64BlobsAndEpochSecondTimestamps() throws Exception {
    Answer created = call("CreateKey", "{\"Description\":\"raw\"}");
    assertThat(created.status()).isEqualTo(200);
    assertThat(created.contentType()).isEqualTo(LocalKmsServer.CONTENT_TYPE);
    JsonObject meta = created.body().getAsJsonObject("KeyMetadata");
    assertThat(meta.get("KeyState").getAsString()).isEqualTo("Enabled");
    assertThat(meta.get("Description").getAsString()).isEqualTo("raw");
    assertThat(meta.get("CreationDate").getAsBigDecimal().longValueExact())
        .isEqualTo(clock.instant().getEpochSecond());
    String arn = meta.get("Arn").getAsString();

    byte[] secret = "sixteen byte key".getBytes(StandardCharsets.UTF_8);
    Answer enc =
        call(
            "Encrypt",
            "{\"KeyId\":\""
                + arn
                + "\",\"Plaintext\":\""
                + b64(secret)
                + "\",\"EncryptionContext\":{\"tenant\":\"t1\"}}");
    assertThat(enc.status()).isEqualTo(200);
    assertThat(enc.body().get("KeyId").getAsString()).isEqualTo(arn);
    String blob = enc.body().get("CiphertextBlob").getAsString();

    Answer dec =
        call(
            "Decrypt",
            "{\"CiphertextBlob\":\"" + blob + "\",\"EncryptionContext\":{\"tenant\":\"t1\"}}");
    assertThat(Base64.getDecoder().decode(dec.body().get("Plaintext").getAsString()))
        .isEqualTo(secret);
    assertThat(dec.body().get("KeyMaterialId").getAsString())
        .isEqualTo(meta.get("CurrentKeyMaterialId").getAsString());

    Answer scheduled =
        call("ScheduleKeyDeletion", "{\"KeyId\":\"" + arn + "\",\"PendingWindowInDays\":7}");
    assertThat(scheduled.body().get("DeletionDate").getAsBigDecimal().longValueExact())
        .isEqualTo(clock.instant().plus(Duration.ofDays(7)).getEpochSecond());
    assertThat(scheduled.body().get("KeyState").getAsString()).isEqualTo("PendingDeletion");
    assertThat(kms.calls("Decrypt", InMemoryKms.OK)).isEqualTo(1);
  }

  @Test
  void rejectsRequestsTheWayKmsDoes() throws Exception {
    String arn = kms.createKey().arn();
    assertError(call("DescribeKey", "{}"), 400, "ValidationException", "keyId");
    assertError(
        call("GenerateDataKey", "{\"KeyId\":\"" + arn + "\"}"),
        400,
        "ValidationException",
        "number of bytes or key spec");
    assertError(
        call("GenerateDataKey", "{\"KeyId\":\"" + arn + "\",\"NumberOfBytes\":2000}"),
        400,
        "ValidationException",
        "less than or equal to 1024");
    assertError(
        call("ScheduleKeyDeletion", "{\"KeyId\":\"" + arn + "\",\"PendingWindowInDays\":3}"),
        400,
        "ValidationException",
        "7..30");
    assertError(call("DescribeKey", "{\"KeyId\":42}"), 400, "SerializationException", "KeyId");
    assertError(call("DescribeKey", "{not json"), 400, "SerializationException", "JSON");
    assertError(
        call("Decrypt", "{\"CiphertextBlob\":\"%%%\"}"), 400, "SerializationException", "base64");
    assertError(call("ListAliases", "{\"Marker\":\"m\"}"), 400, "InvalidMarkerException", "marker");
    assertError(
        call(
            "GenerateDataKey",
            "{\"KeyId\":\"" + arn + "\",\"KeySpec\":\"AES_256\",\"DryRun\":true}"),
        400,
        "UnsupportedOperationException",
        "DryRun");
    assertError(call("Sign", "{}"), 400, "UnknownOperationException", "TrentService.Sign");
    assertError(
        post(server.endpoint(), null, "{}", true),
        400,
        "UnknownOperationException",
        "X-Amz-Target");
    assertError(
        post(server.endpoint(), "TrentService.DescribeKey", "{\"KeyId\":\"" + arn + "\"}", false),
        400,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token");
    assertError(
        call("DescribeKey", "{\"KeyId\":\"alias/none\"}"), 404, "NotFoundException", "alias/none");
    assertThat(kms.calls("DescribeKey")).as("only the last request reached the fake").isEqualTo(1);
  }

  @Test
  void theFakesFaultsGoOverTheWireWithAwsStatuses() throws Exception {
    String arn = kms.createKey().arn();
    for (String code : LocalKmsException.errorCodes()) {
      kms.failNext("DescribeKey", code);
      assertError(
          call("DescribeKey", "{\"KeyId\":\"" + arn + "\"}"),
          LocalKmsException.httpStatus(code),
          code,
          "scripted failure");
    }
    kms.startOutage("KeyUnavailableException");
    assertError(
        call("DescribeKey", "{\"KeyId\":\"" + arn + "\"}"),
        500,
        "KeyUnavailableException",
        "outage");
  }

  @Test
  void wireFaultsApplyBeforeTheFakeAndAreLogged() throws Exception {
    String arn = kms.createKey().arn();
    String describe = "{\"KeyId\":\"" + arn + "\"}";
    server.serviceUnavailable(2);
    assertError(call("DescribeKey", describe), 503, "ServiceUnavailableException", "503");
    assertError(call("DescribeKey", describe), 503, "ServiceUnavailableException", "503");
    assertThat(call("DescribeKey", describe).status()).isEqualTo(200);

    server.failNextRequest(
        "ExpiredTokenException", 400, "The security token included in the request is expired");
    assertError(call("DescribeKey", describe), 400, "ExpiredTokenException", "expired");

    server.dropConnections(1);
    assertThatThrownBy(() -> call("DescribeKey", describe)).isInstanceOf(IOException.class);

    server.rewriteNextResponse("DescribeKey", json -> json.replace("\"Enabled\"", "\"Disabled\""));
    assertThat(
            call("DescribeKey", describe)
                .body()
                .getAsJsonObject("KeyMetadata")
                .get("KeyState")
                .getAsString())
        .isEqualTo("Disabled");

    List<Duration> slept = new ArrayList<>();
    try (LocalKmsServer slow = LocalKmsServer.builder().kms(kms).sleeper(slept::add).start()) {
      slow.slowResponses(Duration.ofSeconds(3));
      assertThat(post(slow.endpoint(), "TrentService.DescribeKey", describe, true).status())
          .isEqualTo(200);
    }
    assertThat(slept).containsExactly(Duration.ofSeconds(3));

    assertThat(server.requests())
        .extracting(LocalKmsServer.WireCall::outcome)
        .containsExactly(
            "ServiceUnavailableException",
            "ServiceUnavailableException",
            InMemoryKms.OK,
            "ExpiredTokenException",
            LocalKmsServer.DROPPED,
            InMemoryKms.OK);
    assertThat(kms.calls("DescribeKey")).as("faulted requests never reached the fake").isEqualTo(3);
  }

  @Test
  void bindsLoopbackOnlyAndRefusesAnyOtherAddress() throws IOException {
    assertThat(InetAddress.getByName(server.endpoint().getHost()).isLoopbackAddress()).isTrue();
    assertThat(server.endpoint().getScheme()).isEqualTo("http");
    for (String address : List.of("0.0.0.0", "::", "192.0.2.10", "10.1.2.3")) {
      InetAddress a = InetAddress.getByName(address);
      assertThatThrownBy(() -> LocalKmsServer.builder().bindAddress(a))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("loopback addresses only")
          .hasMessageContaining(a.getHostAddress());
    }
    assertThatThrownBy(() -> LocalKmsServer.builder().port(65536)).hasMessageContaining("65536");
    assertThatThrownBy(() -> LocalKmsServer.fromArgs(new String[] {"--public"}))
        .hasMessageContaining("--public");
    assertThatThrownBy(() -> LocalKmsServer.fromArgs(new String[] {"eighty"}))
        .hasMessageContaining("eighty");
  }

  @Test
  void theStateFileKeepsKeysAliasesAndMaterialAndIsOwnerOnly(@TempDir Path dir) throws Exception {
    Path state = dir.resolve("kms.json");
    String arn;
    String blob;
    try (LocalKmsServer first = LocalKmsServer.builder().stateFile(state).start()) {
      arn = first.kms().createKey("kept").arn();
      first.kms().createAlias("alias/kept", arn);
      first.kms().rotateKeyOnDemand(arn);
      first.kms().disableKey(arn);
      first.kms().enableKey(arn);
      blob =
          b64(
              first
                  .kms()
                  .encrypt("alias/kept", new byte[] {7}, java.util.Map.of())
                  .ciphertextBlob());
    }
    assertThat(Files.readString(state)).contains("TEST key material in clear").contains(arn);
    if (Files.getFileAttributeView(state, java.nio.file.attribute.PosixFileAttributeView.class)
        != null) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state)))
          .isEqualTo("rw-------");
    }
    try (LocalKmsServer second = LocalKmsServer.builder().stateFile(state).start()) {
      assertThat(second.kms().describeKey("alias/kept").arn()).isEqualTo(arn);
      assertThat(second.kms().listKeyRotations(arn)).hasSize(1);
      Answer dec =
          post(
              second.endpoint(),
              "TrentService.Decrypt",
              "{\"CiphertextBlob\":\"" + blob + "\"}",
              true);
      assertThat(dec.body().get("Plaintext").getAsString()).isEqualTo(b64(new byte[] {7}));
    }
    Files.writeString(state, "{\"version\":99}");
    assertThatThrownBy(() -> LocalKmsServer.builder().stateFile(state).start())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("version");
  }

  @Test
  void runsStandaloneAndKeepsItsStateAcrossRestarts(@TempDir Path dir) throws Exception {
    Path state = dir.resolve("standalone.json");
    String arn;
    Process p = standalone(state);
    try {
      URI endpoint = endpointOf(p);
      Answer created = post(endpoint, "TrentService.CreateKey", "{}", true);
      arn = created.body().getAsJsonObject("KeyMetadata").get("Arn").getAsString();
    } finally {
      stop(p);
    }
    Process again = standalone(state);
    try {
      Answer described =
          post(endpointOf(again), "TrentService.DescribeKey", "{\"KeyId\":\"" + arn + "\"}", true);
      assertThat(described.status()).isEqualTo(200);
      assertThat(described.body().getAsJsonObject("KeyMetadata").get("Arn").getAsString())
          .isEqualTo(arn);
    } finally {
      stop(again);
    }
  }

  private static Process standalone(Path state) throws IOException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    return new ProcessBuilder(
            java.toString(),
            "-cp",
            System.getProperty("java.class.path"),
            LocalKmsServer.class.getName(),
            "0",
            state.toString())
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
  }

  private static URI endpointOf(Process p) throws IOException {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    assertThat(line)
        .startsWith("LocalKmsServer listening on http://127.0.0.1:")
        .contains("not verified");
    return URI.create(line.split(" ")[3]);
  }

  private static void stop(Process p) throws InterruptedException {
    p.destroy(); // SIGTERM: the shutdown hook writes the state file
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
  }

  private static void assertError(Answer a, int status, String code, String messagePart) {
    assertThat(a.status()).as("status of %s", a.body()).isEqualTo(status);
    assertThat(a.errorCode()).isEqualTo(code);
    assertThat(a.body().get("message").getAsString()).contains(messagePart);
  }

  private static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }
}
