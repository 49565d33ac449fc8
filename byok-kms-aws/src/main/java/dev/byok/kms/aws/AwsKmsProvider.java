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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
 *   <li>Multi-Region keys: with {@link Builder#multiRegionKey} a host names its own Region's
 *       replica, and every ARN of that {@code mrk-} key (a slot written in another Region) is
 *       served by it.
 *   <li>Grant tokens ({@link Builder#grantToken}) are passed on every call that accepts them.
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
  private final List<String> grantTokens;

  /** {@code <partition>:<account>:<mrk id>} -> the configured replica's ARN. */
  private final Map<String, String> replicas;

  private AwsKmsProvider(Builder b) {
    this.defaultRegion = b.region;
    this.callerClient = b.client;
    this.grantTokens = List.copyOf(b.grantTokens);
    this.replicas = Map.copyOf(b.replicas);
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

  private static final Pattern MRK_ARN =
      Pattern.compile("arn:(aws[a-z-]*):kms:([a-z0-9-]+):([0-9]{12}):key/(mrk-[0-9a-f]{32})");

  /** {@return the multi-Region key identity of an mrk ARN, or {@code null} for any other id} */
  static @Nullable String mrkIdentity(String keyId) {
    Matcher m = MRK_ARN.matcher(keyId);
    return m.matches() ? m.group(1) + ":" + m.group(3) + ":" + m.group(4) : null;
  }

  /**
   * The key id to call KMS with: for an ARN of a multi-Region key whose replica this host
   * configured ({@link Builder#multiRegionKey}), that replica's ARN (same key id, the host's
   * Region), so that a slot written in another Region is served by the local replica; else {@code
   * keyId} itself.
   */
  String served(String keyId) {
    String identity = mrkIdentity(keyId);
    if (identity == null) {
      return keyId;
    }
    return replicas.getOrDefault(identity, keyId);
  }

  @Override
  public GeneratedDataKey generateDataKey(String keyId, EncryptionContext context) {
    String id = served(keyId);
    GenerateDataKeyResponse r =
        call(
            "GenerateDataKey",
            id,
            () ->
                client(id)
                    .generateDataKey(
                        b ->
                            b.keyId(id)
                                .keySpec(DataKeySpec.AES_256)
                                .encryptionContext(ctx(context))
                                .grantTokens(grantTokens)));
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
    String id = served(keyId);
    EncryptResponse r =
        call(
            "Encrypt",
            id,
            () ->
                client(id)
                    .encrypt(
                        b ->
                            b.keyId(id)
                                .plaintext(SdkBytes.fromByteArray(plaintextKey))
                                .encryptionContext(ctx(context))
                                .grantTokens(grantTokens)));
    return new WrappedKey(
        r.keyId(), r.ciphertextBlob().asByteArray(), null); // Encrypt reports no material id
  }

  @Override
  public byte[] decrypt(String keyArn, byte[] wrappedKey, EncryptionContext context) {
    String id = served(keyArn);
    DecryptResponse r =
        call(
            "Decrypt",
            id,
            () ->
                client(id)
                    .decrypt(
                        b ->
                            b.keyId(id)
                                .ciphertextBlob(SdkBytes.fromByteArray(wrappedKey))
                                .encryptionContext(ctx(context))
                                .grantTokens(grantTokens)));
    if (!id.equals(r.keyId())) {
      byte[] plaintext = r.plaintext() == null ? new byte[0] : r.plaintext().asByteArray();
      Arrays.fill(plaintext, (byte) 0);
      throw new ByokConfigurationException(
          "KMS decrypted with "
              + r.keyId()
              + " although "
              + id
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
      String slotKeyArn, byte[] wrappedKey, String destinationId, EncryptionContext context) {
    String sourceKeyArn = served(slotKeyArn);
    String destinationKeyId = served(destinationId);
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
                                .destinationEncryptionContext(ctx(context))
                                .grantTokens(grantTokens)));
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
    String id = served(keyId);
    KeyMetadata m =
        call(
                "DescribeKey",
                id,
                () -> client(id).describeKey(b -> b.keyId(id).grantTokens(grantTokens)))
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
            : served(keyId);
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
    return "AwsKmsProvider[defaultRegion="
        + defaultRegion
        + ", clients="
        + clients.keySet()
        + ", multiRegionKeys="
        + replicas.values()
        + ", grantTokens="
        + grantTokens.size()
        + "]";
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
    private final List<String> grantTokens = new ArrayList<>();
    private final Map<String, String> replicas = new java.util.LinkedHashMap<>();

    private Builder() {}

    /**
     * Passes a grant token on every call that takes one ({@code GenerateDataKey}, {@code Encrypt},
     * {@code Decrypt}, {@code ReEncrypt}, {@code DescribeKey}), so that a grant the customer just
     * created for this host works before it is consistent everywhere in KMS. Repeatable, at most 10
     * tokens (the AWS limit). Tokens are not secret by AWS's definition, but are not logged.
     *
     * @param token a grant token from {@code CreateGrant}
     * @return this builder
     * @throws IllegalArgumentException if the token is blank or it is the eleventh
     */
    public Builder grantToken(String token) {
      Objects.requireNonNull(token, "token");
      if (token.isBlank()) {
        throw new IllegalArgumentException("grant token must not be blank");
      }
      if (grantTokens.size() == 10) {
        throw new IllegalArgumentException("at most 10 grant tokens, as AWS KMS accepts");
      }
      grantTokens.add(token);
      return this;
    }

    /**
     * Serves a multi-Region key through this host's replica: every key ARN with the same account
     * and {@code mrk-} key id, in any Region (a slot written elsewhere, a KEK configured with the
     * primary's ARN), is called as {@code replicaArn}, in its Region, like the AWS Encryption SDK's
     * multi-Region-aware keyrings. Results then name the replica, so the monitor watches the
     * replica actually used. Repeatable, one replica per multi-Region key.
     *
     * @param replicaArn e.g. {@code arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd...}
     * @return this builder
     * @throws IllegalArgumentException if it is not the ARN of a multi-Region key ({@code key/mrk-}
     *     followed by 32 hex digits), or a replica of that key is configured already
     */
    public Builder multiRegionKey(String replicaArn) {
      Objects.requireNonNull(replicaArn, "replicaArn");
      String identity = mrkIdentity(replicaArn);
      if (identity == null) {
        throw new IllegalArgumentException(
            "'"
                + replicaArn
                + "' is not the ARN of a multi-Region key"
                + " (arn:aws:kms:<region>:<account>:key/mrk-<32 hex digits>)");
      }
      String previous = replicas.putIfAbsent(identity, replicaArn);
      if (previous != null) {
        throw new IllegalArgumentException(
            "two replicas configured for one multi-Region key: " + previous + ", " + replicaArn);
      }
      return this;
    }

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
