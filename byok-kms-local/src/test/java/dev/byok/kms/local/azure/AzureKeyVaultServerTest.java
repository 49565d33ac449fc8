package dev.byok.kms.local.azure;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLSocketFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The Key Vault test server on the wire, with a plain JDK HttpClient (the provider module tests it
 * through the official Azure client): TLS with its own certificate, the bearer challenge, and the
 * strict validation a sloppy client would trip over.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AzureKeyVaultServerTest {
  private AzureKeyVaultServer server;
  private SSLSocketFactory tls;

  /** A response: status, body, headers. */
  record Response(int statusCode, String body, Map<String, java.util.List<String>> headers) {
    java.util.Optional<String> header(String name) {
      for (Map.Entry<String, java.util.List<String>> e : headers.entrySet()) {
        if (e.getKey() != null && e.getKey().equalsIgnoreCase(name)) {
          return java.util.Optional.of(e.getValue().get(0));
        }
      }
      return java.util.Optional.empty();
    }
  }

  private String kid;

  @BeforeAll
  void start() {
    server = AzureKeyVaultServer.start();
    tls = server.clientSslContext().getSocketFactory();
    server.createOctHsmKey("k");
    kid =
        json(send("GET", "/keys/k?api-version=7.6", null, true))
            .getAsJsonObject("key")
            .get("kid")
            .getAsString();
  }

  @AfterAll
  void stop() {
    server.close();
  }

  private Response send(String method, String pathAndQuery, String body, boolean auth) {
    return send(method, pathAndQuery, body, auth ? "Bearer " + server.accessToken() : null);
  }

  private Response send(String method, String pathAndQuery, String body, String authorization) {
    try {
      HttpsURLConnection c =
          (HttpsURLConnection)
              URI.create(server.vaultUrl() + pathAndQuery).toURL().openConnection();
      c.setSSLSocketFactory(tls);
      c.setRequestMethod(method);
      if (authorization != null) {
        c.setRequestProperty("Authorization", authorization);
      }
      if (body != null) {
        c.setDoOutput(true);
        c.setRequestProperty("Content-Type", "application/json");
        try (OutputStream out = c.getOutputStream()) {
          out.write(body.getBytes(StandardCharsets.UTF_8));
        }
      }
      int status = c.getResponseCode();
      InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream();
      String text = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return new Response(status, text, c.getHeaderFields());
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static JsonObject json(Response r) {
    return JsonParser.parseString(r.body()).getAsJsonObject();
  }

  private static String code(Response r) {
    return json(r).getAsJsonObject("error").get("code").getAsString();
  }

  @Test
  void theCertificateIsSelfSignedForTheLoopbackAddressAndShortLived() throws Exception {
    java.security.cert.X509Certificate cert = server.certificate();
    cert.checkValidity();
    cert.verify(cert.getPublicKey());
    assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=127.0.0.1");
    assertThat(cert.getSubjectAlternativeNames())
        .extracting(l -> (Object) l.get(1))
        .containsExactlyInAnyOrder((Object) "127.0.0.1", "localhost");
    assertThat(cert.getNotAfter().getTime() - cert.getNotBefore().getTime())
        .isLessThanOrEqualTo(java.time.Duration.ofDays(3).toMillis());
    assertThat(server.certificatePem()).startsWith("-----BEGIN CERTIFICATE-----\n");
  }

  @Test
  void anUnauthenticatedRequestGetsTheBearerChallenge() {
    Response r = send("GET", "/keys/k?api-version=7.6", null, false);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.header("WWW-Authenticate").orElseThrow())
        .startsWith("Bearer authorization=\"https://login.microsoftonline.com/")
        .contains("resource=\"https://vault.azure.net\"");
    assertThat(send("GET", "/keys/k?api-version=7.6", null, "Bearer nope").statusCode())
        .isEqualTo(401);
  }

  @Test
  void theKeyBundleCarriesKidTypeAndAttributesButNoSecretMaterial() {
    JsonObject o = json(send("GET", "/keys/k/?api-version=7.6", null, true));
    assertThat(o.getAsJsonObject("key").get("kty").getAsString()).isEqualTo("oct-HSM");
    assertThat(o.getAsJsonObject("key").has("k")).isFalse();
    assertThat(o.getAsJsonObject("attributes").get("enabled").getAsBoolean()).isTrue();
    assertThat(o.getAsJsonObject("attributes").get("recoveryLevel").getAsString())
        .isEqualTo("Recoverable+Purgeable");
    assertThat(kid).matches("https://127\\.0\\.0\\.1:\\d+/keys/k/[0-9a-f]{32}");
  }

  @Test
  void strictValidation() {
    String path = URI.create(kid).getPath();
    String value = Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[32]);
    assertThat(
            send(
                    "POST",
                    path + "/wrapkey",
                    "{\"alg\":\"A256KW\",\"value\":\"" + value + "\"}",
                    true)
                .statusCode())
        .as("no api-version")
        .isEqualTo(400);
    String q = path + "/wrapkey?api-version=7.6";
    assertThat(
            code(send("POST", q, "{\"alg\":\"RSA-OAEP-256\",\"value\":\"" + value + "\"}", true)))
        .as("algorithm of another key type")
        .isEqualTo("BadParameter");
    assertThat(send("POST", q, "{\"alg\":\"A256KW\",\"value\":\"***\"}", true).statusCode())
        .isEqualTo(400);
    assertThat(
            send("POST", q, "{\"alg\":\"A256KW\",\"value\":\"" + value + "\",\"x\":1}", true)
                .statusCode())
        .as("unknown field")
        .isEqualTo(400);
    assertThat(send("POST", q, "{\"alg\":\"A256KW\",\"value\":\"AAAA\"}", true).statusCode())
        .as("too short to wrap")
        .isEqualTo(400);
    assertThat(send("POST", q, "not json", true).statusCode()).isEqualTo(400);
    Response ok = send("POST", q, "{\"alg\":\"A256KW\",\"value\":\"" + value + "\"}", true);
    assertThat(ok.statusCode()).isEqualTo(200);
    byte[] wrapped = Base64.getUrlDecoder().decode(json(ok).get("value").getAsString());
    wrapped[3] ^= 1;
    String tampered = Base64.getUrlEncoder().withoutPadding().encodeToString(wrapped);
    assertThat(
            code(
                send(
                    "POST",
                    path + "/unwrapkey?api-version=7.6",
                    "{\"alg\":\"A256KW\",\"value\":\"" + tampered + "\"}",
                    true)))
        .isEqualTo("BadParameter");
    assertThat(code(send("GET", "/keys/nope?api-version=7.6", null, true)))
        .isEqualTo("KeyNotFound");
  }

  @Test
  void injectedFaultsComeBeforeTheOperation() {
    server.failNext(1, AzureKeyVaultServer.Fault.THROTTLED);
    server.failNext(1, AzureKeyVaultServer.Fault.UNAVAILABLE);
    Response first = send("GET", "/keys/k?api-version=7.6", null, true);
    assertThat(first.statusCode()).isEqualTo(429);
    assertThat(first.header("Retry-After")).hasValue("0");
    assertThat(send("GET", "/keys/k?api-version=7.6", null, true).statusCode()).isEqualTo(503);
    assertThat(send("GET", "/keys/k?api-version=7.6", null, true).statusCode()).isEqualTo(200);
  }
}
