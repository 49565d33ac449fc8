package dev.byok.kms.aws;

import dev.byok.ByokConfigurationException;
import dev.byok.EncryptionContext;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.KeyState;
import dev.byok.spi.RotationStatus;
import dev.byok.spi.WrappedKey;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.KmsClientBuilder;
import software.amazon.awssdk.services.kms.model.DataKeySpec;
import software.amazon.awssdk.services.kms.model.DecryptResponse;
import software.amazon.awssdk.services.kms.model.EncryptResponse;
import software.amazon.awssdk.services.kms.model.GenerateDataKeyResponse;
import software.amazon.awssdk.services.kms.model.GetKeyRotationStatusResponse;
import software.amazon.awssdk.services.kms.model.KeyMetadata;
import software.amazon.awssdk.services.kms.model.ReEncryptResponse;

/**
 * A {@link KeyProvider} for AWS KMS (provider id {@code aws-kms}).
 *
 * <ul>
 *   <li>{@code GenerateDataKey} ({@code AES_256}) and {@code Encrypt} record the key ARN KMS
 *       answers with — never the alias the host configured — and the key material id.
 *   <li>{@code Decrypt} always passes the slot's key ARN as {@code KeyId} and the exact encryption
 *       context, and checks that the ARN KMS answers with is the one asked for.
 *   <li>{@code ReEncrypt} for rewrap, within one Region; {@code DescribeKey} and {@code
 *       GetKeyRotationStatus} for the monitor.
 *   <li>One {@link KmsClient} per Region, the Region taken from the key ARN (multi-Region replica
 *       keys in several Regions work); key ids that are not ARNs use the default Region.
 *   <li>Every failure is mapped to a byok exception (table in docs/aws-kms.md); no AWS type
 *       escapes. Retries and time-outs are the SDK's: configure them on the client.
 * </ul>
 *
 * <p>Thread-safe. A client handed in with {@link Builder#client} is the caller's and is never
 * closed; clients the provider builds itself are closed by {@link #close()}.
 */
public final class AwsKmsProvider implements KeyProvider, AutoCloseable {
  /** The provider id recorded in key slots. */
  public static final String PROVIDER_ID = "aws-kms";

  private final @Nullable Region defaultRegion;
  private final Function<Region, KmsClient> factory;
  private final Map<Region, KmsClient> clients = new ConcurrentHashMap<>();
  private final List<KmsClient> owned = new ArrayList<>();
  private final @Nullable KmsClient callerClient;

  private AwsKmsProvider(Builder b) {
    this.defaultRegion = b.region;
    this.callerClient = b.client;
    if (b.client != null) {
      KmsClient c = b.client;
      this.factory = r -> c;
    } else if (b.clientFactory != null) {
      Function<Region, KmsClient> f = b.clientFactory;
      this.factory = r -> track(f.apply(r));
    } else {
      this.factory = r -> track(defaultClient(b, r));
    }
  }

  private KmsClient track(KmsClient c) {
    synchronized (owned) {
      owned.add(c);
    }
    return c;
  }

  private static KmsClient defaultClient(Builder b, Region r) {
    KmsClientBuilder cb =
        KmsClient.builder().region(r).httpClient(UrlConnectionHttpClient.create());
    if (b.credentials != null) {
      cb.credentialsProvider(b.credentials);
    }
    if (b.endpoint != null) {
      cb.endpointOverride(b.endpoint);
    }
    return cb.build();
  }

  /** {@return a new builder} */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String providerId() {
    return PROVIDER_ID;
  }

  /**
   * The Region of a key id: the fourth field of an ARN ({@code arn:aws:kms:<region>:...}), else the
   * default Region.
   */
  Region regionOf(String keyId) {
    if (keyId.startsWith("arn:")) {
      String[] parts = keyId.split(":", 6);
      if (parts.length < 6 || parts[3].isEmpty()) {
        throw new ByokConfigurationException("'" + keyId + "' is not a valid KMS ARN");
      }
      return Region.of(parts[3]);
    }
    if (defaultRegion == null) {
      throw new ByokConfigurationException(
          "key id '" + keyId + "' is not an ARN and no default region is configured");
    }
    return defaultRegion;
  }

  private KmsClient client(String keyId) {
    if (callerClient != null) {
      return callerClient;
    }
    return clients.computeIfAbsent(regionOf(keyId), factory);
  }

  private static <T> T call(String operation, String keyId, Supplier<T> body) {
    try {
      return body.get();
    } catch (SdkException e) {
      throw AwsErrors.map(operation, keyId, e);
    }
  }

  private static Map<String, String> ctx(EncryptionContext c) {
    return c.asMap();
  }

  @Override
  public GeneratedDataKey generateDataKey(String keyId, EncryptionContext context) {
    GenerateDataKeyResponse r =
        call(
            "GenerateDataKey",
            keyId,
            () ->
                client(keyId)
                    .generateDataKey(
                        b ->
                            b.keyId(keyId)
                                .keySpec(DataKeySpec.AES_256)
                                .encryptionContext(ctx(context))));
    byte[] plaintext = r.plaintext().asByteArray();
    try {
      return new GeneratedDataKey(
          plaintext,
          new WrappedKey(r.keyId(), r.ciphertextBlob().asByteArray(), r.keyMaterialId()));
    } finally {
      Arrays.fill(plaintext, (byte) 0);
    }
  }

  @Override
  public WrappedKey encrypt(String keyId, byte[] plaintextKey, EncryptionContext context) {
    EncryptResponse r =
        call(
            "Encrypt",
            keyId,
            () ->
                client(keyId)
                    .encrypt(
                        b ->
                            b.keyId(keyId)
                                .plaintext(SdkBytes.fromByteArray(plaintextKey))
                                .encryptionContext(ctx(context))));
    return new WrappedKey(
        r.keyId(), r.ciphertextBlob().asByteArray(), null); // Encrypt reports no material id
  }

  @Override
  public byte[] decrypt(String keyArn, byte[] wrappedKey, EncryptionContext context) {
    DecryptResponse r =
        call(
            "Decrypt",
            keyArn,
            () ->
                client(keyArn)
                    .decrypt(
                        b ->
                            b.keyId(keyArn)
                                .ciphertextBlob(SdkBytes.fromByteArray(wrappedKey))
                                .encryptionContext(ctx(context))));
    if (!keyArn.equals(r.keyId())) {
      throw new ByokConfigurationException(
          "KMS decrypted with "
              + r.keyId()
              + " although "
              + keyArn
              + " was asked for; refusing the result");
    }
    return r.plaintext().asByteArray();
  }

  @Override
  public boolean supportsReEncrypt() {
    return true;
  }

  /**
   * Re-wraps inside KMS. AWS KMS runs {@code ReEncrypt} in one Region, so a destination in another
   * Region than the source is refused with {@link UnsupportedOperationException} (byok then wraps
   * the data key with {@code Encrypt} in the destination Region instead).
   */
  @Override
  public WrappedKey reEncrypt(
      String sourceKeyArn, byte[] wrappedKey, String destinationKeyId, EncryptionContext context) {
    if (!sameRegion(sourceKeyArn, destinationKeyId)) {
      throw new UnsupportedOperationException(
          "ReEncrypt across Regions: " + sourceKeyArn + " -> " + destinationKeyId);
    }
    ReEncryptResponse r =
        call(
            "ReEncrypt",
            sourceKeyArn,
            () ->
                client(sourceKeyArn)
                    .reEncrypt(
                        b ->
                            b.sourceKeyId(sourceKeyArn)
                                .destinationKeyId(destinationKeyId)
                                .ciphertextBlob(SdkBytes.fromByteArray(wrappedKey))
                                .sourceEncryptionContext(ctx(context))
                                .destinationEncryptionContext(ctx(context))));
    if (!sourceKeyArn.equals(r.sourceKeyId())) {
      throw new ByokConfigurationException(
          "KMS re-encrypted from "
              + r.sourceKeyId()
              + " although "
              + sourceKeyArn
              + " was asked for");
    }
    return new WrappedKey(
        r.keyId(), r.ciphertextBlob().asByteArray(), r.destinationKeyMaterialId());
  }

  /** With a caller-owned client a key id that is not an ARN is in the client's Region. */
  private boolean sameRegion(String sourceKeyArn, String destinationKeyId) {
    if (callerClient != null && !destinationKeyId.startsWith("arn:")) {
      return true;
    }
    return regionOf(sourceKeyArn).equals(regionOf(destinationKeyId));
  }

  @Override
  public KeyDescription describeKey(String keyId) {
    KeyMetadata m =
        call("DescribeKey", keyId, () -> client(keyId).describeKey(b -> b.keyId(keyId)))
            .keyMetadata();
    return new KeyDescription(
        m.arn(), state(m.keyStateAsString()), m.deletionDate(), m.currentKeyMaterialId());
  }

  static KeyState state(@Nullable String s) {
    if (s == null) {
      return KeyState.UNKNOWN;
    }
    switch (s) {
      case "Creating":
        return KeyState.CREATING;
      case "Enabled":
        return KeyState.ENABLED;
      case "Disabled":
        return KeyState.DISABLED;
      case "PendingDeletion":
        return KeyState.PENDING_DELETION;
      case "PendingImport":
        return KeyState.PENDING_IMPORT;
      case "PendingReplicaDeletion":
        return KeyState.PENDING_REPLICA_DELETION;
      case "Unavailable":
        return KeyState.UNAVAILABLE;
      case "Updating":
        return KeyState.UPDATING;
      default:
        return KeyState.UNKNOWN;
    }
  }

  /**
   * {@code GetKeyRotationStatus} takes a key id or key ARN, not an alias: an alias is resolved with
   * {@code DescribeKey} first.
   */
  @Override
  public RotationStatus rotationStatus(String keyId) {
    String id =
        keyId.startsWith("alias/") || keyId.contains(":alias/")
            ? describeKey(keyId).keyArn()
            : keyId;
    GetKeyRotationStatusResponse r =
        call("GetKeyRotationStatus", id, () -> client(id).getKeyRotationStatus(b -> b.keyId(id)));
    return new RotationStatus(
        Boolean.TRUE.equals(r.keyRotationEnabled()),
        r.rotationPeriodInDays(),
        r.nextRotationDate());
  }

  /** Closes the clients this provider built; a caller-supplied client is left open. Idempotent. */
  @Override
  public void close() {
    synchronized (owned) {
      for (KmsClient c : owned) {
        c.close();
      }
      owned.clear();
    }
    clients.clear();
  }

  @Override
  public String toString() {
    return "AwsKmsProvider[defaultRegion=" + defaultRegion + ", clients=" + clients.keySet() + "]";
  }

  /**
   * Builds an {@link AwsKmsProvider}: hand it a client you own, a factory that makes one per
   * Region, or let it build clients from a Region, credentials and an optional endpoint. Setters
   * fail fast naming the bad value. Not thread-safe.
   */
  public static final class Builder {
    private @Nullable Region region;
    private @Nullable AwsCredentialsProvider credentials;
    private @Nullable URI endpoint;
    private @Nullable KmsClient client;
    private @Nullable Function<Region, KmsClient> clientFactory;

    private Builder() {}

    /**
     * Configures {@code region}.
     *
     * @param region the Region for key ids that are not ARNs (aliases, bare key ids), e.g. {@code
     *     eu-west-1}
     * @return this builder
     */
    public Builder region(String region) {
      Objects.requireNonNull(region, "region");
      if (region.isBlank()) {
        throw new IllegalArgumentException("region must not be blank");
      }
      this.region = Region.of(region);
      return this;
    }

    /**
     * Configures {@code credentials}.
     *
     * @param credentials credentials for clients this provider builds (default: the SDK's chain)
     * @return this builder
     */
    public Builder credentials(AwsCredentialsProvider credentials) {
      this.credentials = Objects.requireNonNull(credentials, "credentials");
      return this;
    }

    /**
     * Configures {@code endpoint}.
     *
     * @param endpoint endpoint override for clients this provider builds (a VPC endpoint, or the
     *     testkit's LocalKmsServer)
     * @return this builder
     */
    public Builder endpoint(URI endpoint) {
      Objects.requireNonNull(endpoint, "endpoint");
      if (endpoint.getScheme() == null || endpoint.getHost() == null) {
        throw new IllegalArgumentException("endpoint '" + endpoint + "' needs a scheme and a host");
      }
      this.endpoint = endpoint;
      return this;
    }

    /**
     * Uses one caller-owned client for every key (then every key must live in its Region). It is
     * never closed by the provider.
     *
     * @param client the client
     * @return this builder
     */
    public Builder client(KmsClient client) {
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    /**
     * Makes one client per Region with this factory (the provider closes them).
     *
     * @param factory Region -> client
     * @return this builder
     */
    public Builder clientFactory(Function<Region, KmsClient> factory) {
      this.clientFactory = Objects.requireNonNull(factory, "clientFactory");
      return this;
    }

    /**
     * {@return the provider}
     *
     * @throws IllegalStateException if both a client and a factory were given
     */
    public AwsKmsProvider build() {
      if (client != null && clientFactory != null) {
        throw new IllegalStateException("give either client(...) or clientFactory(...), not both");
      }
      return new AwsKmsProvider(this);
    }
  }
}
