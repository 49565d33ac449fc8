package dev.byok.cli;

import dev.byok.kms.local.InMemoryKms;
import dev.byok.kms.local.LocalKmsServer;
import java.net.URI;
import java.util.Objects;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A LocalKmsServer for one test class ({@code @RegisterExtension static}): started before the first
 * test, closed after the last. The CLI reaches it through the real AWS SDK.
 */
final class LocalKmsExtension implements BeforeAllCallback, AfterAllCallback {
  private LocalKmsServer server;

  @Override
  public void beforeAll(ExtensionContext context) {
    server = LocalKmsServer.builder().start();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    server.close();
  }

  LocalKmsServer server() {
    return Objects.requireNonNull(server, "register the extension on a static field");
  }

  InMemoryKms api() {
    return server().kms();
  }

  URI endpoint() {
    return server().endpoint();
  }

  /**
   * @return the ARN of a new key
   */
  String createKey(String description) {
    return api().createKey(description).arn();
  }
}
