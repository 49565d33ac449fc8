package dev.byok.kms.gcp;

import com.google.api.gax.rpc.ApiException;
import com.google.cloud.kms.v1.CryptoKey;
import com.google.cloud.kms.v1.CryptoKeyVersion;
import com.google.cloud.kms.v1.DecryptRequest;
import com.google.cloud.kms.v1.DecryptResponse;
import com.google.cloud.kms.v1.EncryptRequest;
import com.google.cloud.kms.v1.EncryptResponse;
import com.google.cloud.kms.v1.KeyManagementServiceClient;
import com.google.cloud.kms.v1.KeyManagementServiceSettings;
import com.google.protobuf.ByteString;
import com.google.protobuf.Int64Value;
import com.google.protobuf.Timestamp;
import dev.byok.ByokConfigurationException;
import dev.byok.EncryptionContext;
import dev.byok.KmsUnavailableException;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.KeyState;
import dev.byok.spi.RotationStatus;
import dev.byok.spi.WrappedKey;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;
import org.jspecify.annotations.Nullable;

/**
 * A {@link KeyProvider} for Google Cloud KMS (provider id {@code gcp-kms}) over the official {@link
 * KeyManagementServiceClient}.
 *
 * <ul>
 *   <li>Key ids are resource names: a CryptoKey ({@code
 *       projects/P/locations/L/keyRings/R/cryptoKeys/K}, encrypts with its primary version) or a
 *       CryptoKeyVersion ({@code .../cryptoKeyVersions/N}). The resolved key recorded in a slot is
 *       the CryptoKeyVersion name {@code Encrypt} answers with.
 *   <li>{@code generateDataKey} draws 32 bytes from {@link SecureRandom} and wraps them with {@code
 *       Encrypt}; Cloud KMS has no data key generation of its own.
 *   <li>{@code Encrypt} and {@code Decrypt} pass the encryption context's canonical bytes as {@code
 *       additional_authenticated_data}; a different context fails to decrypt.
 *   <li>Integrity as Google documents it: every request carries CRC32C checksums of its data;
 *       {@code Encrypt}'s answer must say it verified them ({@code verified_plaintext_crc32c},
 *       {@code verified_additional_authenticated_data_crc32c}) and its {@code ciphertext_crc32c}
 *       must match, {@code Decrypt}'s {@code plaintext_crc32c} must match. A mismatch is {@link
 *       KmsUnavailableException} (damaged in transit: retry), never a result.
 *   <li>{@code describeKey} reads the CryptoKey's primary version ({@code GetCryptoKey}) or the
 *       named version ({@code GetCryptoKeyVersion}); the key id it reports is the version, so a new
 *       primary version (rotation) shows as a new resolved key and old blobs keep theirs.
 *   <li>Every failure is mapped to a byok exception (table in docs/gcp-kms.md); no Google type
 *       escapes. Retries and time-outs are the client's ({@code KeyManagementServiceSettings}).
 * </ul>
 *
 * <p>Thread-safe. A client handed in with {@link Builder#client} is the caller's and is never
 * closed; a client the provider builds itself is closed by {@link #close()}.
 */
public final class GcpKmsProvider implements KeyProvider, AutoCloseable {
  /** The provider id recorded in key slots. */
  public static final String PROVIDER_ID = "gcp-kms";

  private static final String SEGMENT = "[a-zA-Z0-9_-]{1,63}";
  private static final Pattern CRYPTO_KEY =
      Pattern.compile(
          "projects/[a-z][a-z0-9-]{0,62}/locations/[a-z][a-z0-9-]{0,62}/keyRings/"
              + SEGMENT
              + "/cryptoKeys/"
              + SEGMENT);
  private static final Pattern VERSION =
      Pattern.compile("(" + CRYPTO_KEY.pattern() + ")/cryptoKeyVersions/[1-9][0-9]{0,8}");

  private final KeyManagementServiceClient client;
  private final boolean owned;
  private final SecureRandom random = new SecureRandom();

  private GcpKmsProvider(KeyManagementServiceClient client, boolean owned) {
    this.client = client;
    this.owned = owned;
  }

  /** {@return a new builder} */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String providerId() {
    return PROVIDER_ID;
  }

  private static <T> T call(String operation, String keyId, Supplier<T> body) {
    try {
      return body.get();
    } catch (ApiException e) {
      throw GcpErrors.map(operation, keyId, e);
    }
  }

  /** The CryptoKey of a key id (a CryptoKey or CryptoKeyVersion name), or a configuration error. */
  static String cryptoKeyOf(String keyId) {
    Objects.requireNonNull(keyId, "keyId");
    if (CRYPTO_KEY.matcher(keyId).matches()) {
      return keyId;
    }
    Matcher m = VERSION.matcher(keyId);
    if (m.matches()) {
      return m.group(1);
    }
    throw new ByokConfigurationException(
        "'"
            + keyId
            + "' is not a Cloud KMS CryptoKey or CryptoKeyVersion name"
            + " (projects/P/locations/L/keyRings/R/cryptoKeys/K[/cryptoKeyVersions/N])");
  }

  private static boolean isVersion(String keyId) {
    return VERSION.matcher(keyId).matches();
  }

  static long crc32c(ByteString data) {
    CRC32C c = new CRC32C();
    c.update(data.asReadOnlyByteBuffer());
    return c.getValue();
  }

  private static Int64Value crc(ByteString data) {
    return Int64Value.of(crc32c(data));
  }

  private static KmsUnavailableException integrity(String operation, String keyId, String what) {
    return new KmsUnavailableException(
        operation + " on " + keyId + ": integrity check failed: " + what + " (CRC32C)",
        false,
        null);
  }

  @Override
  public GeneratedDataKey generateDataKey(String keyId, EncryptionContext context) {
    byte[] key = new byte[32];
    random.nextBytes(key);
    try {
      return new GeneratedDataKey(key, encrypt(keyId, key, context));
    } finally {
      Arrays.fill(key, (byte) 0);
    }
  }

  @Override
  public WrappedKey encrypt(String keyId, byte[] plaintextKey, EncryptionContext context) {
    String cryptoKey = cryptoKeyOf(keyId);
    Objects.requireNonNull(plaintextKey, "plaintextKey");
    ByteString plaintext = ByteString.copyFrom(plaintextKey);
    ByteString aad = ByteString.copyFrom(context.toCanonicalBytes());
    EncryptRequest request =
        EncryptRequest.newBuilder()
            .setName(keyId)
            .setPlaintext(plaintext)
            .setPlaintextCrc32C(crc(plaintext))
            .setAdditionalAuthenticatedData(aad)
            .setAdditionalAuthenticatedDataCrc32C(crc(aad))
            .build();
    EncryptResponse r = call("Encrypt", keyId, () -> client.encrypt(request));
    if (!r.getVerifiedPlaintextCrc32C()) {
      throw integrity("Encrypt", keyId, "Cloud KMS did not verify plaintext_crc32c");
    }
    if (!r.getVerifiedAdditionalAuthenticatedDataCrc32C()) {
      throw integrity(
          "Encrypt", keyId, "Cloud KMS did not verify additional_authenticated_data_crc32c");
    }
    ByteString ciphertext = r.getCiphertext();
    if (!r.hasCiphertextCrc32C() || r.getCiphertextCrc32C().getValue() != crc32c(ciphertext)) {
      throw integrity("Encrypt", keyId, "ciphertext does not match ciphertext_crc32c");
    }
    String version = r.getName();
    boolean sameKey =
        isVersion(keyId)
            ? version.equals(keyId)
            : isVersion(version) && cryptoKeyOf(version).equals(cryptoKey);
    if (!sameKey) {
      throw new ByokConfigurationException(
          "Cloud KMS encrypted with " + version + " although " + keyId + " was asked for");
    }
    if (ciphertext.isEmpty()) {
      throw integrity("Encrypt", keyId, "empty ciphertext");
    }
    return new WrappedKey(version, ciphertext.toByteArray(), null);
  }

  /**
   * Unwraps with {@code Decrypt} on the CryptoKey of {@code keyArn} (Cloud KMS decrypts with a
   * CryptoKey and picks the version from the ciphertext). Cloud KMS does not report the version it
   * used, so the check that the KMS used {@code keyArn} is at CryptoKey granularity: a ciphertext
   * of another CryptoKey fails.
   */
  @Override
  public byte[] decrypt(String keyArn, byte[] wrappedKey, EncryptionContext context) {
    if (!isVersion(keyArn)) {
      throw new ByokConfigurationException(
          "'" + keyArn + "' is not a resolved Cloud KMS key (a CryptoKeyVersion name)");
    }
    String cryptoKey = cryptoKeyOf(keyArn);
    ByteString ciphertext = ByteString.copyFrom(Objects.requireNonNull(wrappedKey, "wrappedKey"));
    ByteString aad = ByteString.copyFrom(context.toCanonicalBytes());
    DecryptRequest request =
        DecryptRequest.newBuilder()
            .setName(cryptoKey)
            .setCiphertext(ciphertext)
            .setCiphertextCrc32C(crc(ciphertext))
            .setAdditionalAuthenticatedData(aad)
            .setAdditionalAuthenticatedDataCrc32C(crc(aad))
            .build();
    DecryptResponse r = call("Decrypt", keyArn, () -> client.decrypt(request));
    ByteString plaintext = r.getPlaintext();
    if (!r.hasPlaintextCrc32C() || r.getPlaintextCrc32C().getValue() != crc32c(plaintext)) {
      throw integrity("Decrypt", keyArn, "plaintext does not match plaintext_crc32c");
    }
    return plaintext.toByteArray();
  }

  /**
   * Describes a CryptoKey by its primary version ({@code GetCryptoKey}), or a CryptoKeyVersion
   * ({@code GetCryptoKeyVersion}). The reported key id is the version: {@code ENABLED}, {@code
   * DISABLED}, {@code DESTROY_SCHEDULED} (as {@link KeyState#PENDING_DELETION}, with its destroy
   * time) and {@code DESTROYED} (as {@link KeyState#UNAVAILABLE}: the SPI has no terminal state).
   */
  @Override
  public KeyDescription describeKey(String keyId) {
    CryptoKeyVersion v;
    if (isVersion(keyId)) {
      v = call("GetCryptoKeyVersion", keyId, () -> client.getCryptoKeyVersion(keyId));
    } else {
      String cryptoKey = cryptoKeyOf(keyId);
      CryptoKey k = call("GetCryptoKey", keyId, () -> client.getCryptoKey(cryptoKey));
      if (k.getPurpose() != CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT || !k.hasPrimary()) {
        throw new ByokConfigurationException(
            keyId + " has purpose " + k.getPurpose() + "; byok needs an ENCRYPT_DECRYPT key");
      }
      v = k.getPrimary();
    }
    KeyState state = state(v.getState());
    Instant deletion =
        state == KeyState.PENDING_DELETION && v.hasDestroyTime()
            ? instant(v.getDestroyTime())
            : null;
    return new KeyDescription(v.getName(), state, deletion, null);
  }

  static KeyState state(CryptoKeyVersion.CryptoKeyVersionState s) {
    return switch (s) {
      case ENABLED -> KeyState.ENABLED;
      case DISABLED -> KeyState.DISABLED;
      case DESTROY_SCHEDULED, PENDING_EXTERNAL_DESTRUCTION -> KeyState.PENDING_DELETION;
      case DESTROYED, IMPORT_FAILED, GENERATION_FAILED, EXTERNAL_DESTRUCTION_FAILED ->
          KeyState.UNAVAILABLE;
      case PENDING_GENERATION -> KeyState.CREATING;
      case PENDING_IMPORT -> KeyState.PENDING_IMPORT;
      default -> KeyState.UNKNOWN;
    };
  }

  private static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  /**
   * Automatic rotation of the key's CryptoKey ({@code rotation_period}, {@code
   * next_rotation_time}).
   */
  @Override
  public RotationStatus rotationStatus(String keyId) {
    String cryptoKey = cryptoKeyOf(keyId);
    CryptoKey k = call("GetCryptoKey", keyId, () -> client.getCryptoKey(cryptoKey));
    Integer days =
        k.hasRotationPeriod() ? Math.toIntExact(k.getRotationPeriod().getSeconds() / 86_400) : null;
    Instant next = k.hasNextRotationTime() ? instant(k.getNextRotationTime()) : null;
    return new RotationStatus(k.hasRotationPeriod(), days, next);
  }

  /** Closes the client if this provider built it; a caller-supplied client is left open. */
  @Override
  public void close() {
    if (owned) {
      client.close();
    }
  }

  @Override
  public String toString() {
    return "GcpKmsProvider[" + (owned ? "own client" : "caller's client") + "]";
  }

  /**
   * Builds a {@link GcpKmsProvider} from a client you own, from client settings (endpoint,
   * credentials, retry settings), or from the defaults (Application Default Credentials, {@code
   * cloudkms.googleapis.com}). Setters fail fast naming the bad value. Not thread-safe.
   */
  public static final class Builder {
    private @Nullable KeyManagementServiceClient client;
    private @Nullable KeyManagementServiceSettings settings;

    private Builder() {}

    /**
     * Uses a caller-owned client; the provider never closes it.
     *
     * @param client the client
     * @return this builder
     */
    public Builder client(KeyManagementServiceClient client) {
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    /**
     * Builds the client from these settings (the provider closes it). Retries and time-outs are the
     * settings' ({@code encryptSettings().setRetrySettings(...)} and so on).
     *
     * @param settings the client settings
     * @return this builder
     */
    public Builder settings(KeyManagementServiceSettings settings) {
      this.settings = Objects.requireNonNull(settings, "settings");
      return this;
    }

    /**
     * {@return the provider}
     *
     * @throws IllegalStateException if both a client and settings were given
     * @throws ByokConfigurationException if the client cannot be created (e.g. no credentials)
     */
    public GcpKmsProvider build() {
      KeyManagementServiceClient c = client;
      if (c != null) {
        if (settings != null) {
          throw new IllegalStateException("give either client(...) or settings(...), not both");
        }
        return new GcpKmsProvider(c, false);
      }
      try {
        KeyManagementServiceSettings s = settings;
        return new GcpKmsProvider(
            s == null ? KeyManagementServiceClient.create() : KeyManagementServiceClient.create(s),
            true);
      } catch (IOException e) {
        throw new ByokConfigurationException(
            "could not create the Cloud KMS client: " + e.getMessage(), e);
      }
    }
  }
}
