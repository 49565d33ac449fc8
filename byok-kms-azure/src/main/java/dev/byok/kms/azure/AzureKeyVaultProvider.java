package dev.byok.kms.azure;

import com.azure.core.credential.TokenCredential;
import com.azure.core.http.HttpClient;
import com.azure.core.http.jdk.httpclient.JdkHttpClientBuilder;
import com.azure.core.http.policy.RetryOptions;
import com.azure.security.keyvault.keys.KeyClient;
import com.azure.security.keyvault.keys.KeyClientBuilder;
import com.azure.security.keyvault.keys.cryptography.CryptographyClient;
import com.azure.security.keyvault.keys.cryptography.CryptographyClientBuilder;
import com.azure.security.keyvault.keys.cryptography.models.KeyWrapAlgorithm;
import com.azure.security.keyvault.keys.cryptography.models.UnwrapResult;
import com.azure.security.keyvault.keys.cryptography.models.WrapResult;
import com.azure.security.keyvault.keys.models.DeletedKey;
import com.azure.security.keyvault.keys.models.KeyProperties;
import com.azure.security.keyvault.keys.models.KeyRotationLifetimeAction;
import com.azure.security.keyvault.keys.models.KeyRotationPolicy;
import com.azure.security.keyvault.keys.models.KeyRotationPolicyAction;
import com.azure.security.keyvault.keys.models.KeyType;
import com.azure.security.keyvault.keys.models.KeyVaultKey;
import dev.byok.ByokConfigurationException;
import dev.byok.ByokException;
import dev.byok.EncryptionContext;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyUnusableException;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.KeyState;
import dev.byok.spi.RotationStatus;
import dev.byok.spi.WrappedKey;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * A {@link KeyProvider} for Azure Key Vault and Managed HSM (provider id {@code azure-kv}), over
 * the official {@code azure-security-keyvault-keys} client.
 *
 * <ul>
 *   <li><b>Key ids:</b> a full key URL {@code https://<vault>/keys/<name>[/<version>]}, or a bare
 *       {@code <name>[/<version>]} in the {@link Builder#vaultUrl default vault}. A versionless id
 *       means the key's current version, like an alias; every result carries the <em>versioned</em>
 *       key id ({@code https://<vault>/keys/<name>/<version>}), which is what slots record.
 *   <li><b>Wrapping:</b> Key Vault's {@code wrapKey} takes no additional authenticated data, so the
 *       encryption context is bound locally: Key Vault wraps a fresh 256-bit key {@code K}, and
 *       {@code K} seals the data key with AES-256-GCM whose AAD holds the header, the versioned key
 *       id and the context's canonical bytes (format in docs/azure-key-vault.md). {@code
 *       RSA-OAEP-256} for RSA keys (vault keys), {@code A256KW} for {@code oct}/{@code oct-HSM}
 *       keys (Managed HSM); EC keys cannot wrap and are refused as misconfiguration.
 *   <li>Every wrap and unwrap is done <em>by the vault</em> (the client's local-cryptography cache
 *       is off), so disabling, expiry and removed permissions take effect on the next call.
 *   <li><b>State:</b> from the key version's attributes: disabled, not yet valid ({@code nbf}) or
 *       expired ({@code exp}) keys are not usable; a soft-deleted key is {@link
 *       KeyState#PENDING_DELETION} with its scheduled purge date.
 *   <li><b>Failures</b> are mapped to byok exceptions (table in docs/azure-key-vault.md); no Azure
 *       type escapes. Retries and time-outs are the client's ({@link Builder#retryOptions}).
 * </ul>
 *
 * <p>Thread-safe.
 */
public final class AzureKeyVaultProvider implements KeyProvider {
  /** The provider id recorded in key slots. */
  public static final String PROVIDER_ID = "azure-kv";

  /** Format version of the wrapped key this provider writes. */
  static final byte FORMAT_V1 = 1;

  static final byte ALG_RSA_OAEP_256 = 1;
  static final byte ALG_A256KW = 2;
  private static final int NONCE = 12;
  private static final int SEALED = 32 + 16;
  private static final byte[] AAD_LABEL = "byok/azure-kv/v1\0".getBytes(StandardCharsets.US_ASCII);
  private static final Pattern NAME = Pattern.compile("[0-9A-Za-z-]{1,127}");
  private static final Pattern VERSION = Pattern.compile("[0-9A-Za-z]{1,64}");
  private static final Pattern KEY_PATH = Pattern.compile("/keys/([^/]+)(?:/([^/]*))?/?");
  private static final int MAX_CRYPTO_CLIENTS = 4096;

  private final @Nullable String defaultVault;
  private final TokenCredential credential;
  private final HttpClient httpClient;
  private final @Nullable RetryOptions retryOptions;
  private final boolean verifyChallengeResource;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, KeyClient> keyClients = new ConcurrentHashMap<>();
  private final Map<String, CryptographyClient> cryptoClients = new ConcurrentHashMap<>();

  private AzureKeyVaultProvider(Builder b) {
    this.defaultVault = b.vaultUrl;
    this.credential = Objects.requireNonNull(b.credential);
    this.httpClient = b.httpClient != null ? b.httpClient : new JdkHttpClientBuilder().build();
    this.retryOptions = b.retryOptions;
    this.verifyChallengeResource = b.verifyChallengeResource;
    this.clock = b.clock;
  }

  /** {@return a new builder} */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String providerId() {
    return PROVIDER_ID;
  }

  // ------------------------------------------------------------------ key ids

  /** A parsed key id: vault URL (no trailing slash), name, version or null. */
  record KeyRef(String vault, String name, @Nullable String version) {
    String versionless() {
      return vault + "/keys/" + name;
    }
  }

  KeyRef parse(String keyId) {
    Objects.requireNonNull(keyId, "keyId");
    String vault;
    String path;
    if (keyId.startsWith("https://")) {
      URI u;
      try {
        u = new URI(keyId);
      } catch (URISyntaxException e) {
        throw new ByokConfigurationException("'" + keyId + "' is not a Key Vault key URL", e);
      }
      if (u.getHost() == null
          || u.getRawQuery() != null
          || u.getRawFragment() != null
          || u.getRawUserInfo() != null
          || u.getRawPath() == null) {
        throw new ByokConfigurationException(
            "'" + keyId + "' is not a Key Vault key URL (https://<vault>/keys/<name>[/<version>])");
      }
      vault = "https://" + u.getRawAuthority();
      path = u.getRawPath();
    } else {
      if (defaultVault == null) {
        throw new ByokConfigurationException(
            "key id '" + keyId + "' is not a key URL and no default vault is configured");
      }
      vault = defaultVault;
      path = "/keys/" + keyId;
    }
    Matcher m = KEY_PATH.matcher(path);
    if (!m.matches() || !NAME.matcher(m.group(1)).matches()) {
      throw new ByokConfigurationException(
          "'"
              + keyId
              + "' is not a Key Vault key id (<name>[/<version>], name [0-9A-Za-z-]{1,127})");
    }
    String version = m.group(2);
    if (version != null && version.isEmpty()) {
      version = null;
    }
    if (version != null && !VERSION.matcher(version).matches()) {
      throw new ByokConfigurationException("'" + keyId + "' has a malformed key version");
    }
    return new KeyRef(vault, m.group(1), version);
  }

  private KeyClient keyClient(String vault) {
    return keyClients.computeIfAbsent(
        vault,
        v -> {
          KeyClientBuilder b =
              new KeyClientBuilder().vaultUrl(v).credential(credential).httpClient(httpClient);
          if (retryOptions != null) {
            b.retryOptions(retryOptions);
          }
          if (!verifyChallengeResource) {
            b.disableChallengeResourceVerification();
          }
          return b.buildClient();
        });
  }

  private CryptographyClient cryptoClient(String versionedKid) {
    CryptographyClient c = cryptoClients.get(versionedKid);
    if (c != null) {
      return c;
    }
    if (cryptoClients.size() >= MAX_CRYPTO_CLIENTS) {
      cryptoClients.clear(); // a bound, not a cache policy: rebuilding a client is cheap
    }
    return cryptoClients.computeIfAbsent(
        versionedKid,
        kid -> {
          CryptographyClientBuilder b =
              new CryptographyClientBuilder()
                  .keyIdentifier(kid)
                  .credential(credential)
                  .httpClient(httpClient)
                  // every operation in the vault: revocation and expiry apply at once
                  .disableKeyCaching();
          if (retryOptions != null) {
            b.retryOptions(retryOptions);
          }
          if (!verifyChallengeResource) {
            b.disableChallengeResourceVerification();
          }
          return b.buildClient();
        });
  }

  private static <T> T call(String operation, String keyId, boolean unwrap, Supplier<T> body) {
    try {
      return body.get();
    } catch (ByokException e) {
      throw e;
    } catch (RuntimeException e) {
      throw AzureErrors.map(operation, keyId, e, unwrap);
    }
  }

  // ------------------------------------------------------------------ wrap / unwrap

  @Override
  public GeneratedDataKey generateDataKey(String keyId, EncryptionContext context) {
    byte[] dek = new byte[32];
    random.nextBytes(dek);
    try {
      return new GeneratedDataKey(dek, encrypt(keyId, dek, context));
    } finally {
      Arrays.fill(dek, (byte) 0);
    }
  }

  @Override
  public WrappedKey encrypt(String keyId, byte[] plaintextKey, EncryptionContext context) {
    Objects.requireNonNull(plaintextKey, "plaintextKey");
    Objects.requireNonNull(context, "context");
    if (plaintextKey.length != 32) {
      throw new ByokConfigurationException(
          "a data key must be 32 bytes, was " + plaintextKey.length);
    }
    KeyRef ref = parse(keyId);
    KeyVaultKey key =
        call(
            "GetKey",
            keyId,
            false,
            () ->
                ref.version() == null
                    ? keyClient(ref.vault()).getKey(ref.name())
                    : keyClient(ref.vault()).getKey(ref.name(), ref.version()));
    String kid = checkedKid(ref, key.getId(), keyId);
    byte alg = algorithmFor(key.getKeyType(), kid);
    byte[] k = new byte[32];
    random.nextBytes(k);
    try {
      WrapResult w =
          call("WrapKey", kid, false, () -> cryptoClient(kid).wrapKey(wrapAlgorithm(alg), k));
      if (!kid.equals(w.getKeyId())) {
        throw new ByokConfigurationException(
            "Key Vault wrapped with " + w.getKeyId() + " although " + kid + " was asked for");
      }
      byte[] wrappedK = w.getEncryptedKey();
      if (wrappedK == null || wrappedK.length == 0 || wrappedK.length > 0xFFFF) {
        throw new ByokConfigurationException("Key Vault returned no usable wrapped key for " + kid);
      }
      return new WrappedKey(kid, seal(alg, wrappedK, k, plaintextKey, kid, context), null);
    } finally {
      Arrays.fill(k, (byte) 0);
    }
  }

  /** The versioned kid Key Vault answered with, checked to be the key that was asked for. */
  private static String checkedKid(KeyRef ref, @Nullable String kid, String keyId) {
    String prefix = ref.versionless() + "/";
    if (kid == null
        || !kid.startsWith(prefix)
        || (ref.version() != null && !kid.equals(prefix + ref.version()))
        || !VERSION.matcher(kid.substring(prefix.length())).matches()) {
      throw new ByokConfigurationException(
          "Key Vault answered for " + keyId + " with key id " + kid + "; refusing it");
    }
    return kid;
  }

  private static byte algorithmFor(@Nullable KeyType type, String kid) {
    if (KeyType.RSA.equals(type) || KeyType.RSA_HSM.equals(type)) {
      return ALG_RSA_OAEP_256;
    }
    if (KeyType.OCT.equals(type) || KeyType.OCT_HSM.equals(type)) {
      return ALG_A256KW;
    }
    throw new ByokConfigurationException(
        kid + " is a " + type + " key, which cannot wrap keys (use an RSA or oct-HSM key)");
  }

  private static KeyWrapAlgorithm wrapAlgorithm(byte alg) {
    return alg == ALG_RSA_OAEP_256 ? KeyWrapAlgorithm.RSA_OAEP_256 : KeyWrapAlgorithm.A256KW;
  }

  /**
   * {@code version(1) ‖ alg(1) ‖ len(2) ‖ wrap(K) ‖ nonce(12) ‖ AES-256-GCM_K(DEK, aad)}, aad =
   * label ‖ the first {@code 4 + len} bytes ‖ len(kid)(4) ‖ kid ‖ context canonical bytes.
   */
  private byte[] seal(
      byte alg, byte[] wrappedK, byte[] k, byte[] dek, String kid, EncryptionContext context) {
    ByteBuffer out = ByteBuffer.allocate(4 + wrappedK.length + NONCE + SEALED);
    out.put(FORMAT_V1).put(alg).putShort((short) wrappedK.length).put(wrappedK);
    byte[] nonce = new byte[NONCE];
    random.nextBytes(nonce);
    out.put(nonce);
    byte[] header = Arrays.copyOf(out.array(), 4 + wrappedK.length);
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(k, "AES"), new GCMParameterSpec(128, nonce));
      c.updateAAD(aad(header, kid, context));
      out.put(c.doFinal(dek));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available", e);
    }
    return out.array();
  }

  private static byte[] aad(byte[] header, String kid, EncryptionContext context) {
    byte[] id = kid.getBytes(StandardCharsets.UTF_8);
    byte[] ctx = context.toCanonicalBytes();
    return ByteBuffer.allocate(AAD_LABEL.length + header.length + 4 + id.length + ctx.length)
        .put(AAD_LABEL)
        .put(header)
        .putInt(id.length)
        .put(id)
        .put(ctx)
        .array();
  }

  @Override
  public byte[] decrypt(String keyArn, byte[] wrappedKey, EncryptionContext context) {
    Objects.requireNonNull(wrappedKey, "wrappedKey");
    Objects.requireNonNull(context, "context");
    KeyRef ref = parse(keyArn);
    if (ref.version() == null) {
      throw new ByokConfigurationException(
          "'" + keyArn + "' is not a versioned key id; slots record https://<vault>/keys/<n>/<v>");
    }
    String kid = ref.versionless() + "/" + ref.version();
    ByteBuffer in = ByteBuffer.wrap(wrappedKey);
    if (wrappedKey.length < 4 + 1 + NONCE + SEALED || in.get() != FORMAT_V1) {
      throw rejected("is not a byok azure-kv v1 wrapped key", null);
    }
    byte alg = in.get();
    int len = Short.toUnsignedInt(in.getShort());
    if ((alg != ALG_RSA_OAEP_256 && alg != ALG_A256KW)
        || len == 0
        || wrappedKey.length != 4 + len + NONCE + SEALED) {
      throw rejected("has a malformed header", null);
    }
    byte[] wrappedK = new byte[len];
    in.get(wrappedK);
    byte[] nonce = new byte[NONCE];
    in.get(nonce);
    byte[] sealed = new byte[SEALED];
    in.get(sealed);
    UnwrapResult r =
        call(
            "UnwrapKey",
            kid,
            true,
            () -> cryptoClient(kid).unwrapKey(wrapAlgorithm(alg), wrappedK));
    if (!kid.equals(r.getKeyId())) {
      throw new ByokConfigurationException(
          "Key Vault unwrapped with " + r.getKeyId() + " although " + kid + " was asked for");
    }
    byte[] k = r.getKey();
    try {
      if (k == null || k.length != 32) {
        throw rejected("unwrapped to a key of the wrong length", null);
      }
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(k, "AES"), new GCMParameterSpec(128, nonce));
      c.updateAAD(aad(Arrays.copyOf(wrappedKey, 4 + len), kid, context));
      return c.doFinal(sealed);
    } catch (AEADBadTagException e) {
      throw rejected(
          "does not match: another encryption context or key id, or a corrupt wrapped key", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available", e);
    } finally {
      if (k != null) {
        Arrays.fill(k, (byte) 0);
      }
    }
  }

  private static InvalidCiphertextException rejected(String what, @Nullable Throwable cause) {
    return new InvalidCiphertextException(
        InvalidCiphertextException.Reason.WRAPPED_KEY_REJECTED, "the wrapped key " + what, cause);
  }

  // ------------------------------------------------------------------ state

  /**
   * Describes a key version from its attributes. A soft-deleted key is described as {@link
   * KeyState#PENDING_DELETION} with its scheduled purge date (when the caller may read deleted
   * keys); a key that does not exist or may not be read is thrown as {@link KeyUnusableException}.
   */
  @Override
  public KeyDescription describeKey(String keyId) {
    KeyRef ref = parse(keyId);
    KeyVaultKey key;
    try {
      key =
          call(
              "GetKey",
              keyId,
              false,
              () ->
                  ref.version() == null
                      ? keyClient(ref.vault()).getKey(ref.name())
                      : keyClient(ref.vault()).getKey(ref.name(), ref.version()));
    } catch (KeyUnusableException e) {
      if (e.reason() != KeyUnusableException.Reason.NOT_FOUND) {
        throw e;
      }
      DeletedKey deleted;
      try {
        deleted =
            call(
                "GetDeletedKey",
                keyId,
                false,
                () -> keyClient(ref.vault()).getDeletedKey(ref.name()));
      } catch (ByokException notDeleted) {
        e.addSuppressed(notDeleted);
        throw e;
      }
      String kid =
          ref.version() != null
              ? ref.versionless() + "/" + ref.version()
              : Objects.requireNonNullElse(deleted.getId(), ref.versionless());
      OffsetDateTime purge = deleted.getScheduledPurgeDate();
      return new KeyDescription(
          kid, KeyState.PENDING_DELETION, purge == null ? null : purge.toInstant(), null);
    }
    String kid = checkedKid(ref, key.getId(), keyId);
    KeyProperties p = key.getProperties();
    return new KeyDescription(kid, state(p, clock.instant()), null, p.getVersion());
  }

  static KeyState state(KeyProperties p, Instant now) {
    if (!Boolean.TRUE.equals(p.isEnabled())) {
      return KeyState.DISABLED;
    }
    OffsetDateTime nbf = p.getNotBefore();
    OffsetDateTime exp = p.getExpiresOn();
    if ((nbf != null && now.isBefore(nbf.toInstant()))
        || (exp != null && !now.isBefore(exp.toInstant()))) {
      return KeyState.UNAVAILABLE;
    }
    return KeyState.ENABLED;
  }

  /**
   * Reads the key's rotation policy: enabled when it has a {@code Rotate} action, with its {@code
   * timeAfterCreate} period in days where given as {@code P<n>D}.
   */
  @Override
  public RotationStatus rotationStatus(String keyId) {
    KeyRef ref = parse(keyId);
    KeyRotationPolicy policy =
        call(
            "GetKeyRotationPolicy",
            keyId,
            false,
            () -> keyClient(ref.vault()).getKeyRotationPolicy(ref.name()));
    boolean enabled = false;
    Integer days = null;
    if (policy.getLifetimeActions() != null) {
      for (KeyRotationLifetimeAction a : policy.getLifetimeActions()) {
        if (KeyRotationPolicyAction.ROTATE.equals(a.getAction())) {
          enabled = true;
          String after = a.getTimeAfterCreate();
          if (after != null && after.matches("P[0-9]{1,5}D")) {
            days = Integer.valueOf(after.substring(1, after.length() - 1));
          }
        }
      }
    }
    return new RotationStatus(enabled, days, null);
  }

  @Override
  public String toString() {
    return "AzureKeyVaultProvider[defaultVault="
        + defaultVault
        + ", vaults="
        + keyClients.keySet()
        + "]";
  }

  /**
   * Builds an {@link AzureKeyVaultProvider}. A credential is required; setters fail fast naming the
   * bad value. Not thread-safe.
   */
  public static final class Builder {
    private @Nullable String vaultUrl;
    private @Nullable TokenCredential credential;
    private @Nullable HttpClient httpClient;
    private @Nullable RetryOptions retryOptions;
    private boolean verifyChallengeResource = true;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /**
     * Configures the default vault, for key ids given as a bare {@code <name>[/<version>]}.
     *
     * @param vaultUrl {@code https://<vault>.vault.azure.net} or {@code
     *     https://<hsm>.managedhsm.azure.net}
     * @return this builder
     */
    public Builder vaultUrl(String vaultUrl) {
      Objects.requireNonNull(vaultUrl, "vaultUrl");
      URI u;
      try {
        u = new URI(vaultUrl);
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("vaultUrl '" + vaultUrl + "' is not a URL", e);
      }
      if (!"https".equals(u.getScheme())
          || u.getHost() == null
          || !(u.getRawPath() == null || u.getRawPath().isEmpty() || u.getRawPath().equals("/"))
          || u.getRawQuery() != null) {
        throw new IllegalArgumentException(
            "vaultUrl '" + vaultUrl + "' must be https://<host>[:port] with no path");
      }
      this.vaultUrl = "https://" + u.getRawAuthority();
      return this;
    }

    /**
     * Configures the credential (e.g. azure-identity's {@code DefaultAzureCredential}).
     *
     * @param credential gets tokens for the scope named in Key Vault's bearer challenge
     * @return this builder
     */
    public Builder credential(TokenCredential credential) {
      this.credential = Objects.requireNonNull(credential, "credential");
      return this;
    }

    /**
     * Configures the HTTP client (default: azure-core's JDK HttpClient transport).
     *
     * @param httpClient the client; the caller keeps ownership
     * @return this builder
     */
    public Builder httpClient(HttpClient httpClient) {
      this.httpClient = Objects.requireNonNull(httpClient, "httpClient");
      return this;
    }

    /**
     * Configures the client's retries (default: azure-core's exponential back-off, 3 retries).
     *
     * @param retryOptions the retry options
     * @return this builder
     */
    public Builder retryOptions(RetryOptions retryOptions) {
      this.retryOptions = Objects.requireNonNull(retryOptions, "retryOptions");
      return this;
    }

    /**
     * Stops checking that the resource in Key Vault's bearer challenge belongs to the vault's
     * domain. Only for a vault on a host outside Azure's domains, such as a loopback test server.
     *
     * @return this builder
     */
    public Builder disableChallengeResourceVerification() {
      this.verifyChallengeResource = false;
      return this;
    }

    /**
     * Configures the clock that decides whether a key is before its {@code nbf} or after its {@code
     * exp}.
     *
     * @param clock the clock (default: system UTC)
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * {@return the provider}
     *
     * @throws IllegalStateException if no credential was given
     */
    public AzureKeyVaultProvider build() {
      if (credential == null) {
        throw new IllegalStateException("credential(...) is required");
      }
      return new AzureKeyVaultProvider(this);
    }
  }
}
