package dev.byok.cli;

import com.azure.core.credential.AccessToken;
import com.azure.core.credential.TokenCredential;
import com.azure.core.http.jdk.httpclient.JdkHttpClientBuilder;
import com.azure.core.http.policy.FixedDelayOptions;
import com.azure.core.http.policy.RetryOptions;
import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.grpc.GrpcTransportChannel;
import com.google.api.gax.rpc.FixedTransportChannelProvider;
import com.google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionState;
import com.google.cloud.kms.v1.KeyManagementServiceClient;
import com.google.cloud.kms.v1.KeyManagementServiceSettings;
import dev.byok.kms.aws.AwsKmsProvider;
import dev.byok.kms.azure.AzureKeyVaultProvider;
import dev.byok.kms.gcp.GcpKmsProvider;
import dev.byok.kms.local.LocalKmsServer;
import dev.byok.kms.local.azure.AzureKeyVaultServer;
import dev.byok.kms.local.gcp.GcpKms;
import dev.byok.kms.local.gcp.GcpTestServer;
import dev.byok.spi.KeyProvider;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.KeyMetadata;
import software.amazon.awssdk.services.kms.model.KeyState;
import software.amazon.awssdk.services.kms.model.ScheduleKeyDeletionResponse;

/**
 * What {@link DemoStory} needs from one provider's in-process test KMS: the provider the host uses
 * (through the vendor's real client), the customer's admin actions, the wording where the
 * provider's semantics differ, and the request counts. One implementation per provider; each starts
 * its server in {@link #start} and stops everything it started in {@link #close}.
 *
 * <p>One run; not thread-safe.
 */
@NullMarked
interface DemoKms extends AutoCloseable {
  /** The {@code --kms} values, in the order the help lists them. */
  List<String> NAMES = List.of("aws", "gcp", "azure");

  /** A created key: the resolved key id a blob's slot records, and what step 1 prints. */
  record Created(String key, List<String> lines, @Nullable String problem) {}

  /** A rotation: the new resolved key id and the line naming the admin action. */
  record Rotated(String newKey, String line) {}

  /**
   * A scheduled deletion of the old key ({@code date} null when the provider cannot delete it
   * alone; {@code lines} then say why).
   */
  record Deletion(
      @Nullable Instant date, String action, String what, String verb, List<String> lines) {}

  /**
   * Starts the test KMS of {@code name} ({@code aws}, {@code gcp} or {@code azure}).
   *
   * @param onAwsStart sees the AWS local KMS before the story starts (tests script faults there)
   */
  static DemoKms start(String name, CliIo io, Consumer<LocalKmsServer> onAwsStart) {
    return switch (name) {
      case "aws" -> Aws.start(io, onAwsStart);
      case "gcp" -> Gcp.start();
      case "azure" -> Azure.start();
      default ->
          throw new CliException(
              ExitCodes.USAGE,
              "--kms " + name + " is not one of " + String.join(", ", NAMES) + " (default aws)");
    };
  }

  /** {@return the provider the host's Byok instance and monitor use} */
  KeyProvider provider();

  /** {@return e.g. "AWS account", for "no AWS account"} */
  String account();

  /** {@return the "local KMS" line's text after the label} */
  String serverLine();

  /** {@return what the application encrypts under: an alias, a CryptoKey, a versionless key} */
  String keyId();

  /** {@return how the steps name {@link #keyId()}} */
  String keyLabel();

  /** {@return the allow-list entries for the key's older versions (pinned to this one key)} */
  List<String> allowOldVersions();

  /** {@return step {@code n}'s title where it names the provider, else {@code fallback}} */
  String title(int n, String fallback);

  /** Creates the customer's key (and, on AWS, the alias). */
  Created createKey();

  /** Disables the key; {@return the admin action's name} */
  String disable(String key);

  /** Enables the key again; {@return the admin action's name} */
  String enable(String key);

  /** What comes before the switch on rotation (AWS: the new key), before the monitor watches. */
  void prepareRotation();

  /** Rotates: {@link #keyId()} now resolves to a new key. */
  Rotated rotate(String oldKey);

  /** Schedules deletion of the old key, as far as the provider allows. */
  Deletion scheduleDeletion(String oldKey);

  /** {@return a supplier of the requests that reached the KMS after this call, by operation} */
  Supplier<Map<String, Long>> callsFromNow();

  @Override
  void close();

  // ------------------------------------------------------------------ AWS

  /** {@link LocalKmsServer} over the AWS SDK; the customer's admin through a plain KmsClient. */
  final class Aws implements DemoKms {
    static final String ALIAS = "alias/byok-demo";
    private final LocalKmsServer server;
    private final AwsKmsProvider provider;
    private final KmsClient admin;
    private String newKey = "";

    private Aws(LocalKmsServer server, AwsKmsProvider provider, KmsClient admin) {
      this.server = server;
      this.provider = provider;
      this.admin = admin;
    }

    static Aws start(CliIo io, Consumer<LocalKmsServer> onStart) {
      LocalKmsServer server = LocalKmsServer.builder().start();
      try {
        onStart.accept(server);
        KmsOptions kms = new KmsOptions();
        kms.endpoint = server.endpoint();
        kms.region = server.kms().region();
        AwsKmsProvider provider = kms.provider(io);
        try {
          return new Aws(server, provider, kms.client(io, Region.of(kms.region)));
        } catch (RuntimeException e) {
          provider.close();
          throw e;
        }
      } catch (RuntimeException e) {
        server.close();
        throw e;
      }
    }

    @Override
    public KeyProvider provider() {
      return provider;
    }

    @Override
    public String account() {
      return "AWS account";
    }

    @Override
    public String serverLine() {
      return server.endpoint()
          + " (AWS KMS protocol, reached through the real AWS SDK; it stops when the demo ends)";
    }

    @Override
    public String keyId() {
      return ALIAS;
    }

    @Override
    public String keyLabel() {
      return ALIAS;
    }

    @Override
    public List<String> allowOldVersions() {
      return List.of();
    }

    @Override
    public String title(int n, String fallback) {
      return fallback;
    }

    @Override
    public Created createKey() {
      KeyMetadata k =
          admin.createKey(b -> b.description("byok demo: the customer's key")).keyMetadata();
      String key = k.arn();
      admin.createAlias(b -> b.aliasName(ALIAS).targetKeyId(key));
      return new Created(
          key,
          List.of(
              "key " + key + " (" + k.keyStateAsString() + ")",
              ALIAS + " points at it; the application names only the alias"),
          k.keyState() == KeyState.ENABLED
              ? null
              : "the new key is " + k.keyStateAsString() + ", not Enabled");
    }

    @Override
    public String disable(String key) {
      admin.disableKey(b -> b.keyId(key));
      return "DisableKey";
    }

    @Override
    public String enable(String key) {
      admin.enableKey(b -> b.keyId(key));
      return "EnableKey";
    }

    @Override
    public void prepareRotation() {
      newKey =
          admin
              .createKey(b -> b.description("byok demo: the customer's new key"))
              .keyMetadata()
              .arn();
    }

    @Override
    public Rotated rotate(String oldKey) {
      admin.updateAlias(b -> b.aliasName(ALIAS).targetKeyId(newKey));
      return new Rotated(newKey, "new key " + newKey + "; UpdateAlias " + ALIAS);
    }

    @Override
    public Deletion scheduleDeletion(String oldKey) {
      ScheduleKeyDeletionResponse r =
          admin.scheduleKeyDeletion(
              b -> b.keyId(oldKey).pendingWindowInDays(DemoStory.DELETION_WINDOW_DAYS));
      return new Deletion(r.deletionDate(), "ScheduleKeyDeletion", "key", "deleted", List.of());
    }

    @Override
    public Supplier<Map<String, Long>> callsFromNow() {
      int from = server.requests().size();
      return () -> {
        List<LocalKmsServer.WireCall> all = server.requests();
        return all.subList(from, all.size()).stream()
            .collect(
                Collectors.groupingBy(
                    LocalKmsServer.WireCall::operation, LinkedHashMap::new, Collectors.counting()));
      };
    }

    @Override
    public void close() {
      try (server;
          provider;
          admin) {
        // closes the admin client, the provider, then the server
      }
    }
  }

  // ------------------------------------------------------------------ Google Cloud KMS

  /**
   * {@link GcpTestServer} on grpc-inprocess (no socket) through the official {@link
   * KeyManagementServiceClient}; the customer's admin actions on the test server's own controls
   * (its gRPC service serves the data path only).
   */
  final class Gcp implements DemoKms {
    static final String KEY = "byok-demo";
    private static final List<String> METHODS =
        List.of("Encrypt", "Decrypt", "GetCryptoKey", "GetCryptoKeyVersion");
    private final GcpKms kms;
    private final GcpTestServer server;
    private final ManagedChannel channel;
    private final KeyManagementServiceClient client;
    private final GcpKmsProvider provider;
    private final String ring;
    private String key = "";

    private Gcp(
        GcpKms kms,
        GcpTestServer server,
        ManagedChannel channel,
        KeyManagementServiceClient client,
        String ring) {
      this.kms = kms;
      this.server = server;
      this.channel = channel;
      this.client = client;
      this.provider = GcpKmsProvider.builder().client(client).build();
      this.ring = ring;
    }

    static Gcp start() {
      GcpKms kms = new GcpKms(Clock.systemUTC(), Duration.ofDays(DemoStory.DELETION_WINDOW_DAYS));
      String ring =
          kms.createKeyRing(
              ForeignKmsServe.GCP_PROJECT,
              ForeignKmsServe.GCP_LOCATION,
              ForeignKmsServe.GCP_KEY_RING);
      GcpTestServer server = GcpTestServer.start(kms);
      ManagedChannel channel = server.newChannel();
      try {
        KeyManagementServiceClient client =
            KeyManagementServiceClient.create(
                KeyManagementServiceSettings.newBuilder()
                    .setTransportChannelProvider(
                        FixedTransportChannelProvider.create(GrpcTransportChannel.create(channel)))
                    .setCredentialsProvider(NoCredentialsProvider.create())
                    .build());
        return new Gcp(kms, server, channel, client, ring);
      } catch (IOException | RuntimeException e) {
        channel.shutdownNow();
        server.close();
        throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
      }
    }

    @Override
    public KeyProvider provider() {
      return provider;
    }

    @Override
    public String account() {
      return "Google Cloud account";
    }

    @Override
    public String serverLine() {
      return "in-process (Cloud KMS gRPC API, reached through the official Java client over "
          + "grpc-inprocess, no socket; it stops when the demo ends)";
    }

    @Override
    public String keyId() {
      return ring + "/cryptoKeys/" + KEY;
    }

    @Override
    public String keyLabel() {
      return "the CryptoKey " + KEY;
    }

    @Override
    public List<String> allowOldVersions() {
      return List.of(keyId() + "/cryptoKeyVersions/*");
    }

    @Override
    public String title(int n, String fallback) {
      return switch (n) {
        case 1 -> "Create the customer's CryptoKey " + KEY + " (its primary version wraps)";
        case 4 -> "The customer disables the key's primary version";
        case 5 -> "The customer enables it again";
        case 6 ->
            "The customer rotates by hand: a new primary version of "
                + KEY
                + " (Cloud KMS has no aliases; the CryptoKey resolves to its primary)";
        case 7 -> "Rewrap the old blobs under the new version";
        case 8 ->
            "The customer schedules destruction of the old version ("
                + DemoStory.DELETION_WINDOW_DAYS
                + "-day window; Cloud KMS destroys versions, not keys)";
        default -> fallback;
      };
    }

    @Override
    public Created createKey() {
      key = kms.createCryptoKey(ring, KEY);
      String version = kms.versions(key).get(0);
      CryptoKeyVersionState state = kms.state(version);
      return new Created(
          version,
          List.of(
              "key " + key,
              "primary version " + version + " (" + state + ")",
              "the application names the CryptoKey; each blob's slot records the version that "
                  + "wrapped"),
          state == CryptoKeyVersionState.ENABLED ? null : "the new version is " + state);
    }

    @Override
    public String disable(String version) {
      kms.setEnabled(version, false);
      return "UpdateCryptoKeyVersion state=DISABLED";
    }

    @Override
    public String enable(String version) {
      kms.setEnabled(version, true);
      return "UpdateCryptoKeyVersion state=ENABLED";
    }

    @Override
    public void prepareRotation() {}

    @Override
    public Rotated rotate(String oldKey) {
      String v = kms.rotate(key);
      return new Rotated(
          v,
          "new primary version "
              + v
              + " (CreateCryptoKeyVersion + UpdateCryptoKeyPrimaryVersion); allow-list "
              + allowOldVersions().get(0)
              + " keeps the older versions readable");
    }

    @Override
    public Deletion scheduleDeletion(String oldKey) {
      kms.scheduleDestroy(oldKey);
      com.google.protobuf.Timestamp t = client.getCryptoKeyVersion(oldKey).getDestroyTime();
      Instant date =
          t.getSeconds() == 0 ? null : Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
      return new Deletion(date, "DestroyCryptoKeyVersion", "key version", "destroyed", List.of());
    }

    @Override
    public Supplier<Map<String, Long>> callsFromNow() {
      Map<String, Long> from = counts();
      return () -> {
        Map<String, Long> now = counts();
        Map<String, Long> d = new LinkedHashMap<>();
        now.forEach(
            (m, n) -> {
              long c = n - from.getOrDefault(m, 0L);
              if (c > 0) {
                d.put(m, c);
              }
            });
        return d;
      };
    }

    private Map<String, Long> counts() {
      Map<String, Long> m = new LinkedHashMap<>();
      for (String method : METHODS) {
        m.put(method, (long) kms.calls(method));
      }
      return m;
    }

    @Override
    public void close() {
      try {
        provider.close();
        client.close();
        client.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        channel.shutdownNow();
        server.close();
      }
    }
  }

  // ------------------------------------------------------------------ Azure Key Vault

  /**
   * {@link AzureKeyVaultServer} on loopback HTTPS through the official Azure SDK (JDK HttpClient
   * trusting the server's throw-away certificate, the server's static bearer token); the customer's
   * admin actions on the test vault's own controls.
   */
  final class Azure implements DemoKms {
    static final String KEY = "byok-demo";
    private static final List<String> OPERATIONS =
        List.of("wrapKey", "unwrapKey", "getKey", "getDeletedKey", "getRotationPolicy");
    private final AzureKeyVaultServer server;
    private final AzureKeyVaultProvider provider;
    private String key = "";

    private Azure(AzureKeyVaultServer server, AzureKeyVaultProvider provider) {
      this.server = server;
      this.provider = provider;
    }

    static Azure start() {
      AzureKeyVaultServer server = AzureKeyVaultServer.builder().start();
      try {
        String token = server.accessToken();
        TokenCredential credential =
            request ->
                Mono.just(new AccessToken(token, OffsetDateTime.now(ZoneOffset.UTC).plusHours(1)));
        AzureKeyVaultProvider provider =
            AzureKeyVaultProvider.builder()
                .vaultUrl(server.vaultUrl().toString())
                .credential(credential)
                .httpClient(
                    new JdkHttpClientBuilder(
                            java.net.http.HttpClient.newBuilder()
                                .sslContext(server.clientSslContext()))
                        .build())
                // a loopback server needs no back-off: the SDK's default (exponential from
                // 0.8 s) would keep the monitor's thread retrying seconds after the demo ends
                .retryOptions(new RetryOptions(new FixedDelayOptions(2, Duration.ofMillis(10))))
                .disableChallengeResourceVerification()
                .build();
        return new Azure(server, provider);
      } catch (RuntimeException e) {
        server.close();
        throw e;
      }
    }

    @Override
    public KeyProvider provider() {
      return provider;
    }

    @Override
    public String account() {
      return "Azure subscription";
    }

    @Override
    public String serverLine() {
      return server.vaultUrl()
          + " (Key Vault REST API over HTTPS with a throw-away certificate, reached through the "
          + "official Azure SDK; it stops when the demo ends)";
    }

    @Override
    public String keyId() {
      return server.vaultUrl().toString().replaceAll("/+$", "") + "/keys/" + KEY;
    }

    @Override
    public String keyLabel() {
      return "the key " + KEY;
    }

    @Override
    public List<String> allowOldVersions() {
      return List.of(keyId() + "/*");
    }

    @Override
    public String title(int n, String fallback) {
      return switch (n) {
        case 1 -> "Create the customer's key " + KEY + " in the vault (its current version wraps)";
        case 6 -> "The customer rotates by hand: a new version of " + KEY;
        case 7 -> "Rewrap the old blobs under the new version";
        case 8 -> "The customer retires the old version (Key Vault deletes whole keys only)";
        default -> fallback;
      };
    }

    @Override
    public Created createKey() {
      key = server.createRsaKey(KEY);
      dev.byok.spi.KeyDescription d = provider.describeKey(key);
      String version = d.keyArn();
      return new Created(
          version,
          List.of(
              "key " + key + " (RSA 2048, wraps with RSA-OAEP-256)",
              "current version " + version + " (" + d.state() + ")",
              "the application names the versionless key; each blob's slot records the version "
                  + "that wrapped"),
          d.state() == dev.byok.spi.KeyState.ENABLED ? null : "the new key is " + d.state());
    }

    @Override
    public String disable(String version) {
      server.setEnabled(KEY, false);
      return "UpdateKey enabled=false";
    }

    @Override
    public String enable(String version) {
      server.setEnabled(KEY, true);
      return "UpdateKey enabled=true";
    }

    @Override
    public void prepareRotation() {}

    @Override
    public Rotated rotate(String oldKey) {
      String v = server.rotate(KEY);
      return new Rotated(
          v,
          "new version "
              + v
              + " (RotateKey); allow-list "
              + allowOldVersions().get(0)
              + " keeps the older versions readable");
    }

    @Override
    public Deletion scheduleDeletion(String oldKey) {
      return new Deletion(
          null,
          "",
          "key version",
          "deleted",
          List.of(
              "Key Vault cannot delete one version: DeleteKey would soft-delete "
                  + KEY
                  + " with every version, the new one included",
              "so the old version stays in the vault (the customer may disable it in the portal); "
                  + "nothing needs it any more"));
    }

    @Override
    public Supplier<Map<String, Long>> callsFromNow() {
      Map<String, Long> from = counts();
      return () -> {
        Map<String, Long> now = counts();
        Map<String, Long> d = new LinkedHashMap<>();
        now.forEach(
            (m, n) -> {
              long c = n - from.getOrDefault(m, 0L);
              if (c > 0) {
                d.put(m, c);
              }
            });
        return d;
      };
    }

    private Map<String, Long> counts() {
      Map<String, Long> m = new LinkedHashMap<>();
      for (String op : OPERATIONS) {
        m.put(op, (long) server.calls(op));
      }
      return m;
    }

    @Override
    public void close() {
      server.close(); // the provider holds no resources of its own
    }
  }
}
