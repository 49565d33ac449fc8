package dev.byok.testkit;

import dev.byok.ByokConfigurationException;
import dev.byok.ByokException;
import dev.byok.EncryptionContext;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyRef;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.kms.local.InMemoryKms;
import dev.byok.kms.local.LocalKmsException;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.KeyState;
import dev.byok.spi.RotationStatus;
import dev.byok.spi.WrappedKey;
import java.time.Clock;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.jspecify.annotations.NullMarked;

/**
 * A strict in-memory KMS with AWS KMS semantics, for tests: a {@link KeyProvider} to hand to byok,
 * over byok-kms-local's {@link InMemoryKms} ({@link #api()}), which creates keys and aliases,
 * changes key states, rotates, sets key policies, injects faults and logs calls. To reach the same
 * keys over the AWS KMS protocol, serve {@link #api()} with {@code
 * dev.byok.kms.local.LocalKmsServer.start(kms.api())}.
 *
 * <pre>{@code
 * ManualClock clock = new ManualClock();
 * FakeKms kms = FakeKms.builder().clock(clock).build();
 * String arn = kms.api().createKey().arn();
 * kms.api().createAlias("alias/app", arn);
 * GeneratedDataKey dek = kms.generateDataKey("alias/app", EncryptionContext.of("tenant", "t1"));
 * kms.api().disableKey(arn);   // now decrypt(arn, ...) throws KeyUnusableException(DISABLED)
 * }</pre>
 *
 * <p><b>Thread-safety:</b> thread-safe, like every {@link KeyProvider} must be.
 *
 * <p><b>Nullness:</b> nothing is {@code null} unless marked {@code @Nullable}.
 *
 * <h2>Errors</h2>
 *
 * <p>Every {@link LocalKmsException} is translated through one table, the way a real AWS provider
 * must translate the SDK's exceptions: {@code ThrottlingException}, {@code KMSInternalException},
 * {@code DependencyTimeoutException}, {@code KeyUnavailableException} → {@link
 * KmsUnavailableException}; {@code DisabledException}, {@code KMSInvalidStateException} (reason by
 * the key's state), {@code NotFoundException}, {@code AccessDeniedException} → {@link
 * KeyUnusableException}; {@code InvalidCiphertextException} → {@link InvalidCiphertextException}
 * ({@code WRAPPED_KEY_REJECTED}); everything else ({@code IncorrectKeyException}, {@code
 * InvalidKeyUsageException}, {@code InvalidArnException}, {@code ValidationException}, ...) →
 * {@link ByokConfigurationException}. The {@code LocalKmsException} is the cause.
 */
@NullMarked
public final class FakeKms implements KeyProvider {
  /** The provider id unless the builder sets another. */
  public static final String DEFAULT_PROVIDER_ID = "fake-kms";

  /** How a KMS error code is translated into byok's exceptions. */
  private enum Kind {
    THROTTLED,
    TRANSIENT,
    DISABLED,
    INVALID_STATE,
    NOT_FOUND,
    ACCESS_DENIED,
    CORRUPT,
    CALLER_BUG
  }

  /** The one translation table; it covers every code in {@link LocalKmsException#errorCodes()}. */
  private static final Map<String, Kind> KINDS =
      Map.ofEntries(
          Map.entry(LocalKmsException.THROTTLING, Kind.THROTTLED),
          Map.entry(LocalKmsException.INTERNAL, Kind.TRANSIENT),
          Map.entry(LocalKmsException.DEPENDENCY_TIMEOUT, Kind.TRANSIENT),
          Map.entry(LocalKmsException.KEY_UNAVAILABLE, Kind.TRANSIENT),
          Map.entry(LocalKmsException.DISABLED, Kind.DISABLED),
          Map.entry(LocalKmsException.INVALID_STATE, Kind.INVALID_STATE),
          Map.entry(LocalKmsException.NOT_FOUND, Kind.NOT_FOUND),
          Map.entry(LocalKmsException.ACCESS_DENIED, Kind.ACCESS_DENIED),
          Map.entry(LocalKmsException.INVALID_CIPHERTEXT, Kind.CORRUPT),
          Map.entry(LocalKmsException.INCORRECT_KEY, Kind.CALLER_BUG),
          Map.entry(LocalKmsException.INVALID_KEY_USAGE, Kind.CALLER_BUG),
          Map.entry(LocalKmsException.INVALID_ARN, Kind.CALLER_BUG),
          Map.entry(LocalKmsException.VALIDATION, Kind.CALLER_BUG),
          Map.entry(LocalKmsException.INVALID_ALIAS_NAME, Kind.CALLER_BUG),
          Map.entry(LocalKmsException.ALREADY_EXISTS, Kind.CALLER_BUG),
          Map.entry(LocalKmsException.UNSUPPORTED_OPERATION, Kind.CALLER_BUG),
          Map.entry(LocalKmsException.LIMIT_EXCEEDED, Kind.CALLER_BUG),
          Map.entry(LocalKmsException.MALFORMED_POLICY_DOCUMENT, Kind.CALLER_BUG),
          Map.entry(LocalKmsException.INVALID_GRANT_TOKEN, Kind.CALLER_BUG));

  private static final int DATA_KEY_BYTES = 32;
  private static final Pattern ALIAS_ARN =
      Pattern.compile("arn:aws[a-z-]*:kms:[^:]*:[^:]*:alias/.*");

  private final String providerId;
  private final InMemoryKms api;

  private FakeKms(Builder b) {
    this.providerId = b.providerId;
    this.api = b.kms.build();
  }

  /** {@return a fake with the defaults: system UTC clock, us-east-1, account 111122223333} */
  public static FakeKms create() {
    return builder().build();
  }

  /** {@return a builder with the defaults} */
  public static Builder builder() {
    return new Builder();
  }

  /** {@return the AWS-semantics layer: key administration, fault injection, call log} */
  public InMemoryKms api() {
    return api;
  }

  @Override
  public String providerId() {
    return providerId;
  }

  @Override
  public GeneratedDataKey generateDataKey(String keyId, EncryptionContext context) {
    Objects.requireNonNull(keyId, "keyId");
    Map<String, String> ctx = context.asMap();
    return translating(
        keyId,
        () -> {
          InMemoryKms.CiphertextResult r = api.generateDataKey(keyId, ctx, DATA_KEY_BYTES);
          byte[] plaintext = Objects.requireNonNull(r.plaintext());
          try {
            return new GeneratedDataKey(
                plaintext, new WrappedKey(r.keyId(), r.ciphertextBlob(), r.keyMaterialId()));
          } finally {
            Arrays.fill(plaintext, (byte) 0);
          }
        });
  }

  @Override
  public WrappedKey encrypt(String keyId, byte[] plaintextKey, EncryptionContext context) {
    Objects.requireNonNull(keyId, "keyId");
    Objects.requireNonNull(plaintextKey, "plaintextKey");
    Map<String, String> ctx = context.asMap();
    return translating(
        keyId,
        () -> {
          InMemoryKms.CiphertextResult r = api.encrypt(keyId, plaintextKey, ctx);
          return new WrappedKey(r.keyId(), r.ciphertextBlob(), r.keyMaterialId());
        });
  }

  /**
   * {@inheritDoc}
   *
   * <p>Passes {@code keyArn} as Decrypt's KeyId and checks that the key that answered is exactly
   * {@code keyArn}: a slot that names an alias or key id instead of the resolved ARN is a {@link
   * ByokConfigurationException}.
   */
  @Override
  public byte[] decrypt(String keyArn, byte[] wrappedKey, EncryptionContext context) {
    Objects.requireNonNull(keyArn, "keyArn");
    Objects.requireNonNull(wrappedKey, "wrappedKey");
    Map<String, String> ctx = context.asMap();
    return translating(
        keyArn,
        () -> {
          InMemoryKms.DecryptResult r = api.decrypt(wrappedKey, ctx, keyArn);
          byte[] plaintext = r.plaintext();
          if (!r.keyId().equals(keyArn)) {
            Arrays.fill(plaintext, (byte) 0);
            throw answeredByOtherKey(keyArn, r.keyId());
          }
          return plaintext;
        });
  }

  /** {@return true: the fake implements ReEncrypt} */
  @Override
  public boolean supportsReEncrypt() {
    return true;
  }

  @Override
  public WrappedKey reEncrypt(
      String sourceKeyArn, byte[] wrappedKey, String destinationKeyId, EncryptionContext context) {
    Objects.requireNonNull(sourceKeyArn, "sourceKeyArn");
    Objects.requireNonNull(wrappedKey, "wrappedKey");
    Objects.requireNonNull(destinationKeyId, "destinationKeyId");
    Map<String, String> ctx = context.asMap();
    return translating(
        sourceKeyArn,
        () -> {
          InMemoryKms.ReEncryptResult r =
              api.reEncrypt(wrappedKey, ctx, sourceKeyArn, destinationKeyId, ctx);
          if (!r.sourceKeyId().equals(sourceKeyArn)) {
            throw answeredByOtherKey(sourceKeyArn, r.sourceKeyId());
          }
          return new WrappedKey(r.keyId(), r.ciphertextBlob(), r.destinationKeyMaterialId());
        });
  }

  @Override
  public KeyDescription describeKey(String keyId) {
    Objects.requireNonNull(keyId, "keyId");
    return translating(
        keyId,
        () -> {
          InMemoryKms.KeyMetadata m = api.describeKey(keyId);
          return new KeyDescription(
              m.arn(), m.keyState(), m.deletionDate(), m.currentKeyMaterialId());
        });
  }

  /**
   * {@inheritDoc}
   *
   * <p>GetKeyRotationStatus does not accept aliases, so an alias is first resolved with
   * DescribeKey, as a real AWS provider has to.
   */
  @Override
  public RotationStatus rotationStatus(String keyId) {
    Objects.requireNonNull(keyId, "keyId");
    return translating(
        keyId,
        () -> {
          boolean alias = keyId.startsWith("alias/") || ALIAS_ARN.matcher(keyId).matches();
          String arn = alias ? api.describeKey(keyId).arn() : keyId;
          InMemoryKms.KeyRotationStatus s = api.getKeyRotationStatus(arn);
          return new RotationStatus(
              s.keyRotationEnabled(), s.rotationPeriodInDays(), s.nextRotationDate());
        });
  }

  @Override
  public String toString() {
    return "FakeKms[" + providerId + ", " + api.region() + ", " + api.accountId() + "]";
  }

  private static ByokConfigurationException answeredByOtherKey(String expected, String actual) {
    return new ByokConfigurationException(
        "KMS answered with key "
            + actual
            + " but the slot names "
            + expected
            + "; a slot must record the resolved key ARN, never an alias or key id");
  }

  private <T> T translating(String keyId, Supplier<T> call) {
    try {
      return call.get();
    } catch (LocalKmsException e) {
      throw translate(e, keyId);
    }
  }

  /**
   * Translates an AWS-layer error into byok's exceptions through the one table.
   *
   * @param e the error
   * @param keyId the key the caller named, used when the error names none
   * @return the byok exception, with {@code e} as its cause
   */
  ByokException translate(LocalKmsException e, String keyId) {
    String key = e.keyArn() != null ? e.keyArn() : keyId;
    String message = Objects.toString(e.getMessage(), e.errorCode());
    switch (Objects.requireNonNull(KINDS.get(e.errorCode()), e.errorCode())) {
      case THROTTLED:
        return new KmsUnavailableException(message, true, e);
      case TRANSIENT:
        return new KmsUnavailableException(message, false, e);
      case DISABLED:
        return new KeyUnusableException(KeyUnusableException.Reason.DISABLED, key, message, e);
      case INVALID_STATE:
        KeyState state = e.keyState() != null ? e.keyState() : api.peekState(keyId);
        return new KeyUnusableException(
            state == null
                ? KeyUnusableException.Reason.UNAVAILABLE
                : KeyUnusableException.Reason.of(state),
            key,
            message,
            e);
      case NOT_FOUND:
        return new KeyUnusableException(KeyUnusableException.Reason.NOT_FOUND, key, message, e);
      case ACCESS_DENIED:
        return new KeyUnusableException(KeyUnusableException.Reason.ACCESS_DENIED, key, message, e);
      case CORRUPT:
        return new InvalidCiphertextException(
            InvalidCiphertextException.Reason.WRAPPED_KEY_REJECTED, message, e);
      case CALLER_BUG:
      default:
        return new ByokConfigurationException(message, e);
    }
  }

  /**
   * Configures a {@link FakeKms}. Not thread-safe; each {@link #build()} makes an independent fake.
   */
  public static final class Builder {
    private String providerId = DEFAULT_PROVIDER_ID;
    // clock, region and account are the engine's: validated there, once
    private final InMemoryKms.Builder kms = InMemoryKms.builder();

    private Builder() {}

    /**
     * Configures {@code providerId}.
     *
     * @param providerId {@code [a-z0-9._-]{1,64}}; default {@value #DEFAULT_PROVIDER_ID}
     * @return this
     * @throws IllegalArgumentException naming a bad id
     */
    public Builder providerId(String providerId) {
      KeyRef.of(Objects.requireNonNull(providerId, "providerId"), "alias/check");
      this.providerId = providerId;
      return this;
    }

    /**
     * Configures {@code clock}.
     *
     * @param clock where every date and delay is measured; default the system UTC clock, in tests a
     *     {@link ManualClock}
     * @return this
     */
    public Builder clock(Clock clock) {
      kms.clock(clock);
      return this;
    }

    /**
     * Configures {@code region}.
     *
     * @param region the region in key ARNs, e.g. {@code eu-west-1}; default {@code us-east-1}
     * @return this
     * @throws IllegalArgumentException naming a malformed region
     */
    public Builder region(String region) {
      kms.region(region);
      return this;
    }

    /**
     * Configures {@code accountId}.
     *
     * @param accountId the 12-digit account in key ARNs; default {@code 111122223333}
     * @return this
     * @throws IllegalArgumentException naming a malformed account id
     */
    public Builder accountId(String accountId) {
      kms.accountId(accountId);
      return this;
    }

    /** {@return a new, empty fake} */
    public FakeKms build() {
      return new FakeKms(this);
    }
  }
}
