package dev.byok.kms.gcp;

import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.grpc.GrpcTransportChannel;
import com.google.api.gax.retrying.RetrySettings;
import com.google.api.gax.rpc.FixedTransportChannelProvider;
import com.google.api.gax.rpc.UnaryCallSettings;
import com.google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionState;
import com.google.cloud.kms.v1.KeyManagementServiceClient;
import com.google.cloud.kms.v1.KeyManagementServiceSettings;
import dev.byok.kms.local.gcp.GcpKms;
import dev.byok.kms.local.gcp.GcpTestServer;
import dev.byok.spi.KeyProvider;
import dev.byok.testkit.ManualClock;
import dev.byok.testkit.conformance.Fault;
import dev.byok.testkit.conformance.KmsFixture;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The conformance fixture for {@link GcpKmsProvider} (issue 14's {@code KmsFixture} contract): the
 * official {@link KeyManagementServiceClient} over grpc-inprocess to {@link GcpTestServer}. {@link
 * Fault#UNAVAILABLE} is gRPC {@code UNAVAILABLE} (retried by the client), {@link Fault#THROTTLED}
 * is {@code RESOURCE_EXHAUSTED} (quota, not retried).
 *
 * <p>Cloud KMS has no key-level enable switch: {@link #disable} disables every enabled version of
 * the CryptoKey (what a key owner does to revoke it), {@link #enable} enables every disabled one,
 * {@link #destroy} schedules every version for destruction.
 *
 * <p>The client retries {@code UNAVAILABLE} and {@code DEADLINE_EXCEEDED} (its default retryable
 * codes) {@value #ATTEMPTS} attempts in all, 1 ms apart; {@code RESOURCE_EXHAUSTED} is not retried.
 */
public final class GcpKmsFixture implements KmsFixture {
  /** Attempts per call the client makes for a retryable status. */
  public static final int ATTEMPTS = 3;

  private static final AtomicInteger RINGS = new AtomicInteger();

  private final ManualClock clock = new ManualClock();
  private final GcpKms kms = new GcpKms(clock, Duration.ofDays(30));
  private final GcpTestServer server = GcpTestServer.start(kms);
  private final ManagedChannel channel = server.newChannel();
  private final KeyManagementServiceClient client;
  private final GcpKmsProvider provider;
  private final String keyRing;
  private final AtomicInteger keys = new AtomicInteger();

  /** Starts the server and a client over it. */
  public GcpKmsFixture() {
    keyRing = kms.createKeyRing("byok-test", "global", "ring-" + RINGS.incrementAndGet());
    try {
      client = KeyManagementServiceClient.create(settings());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    provider = GcpKmsProvider.builder().client(client).build();
  }

  private KeyManagementServiceSettings settings() throws IOException {
    KeyManagementServiceSettings.Builder b =
        KeyManagementServiceSettings.newBuilder()
            .setTransportChannelProvider(
                FixedTransportChannelProvider.create(GrpcTransportChannel.create(channel)))
            .setCredentialsProvider(NoCredentialsProvider.create());
    RetrySettings retry =
        RetrySettings.newBuilder()
            .setMaxAttempts(ATTEMPTS)
            .setInitialRetryDelayDuration(Duration.ofMillis(1))
            .setMaxRetryDelayDuration(Duration.ofMillis(1))
            .setRetryDelayMultiplier(1.0)
            .setInitialRpcTimeoutDuration(Duration.ofSeconds(20))
            .setMaxRpcTimeoutDuration(Duration.ofSeconds(20))
            .setRpcTimeoutMultiplier(1.0)
            .setTotalTimeoutDuration(Duration.ofSeconds(60))
            .build();
    for (UnaryCallSettings.Builder<?, ?> s :
        java.util.List.<UnaryCallSettings.Builder<?, ?>>of(
            b.encryptSettings(),
            b.decryptSettings(),
            b.getCryptoKeySettings(),
            b.getCryptoKeyVersionSettings())) {
      s.setRetrySettings(retry);
    }
    return b.build();
  }

  /** {@return the provider under test} */
  @Override
  public KeyProvider provider() {
    return provider;
  }

  /** {@return a new enabled CryptoKey (one primary version); its name is the key id} */
  @Override
  public String newKey() {
    return kms.createCryptoKey(keyRing, "key-" + keys.incrementAndGet());
  }

  /**
   * Disables every enabled version of the key.
   *
   * @param key the CryptoKey name
   */
  @Override
  public void disable(String key) {
    for (String v : kms.versions(key)) {
      if (kms.state(v) == CryptoKeyVersionState.ENABLED) {
        kms.setEnabled(v, false);
      }
    }
  }

  /**
   * Enables every disabled version of the key.
   *
   * @param key the CryptoKey name
   */
  @Override
  public void enable(String key) {
    for (String v : kms.versions(key)) {
      if (kms.state(v) == CryptoKeyVersionState.DISABLED) {
        kms.setEnabled(v, true);
      }
    }
  }

  /**
   * Schedules every version of the key for destruction ({@code DESTROY_SCHEDULED}).
   *
   * @param key the CryptoKey name
   */
  @Override
  public void destroy(String key) {
    for (String v : kms.versions(key)) {
      CryptoKeyVersionState s = kms.state(v);
      if (s == CryptoKeyVersionState.ENABLED || s == CryptoKeyVersionState.DISABLED) {
        kms.scheduleDestroy(v);
      }
    }
  }

  /**
   * Removes the host's IAM permissions on the key.
   *
   * @param key the CryptoKey name
   */
  @Override
  public void revokeAccess(String key) {
    kms.setAccessDenied(key, true);
  }

  /**
   * Gives the host's IAM permissions on the key back.
   *
   * @param key the CryptoKey name
   */
  @Override
  public void restoreAccess(String key) {
    kms.setAccessDenied(key, false);
  }

  /**
   * Rotates the key: a new primary version.
   *
   * @param key the CryptoKey name
   */
  @Override
  public void rotate(String key) {
    kms.rotate(key);
  }

  /**
   * Makes the next {@code calls} RPCs fail transiently.
   *
   * @param calls how many RPCs fail (client retries count as RPCs)
   * @param fault which fault
   */
  @Override
  public void failNext(int calls, Fault fault) {
    kms.failNext(
        calls, fault == Fault.THROTTLED ? Status.Code.RESOURCE_EXHAUSTED : Status.Code.UNAVAILABLE);
  }

  @Override
  public int attemptsPerCall() {
    return ATTEMPTS;
  }

  /**
   * The client's default retry codes are UNAVAILABLE and DEADLINE_EXCEEDED: throttling is one try.
   */
  @Override
  public int attemptsPerCall(Fault fault) {
    return fault == Fault.THROTTLED ? 1 : ATTEMPTS;
  }

  @Override
  public String unknownKey() {
    return keyRing + "/cryptoKeys/no-such-key";
  }

  /** {@return the server's state, for the GCP-specific tests} */
  public GcpKms kms() {
    return kms;
  }

  /** {@return the raw client, for the server's own tests} */
  public KeyManagementServiceClient client() {
    return client;
  }

  /** {@return the clock of the server's create and destroy times} */
  public ManualClock clock() {
    return clock;
  }

  @Override
  public void close() {
    client.close();
    try {
      client.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    channel.shutdownNow();
    server.close();
  }
}
