package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A KMS that answers with an error code and no message (AWS may omit it): the CLI, through the real
 * AWS SDK, prints the error code and HTTP status, never "...: null".
 */
class KmsErrorMessageTest {
  private static final String KEY = "arn:aws:kms:us-east-1:111122223333:key/silent";

  @TempDir Path dir;
  private HttpServer server;
  private volatile int status;
  private volatile String type = "";

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        exchange -> {
          exchange.getRequestBody().readAllBytes();
          byte[] body = ("{\"__type\":\"" + type + "\"}").getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/x-amz-json-1.1");
          exchange.sendResponseHeaders(status, body.length);
          try (OutputStream o = exchange.getResponseBody()) {
            o.write(body);
          }
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private Cli cli() {
    URI endpoint = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    return Cli.withEndpoint(endpoint).env("AWS_REGION", "us-east-1");
  }

  @Test
  void aServerErrorWithoutMessageShowsItsCode() throws IOException {
    status = 500;
    type = "KMSInternalException";
    Path plain = Files.writeString(dir.resolve("p.txt"), "hello");
    Cli.Result r = cli().run("encrypt", "--key", KEY, plain.toString());
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.KMS_UNAVAILABLE);
    assertThat(r.stderr())
        .startsWith("byok: ")
        .contains("KMSInternalException (HTTP 500)")
        .doesNotContain("null");
  }

  @Test
  void anAdminErrorWithoutMessageShowsItsCode() {
    status = 400;
    type = "CustomKeyStoreInvalidStateException";
    Cli.Result r = cli().run("kms", "describe", KEY);
    assertThat(r.exitCode()).as(r.toString()).isNotZero();
    assertThat(r.stderr())
        .startsWith("byok: ")
        .contains("CustomKeyStoreInvalidStateException")
        .doesNotContain("null");
  }
}
