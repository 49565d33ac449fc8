package dev.byok.kms.azure;

import com.azure.core.credential.AccessToken;
import com.azure.core.credential.TokenCredential;
import com.azure.core.http.HttpClient;
import com.azure.core.http.jdk.httpclient.JdkHttpClientBuilder;
import com.azure.core.http.policy.FixedDelayOptions;
import com.azure.core.http.policy.RetryOptions;
import dev.byok.kms.local.azure.AzureKeyVaultServer;
import dev.byok.testkit.ManualClock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;

/**
 * One test world: an {@link AzureKeyVaultServer} on a manual clock and an {@link
 * AzureKeyVaultProvider} talking to it through the official client over loopback HTTPS (JDK
 * HttpClient trusting the server's throw-away certificate, a static bearer token, two retries
 * without delay so no test waits).
 */
final class AzureTestVault implements AutoCloseable {
  final ManualClock clock = new ManualClock();
  final AzureKeyVaultServer server = AzureKeyVaultServer.builder().clock(clock).start();
  final AtomicInteger tokensIssued = new AtomicInteger();
  final AzureKeyVaultProvider provider;

  AzureTestVault() {
    this(2);
  }

  AzureTestVault(int retries) {
    this.provider = provider(server.accessToken(), retries);
  }

  AzureKeyVaultProvider provider(String token, int retries) {
    return AzureKeyVaultProvider.builder()
        .vaultUrl(server.vaultUrl().toString())
        .credential(credential(token))
        .httpClient(httpClient())
        .retryOptions(new RetryOptions(new FixedDelayOptions(retries, Duration.ZERO)))
        .disableChallengeResourceVerification()
        .clock(clock)
        .build();
  }

  TokenCredential credential(String token) {
    return request -> {
      tokensIssued.incrementAndGet();
      return Mono.just(
          new AccessToken(token, OffsetDateTime.now(java.time.ZoneOffset.UTC).plusHours(1)));
    };
  }

  HttpClient httpClient() {
    return new JdkHttpClientBuilder(
            java.net.http.HttpClient.newBuilder().sslContext(server.clientSslContext()))
        .build();
  }

  @Override
  public void close() {
    server.close();
  }
}
