package dev.byok.kms.local;

import dev.byok.spi.KeyState;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;

/**
 * An in-memory KMS whose operations, key states, key-id forms, key policies and error codes behave
 * like AWS KMS, so code can be run against it directly or over the KMS JSON 1.1 protocol through
 * {@link LocalKmsServer}. byok-testkit's {@code FakeKms} adapts it to byok's {@code KeyProvider}.
 *
 * <pre>{@code
 * InMemoryKms kms = InMemoryKms.builder().region("eu-west-1").build();
 * String arn = kms.createKey("snapshots").arn();
 * byte[] blob = kms.encrypt(arn, plaintext, Map.of("tenant", "t1")).ciphertextBlob();
 * }</pre>
 *
 * <p><b>Thread-safety:</b> thread-safe. Every operation runs under one lock (injected latency is
 * served outside it, so slow calls overlap); the views {@link #asCaller} returns share it, so a
 * call is authorized against the key policy in force when it runs, not when it was made.
 *
 * <p><b>Nullness:</b> parameters and results are non-null unless marked {@code @Nullable}. A
 * missing or empty value where AWS requires one is answered like AWS, with a {@link
 * LocalKmsException} {@code ValidationException}, not with a {@code NullPointerException}.
 *
 * <h2>Semantics</h2>
 *
 * <ul>
 *   <li><b>Key ids:</b> key-taking operations accept a key id, a key ARN, an alias name ({@code
 *       alias/...}) or an alias ARN where AWS does (describe, data-plane operations); lifecycle and
 *       rotation operations accept only a key id or key ARN, as in AWS. Malformed ARNs are {@code
 *       InvalidArnException}; unknown keys and ARNs of another region or account are {@code
 *       NotFoundException}.
 *   <li><b>Ciphertext blobs</b> are opaque bytes naming the key and key material and holding an
 *       AES-256-GCM encryption whose associated data is the key id, material id and canonical
 *       encryption context: a context mismatch or any flipped bit is {@code
 *       InvalidCiphertextException}; a {@code KeyId} on Decrypt that is not the blob's key is
 *       {@code IncorrectKeyException}.
 *   <li><b>Key states:</b> a Disabled key refuses crypto with {@code DisabledException}; pending
 *       deletion or import, or unavailable, with {@code KMSInvalidStateException}. {@link
 *       #scheduleKeyDeletion} takes 7..30 days from the clock; once the clock passes the deletion
 *       date the key and its aliases are gone ({@code NotFoundException}). {@link
 *       #cancelKeyDeletion} leaves the key Disabled, as AWS does.
 *   <li><b>Rotation:</b> {@link #rotateKeyOnDemand} (at most 25 times per key) and automatic
 *       rotation (when the clock passes the next rotation date) add key material; the new material
 *       encrypts, every old one still decrypts.
 *   <li><b>Eventual consistency:</b> with {@link #eventualConsistency(Duration)} set, a change of
 *       key state, access or alias target made at {@code t} is seen by describe, list and
 *       data-plane calls only from {@code t + delay} on (measured on the clock). Lifecycle and
 *       alias operations check their preconditions against the newest state.
 *   <li><b>Key policies:</b> {@link #putKeyPolicy} / {@link #getKeyPolicy} with a documented subset
 *       of AWS evaluation (Allow/Deny, principals, actions, encryption-context conditions); without
 *       a put policy a key has AWS's default policy, which allows every caller of the account.
 *       Calls run as the account root unless made through {@link #asCaller}.
 *   <li><b>Grants:</b> {@link #createGrant} gives a grantee principal some operations on a key,
 *       whatever the key policy says; it answers a grant token. Like AWS, a new grant is eventually
 *       consistent: under {@link #eventualConsistency(Duration)} a call sees it only from {@code
 *       creation + delay} on, unless the call carries its token ({@link #withGrantTokens}), which
 *       makes it effective at once. An unknown token is {@code InvalidGrantTokenException}. {@link
 *       #revokeGrant} removes a grant. Not modelled: grant constraints, retiring principals,
 *       ListGrants.
 *   <li><b>Multi-Region keys:</b> {@link #createMultiRegionKey} makes a primary key with an {@code
 *       mrk-} id; {@link #replicateKey} makes a replica in another {@code InMemoryKms} (another
 *       Region) with the same key id and key material, so a ciphertext of one decrypts with any
 *       other. DescribeKey reports the multi-Region configuration. An on-demand rotation of the
 *       primary reaches every replica; replicas cannot be rotated themselves. Each replica has its
 *       own state (disable, schedule deletion) and key policy, as in AWS.
 *   <li><b>Not modelled:</b> asymmetric and HMAC keys, IAM policies, tags, imported key material,
 *       pagination.
 * </ul>
 *
 * <h2>Test controls</h2>
 *
 * <p>{@link #denyAccess}, {@link #forceKeyState}, the fault injection methods ({@link #failNext},
 * {@link #startOutage}, {@link #throttle}, {@link #injectLatency}) and the call log ({@link
 * #calls(String)}, {@link #callLog()}) are not KMS operations: they are neither logged nor subject
 * to faults. Every KMS operation goes through, in order: latency, the next scripted error for the
 * operation, the outage, throttling, then the operation itself; its outcome ({@code OK} or the
 * error code) is logged.
 */
@NullMarked
public final class InMemoryKms {
  /** The operations this fake implements, by their AWS names. */
  public static final Set<String> OPERATIONS =
      Collections.unmodifiableSet(
          new java.util.LinkedHashSet<>(
              Arrays.asList(
                  "CreateKey",
                  "DescribeKey",
                  "CreateAlias",
                  "UpdateAlias",
                  "DeleteAlias",
                  "ListAliases",
                  "GenerateDataKey",
                  "GenerateDataKeyWithoutPlaintext",
                  "Encrypt",
                  "Decrypt",
                  "ReEncrypt",
                  "EnableKey",
                  "DisableKey",
                  "ScheduleKeyDeletion",
                  "CancelKeyDeletion",
                  "EnableKeyRotation",
                  "DisableKeyRotation",
                  "GetKeyRotationStatus",
                  "RotateKeyOnDemand",
                  "ListKeyRotations",
                  "PutKeyPolicy",
                  "GetKeyPolicy",
                  "CreateGrant",
                  "RevokeGrant")));

  /** The key of {@link #failNextCalls} errors in the scripted-error queues. */
  private static final String ANY_OPERATION = "*";

  /** The outcome recorded in the call log for a successful call. */
  public static final String OK = "OK";

  private static final Pattern KEY_ID =
      Pattern.compile(
          "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}");

  /** The operations a grant may allow, as CreateGrant's {@code Operations} names them. */
  public static final Set<String> GRANT_OPERATIONS =
      Set.of(
          "Decrypt",
          "Encrypt",
          "GenerateDataKey",
          "GenerateDataKeyWithoutPlaintext",
          "ReEncryptFrom",
          "ReEncryptTo",
          "DescribeKey",
          "CreateGrant",
          "RetireGrant");

  private static final Pattern KMS_ARN =
      Pattern.compile("arn:aws[a-z-]*:kms:([a-z0-9-]+):([0-9]{12}):(key|alias)/(.+)");
  private static final Pattern ALIAS_NAME = Pattern.compile("alias/[a-zA-Z0-9/_-]{1,250}");
  private static final Pattern PRINCIPAL =
      Pattern.compile("arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:[\\w+=,.@/-]+");
  private static final int MAX_KEY_ID_CHARS = 2048;
  private static final int MAX_POLICY_CHARS = 32768;
  private static final int MAX_BLOB_BYTES = 6144;
  private static final int MAX_PLAINTEXT_BYTES = 4096;
  private static final int MAX_DATA_KEY_BYTES = 1024;
  private static final int MAX_ON_DEMAND_ROTATIONS = 25;
  private static final Map<KeyState, String> AWS_STATE_NAMES = awsStateNames();

  /**
   * Waits out injected latency. The default really sleeps; tests should pass one that advances a
   * manual clock instead (for example {@code manualClock::advance}) so they never sleep.
   */
  @FunctionalInterface
  public interface Sleeper {
    /**
     * Waits.
     *
     * @param duration how long, positive
     * @throws InterruptedException if interrupted (the call then fails with {@code
     *     DependencyTimeoutException})
     */
    void sleep(Duration duration) throws InterruptedException;

    /** {@return a sleeper that calls {@link Thread#sleep(long, int)}} */
    static Sleeper system() {
      return d -> Thread.sleep(d.toMillis(), d.toNanosPart() % 1_000_000);
    }
  }

  /**
   * A key's metadata, as DescribeKey and CreateKey return it.
   *
   * @param keyId the key id (a UUID)
   * @param arn the key ARN
   * @param awsAccountId the owning account
   * @param creationDate when the key was created
   * @param enabled whether the state is {@link KeyState#ENABLED}
   * @param description the description given at creation
   * @param keyState the state; {@link #keyStateName()} gives the AWS spelling
   * @param deletionDate the deletion date when pending deletion, else {@code null}
   * @param pendingDeletionWindowInDays the waiting period when pending deletion, else {@code null}
   * @param currentKeyMaterialId the id of the key material that encrypts now (64 hex digits)
   * @param multiRegionConfiguration the multi-Region configuration of a multi-Region key, else
   *     {@code null}
   */
  public record KeyMetadata(
      String keyId,
      String arn,
      String awsAccountId,
      Instant creationDate,
      boolean enabled,
      String description,
      KeyState keyState,
      @Nullable Instant deletionDate,
      @Nullable Integer pendingDeletionWindowInDays,
      String currentKeyMaterialId,
      @Nullable MultiRegionConfiguration multiRegionConfiguration) {
    /**
     * Creates the metadata of a single-Region key.
     *
     * @param keyId the key id
     * @param arn the key ARN
     * @param awsAccountId the owning account
     * @param creationDate when the key was created
     * @param enabled whether the state is {@link KeyState#ENABLED}
     * @param description the description given at creation
     * @param keyState the state
     * @param deletionDate the deletion date when pending deletion, else {@code null}
     * @param pendingDeletionWindowInDays the waiting period when pending deletion, else {@code
     *     null}
     * @param currentKeyMaterialId the id of the key material that encrypts now
     */
    public KeyMetadata(
        String keyId,
        String arn,
        String awsAccountId,
        Instant creationDate,
        boolean enabled,
        String description,
        KeyState keyState,
        @Nullable Instant deletionDate,
        @Nullable Integer pendingDeletionWindowInDays,
        String currentKeyMaterialId) {
      this(
          keyId,
          arn,
          awsAccountId,
          creationDate,
          enabled,
          description,
          keyState,
          deletionDate,
          pendingDeletionWindowInDays,
          currentKeyMaterialId,
          null);
    }

    /** {@return whether it is a multi-Region key (primary or replica)} */
    public boolean multiRegion() {
      return multiRegionConfiguration != null;
    }

    /** {@return the state as AWS spells it on the wire, e.g. {@code PendingDeletion}} */
    public String keyStateName() {
      return awsKeyState(keyState);
    }
  }

  /**
   * The multi-Region configuration of a key, as DescribeKey reports it.
   *
   * @param multiRegionKeyType {@code PRIMARY} or {@code REPLICA} (this key's role)
   * @param primaryKeyArn the primary key's ARN
   * @param replicaKeyArns the replicas' ARNs, in creation order
   */
  public record MultiRegionConfiguration(
      String multiRegionKeyType, String primaryKeyArn, List<String> replicaKeyArns) {
    /**
     * Creates the value, copying the list.
     *
     * @param multiRegionKeyType {@code PRIMARY} or {@code REPLICA}
     * @param primaryKeyArn the primary key's ARN
     * @param replicaKeyArns the replicas' ARNs
     */
    public MultiRegionConfiguration {
      replicaKeyArns = List.copyOf(replicaKeyArns);
    }
  }

  /**
   * A grant, as CreateGrant answers it.
   *
   * @param grantId the grant id
   * @param grantToken the token a caller passes in {@code GrantTokens} to use the grant before it
   *     is consistent
   */
  public record Grant(String grantId, String grantToken) {
    @Override
    public String toString() {
      return "Grant[" + grantId + "]";
    }
  }

  /**
   * An alias, as ListAliases returns it.
   *
   * @param aliasName {@code alias/...}
   * @param aliasArn the alias ARN
   * @param targetKeyId the key id (not ARN) it points to
   */
  public record AliasEntry(String aliasName, String aliasArn, String targetKeyId) {}

  /**
   * The result of GenerateDataKey, GenerateDataKeyWithoutPlaintext and Encrypt. Arrays are copied
   * in and out; {@link #toString()} never shows the plaintext.
   *
   * @param keyId the ARN of the key that encrypted
   * @param ciphertextBlob the opaque blob
   * @param plaintext the data key (GenerateDataKey only), else {@code null}
   * @param keyMaterialId the key material that encrypted
   */
  public record CiphertextResult(
      String keyId, byte[] ciphertextBlob, byte @Nullable [] plaintext, String keyMaterialId) {
    /**
     * Creates the value, copying the arrays.
     *
     * @param keyId the ARN of the key that encrypted
     * @param ciphertextBlob the opaque blob
     * @param plaintext the data key, or {@code null}
     * @param keyMaterialId the key material that encrypted
     */
    public CiphertextResult {
      ciphertextBlob = ciphertextBlob.clone();
      plaintext = plaintext == null ? null : plaintext.clone();
    }

    /** {@return a copy of the blob} */
    @Override
    public byte[] ciphertextBlob() {
      return ciphertextBlob.clone();
    }

    /** {@return a copy of the data key, or {@code null}} */
    @Override
    public byte @Nullable [] plaintext() {
      return plaintext == null ? null : plaintext.clone();
    }

    @Override
    public String toString() {
      return "CiphertextResult["
          + keyId
          + ", "
          + ciphertextBlob.length
          + " bytes, material "
          + keyMaterialId
          + (plaintext == null ? "" : ", plaintext=<redacted>")
          + "]";
    }
  }

  /**
   * The result of Decrypt. {@link #toString()} never shows the plaintext.
   *
   * @param keyId the ARN of the key that decrypted
   * @param plaintext the plaintext; copied in and out
   * @param keyMaterialId the key material that decrypted
   */
  public record DecryptResult(String keyId, byte[] plaintext, String keyMaterialId) {
    /**
     * Creates the value, copying the array.
     *
     * @param keyId the ARN of the key that decrypted
     * @param plaintext the plaintext
     * @param keyMaterialId the key material that decrypted
     */
    public DecryptResult {
      plaintext = plaintext.clone();
    }

    /** {@return a copy of the plaintext} */
    @Override
    public byte[] plaintext() {
      return plaintext.clone();
    }

    @Override
    public String toString() {
      return "DecryptResult[" + keyId + ", material " + keyMaterialId + ", plaintext=<redacted>]";
    }
  }

  /**
   * The result of ReEncrypt.
   *
   * @param sourceKeyId the ARN of the key that decrypted
   * @param keyId the ARN of the key that encrypted
   * @param ciphertextBlob the new blob; copied in and out
   * @param sourceKeyMaterialId the key material that decrypted
   * @param destinationKeyMaterialId the key material that encrypted
   */
  public record ReEncryptResult(
      String sourceKeyId,
      String keyId,
      byte[] ciphertextBlob,
      String sourceKeyMaterialId,
      String destinationKeyMaterialId) {
    /**
     * Creates the value, copying the array.
     *
     * @param sourceKeyId the ARN of the key that decrypted
     * @param keyId the ARN of the key that encrypted
     * @param ciphertextBlob the new blob
     * @param sourceKeyMaterialId the key material that decrypted
     * @param destinationKeyMaterialId the key material that encrypted
     */
    public ReEncryptResult {
      ciphertextBlob = ciphertextBlob.clone();
    }

    /** {@return a copy of the new blob} */
    @Override
    public byte[] ciphertextBlob() {
      return ciphertextBlob.clone();
    }

    @Override
    public String toString() {
      return "ReEncryptResult["
          + sourceKeyId
          + " -> "
          + keyId
          + ", "
          + ciphertextBlob.length
          + " bytes]";
    }
  }

  /**
   * The result of ScheduleKeyDeletion.
   *
   * @param keyId the key ARN
   * @param deletionDate when the key will be deleted
   * @param keyState {@link KeyState#PENDING_DELETION}
   * @param pendingWindowInDays the waiting period
   */
  public record DeletionSchedule(
      String keyId, Instant deletionDate, KeyState keyState, int pendingWindowInDays) {}

  /**
   * The result of GetKeyRotationStatus.
   *
   * @param keyId the key ARN
   * @param keyRotationEnabled whether automatic rotation is on
   * @param rotationPeriodInDays the period when on, else {@code null}
   * @param nextRotationDate the next automatic rotation when on, else {@code null}
   */
  public record KeyRotationStatus(
      String keyId,
      boolean keyRotationEnabled,
      @Nullable Integer rotationPeriodInDays,
      @Nullable Instant nextRotationDate) {}

  /**
   * One completed rotation, as ListKeyRotations returns it (rotations only, not the original
   * material).
   *
   * @param keyId the key ARN
   * @param keyMaterialId the material the rotation created
   * @param rotationDate when
   * @param rotationType {@code AUTOMATIC} or {@code ON_DEMAND}
   * @param current whether this material encrypts now ({@code KeyMaterialState} {@code CURRENT})
   */
  public record RotationEntry(
      String keyId,
      String keyMaterialId,
      Instant rotationDate,
      String rotationType,
      boolean current) {}

  /**
   * One logged KMS call.
   *
   * @param operation the AWS operation name, e.g. {@code Decrypt}
   * @param keyId the key id as the caller gave it, or {@code null} if the call named none
   * @param outcome {@link #OK} or the AWS error code
   */
  public record Call(String operation, @Nullable String keyId, String outcome) {
    /** {@return whether the call succeeded} */
    public boolean succeeded() {
      return OK.equals(outcome);
    }
  }

  private final Object lock;
  private final Clock clock;
  private final String region;
  private final String accountId;
  private final SecureRandom random;
  private final Map<String, KmsKey> keys;
  private final Set<String> deletedKeyIds;
  private final Map<String, Versioned<Target>> aliases;
  private final List<Call> log;
  private final Map<String, Deque<String>> scripted;
  private final Shared shared;
  private final String caller;
  private final KeyPolicy defaultPolicy;
  private final Map<String, GrantEntry> grants;
  private final List<String> grantTokens;

  /**
   * Mutable settings every view ({@link #asCaller}) of one KMS shares; read and written under the
   * lock.
   */
  private static final class Shared {
    Duration consistencyDelay = Duration.ZERO;
    Duration latency = Duration.ZERO;
    Sleeper sleeper = Sleeper.system();
    @Nullable String outageCode;
    double throttleRate;
    Random throttleRandom = new Random(0);

    /** The operation being served, for authorization; set by {@code call} under the lock. */
    String operation = "";
  }

  /** An alias target at one moment: a key id, or {@code null} when the alias does not exist. */
  private static final class Target {
    final @Nullable String keyId;

    Target(@Nullable String keyId) {
      this.keyId = keyId;
    }
  }

  private InMemoryKms(Builder b) {
    this.lock = new Object();
    this.random = new SecureRandom();
    this.keys = new LinkedHashMap<>();
    this.deletedKeyIds = new HashSet<>();
    this.aliases = new TreeMap<>();
    this.log = new ArrayList<>();
    this.scripted = new LinkedHashMap<>();
    this.clock = b.clock;
    this.region = b.region;
    this.accountId = b.accountId;
    this.shared = new Shared();
    this.caller = "arn:aws:iam::" + accountId + ":root";
    this.defaultPolicy = KeyPolicy.defaultPolicy(accountId);
    this.grants = new LinkedHashMap<>();
    this.grantTokens = List.of();
  }

  /**
   * A view of {@code base}'s keys, faults and call log, acting as {@code caller} with {@code
   * grantTokens}.
   */
  private InMemoryKms(InMemoryKms base, String caller, List<String> grantTokens) {
    this.lock = base.lock;
    this.clock = base.clock;
    this.region = base.region;
    this.accountId = base.accountId;
    this.random = base.random;
    this.keys = base.keys;
    this.deletedKeyIds = base.deletedKeyIds;
    this.aliases = base.aliases;
    this.log = base.log;
    this.scripted = base.scripted;
    this.shared = base.shared;
    this.caller = caller;
    this.defaultPolicy = base.defaultPolicy;
    this.grants = base.grants;
    this.grantTokens = grantTokens;
  }

  /**
   * The same KMS (keys, policies, faults, call log) as seen by another caller: every operation of
   * the returned view is authorized against key policies as {@code principalArn}. This object acts
   * as the account root, {@code arn:aws:iam::<account>:root}. {@link LocalKmsServer} serves each
   * request through the view of the caller it identifies.
   *
   * @param principalArn an IAM principal ARN, e.g. {@code
   *     arn:aws:iam::111122223333:role/storage-host}
   * @return a view sharing everything with this KMS but the caller
   * @throws IllegalArgumentException if it is not an IAM or STS principal ARN
   */
  public InMemoryKms asCaller(String principalArn) {
    checkPrincipal(principalArn);
    return principalArn.equals(caller) ? this : new InMemoryKms(this, principalArn, grantTokens);
  }

  /**
   * The same KMS and caller, passing {@code tokens} as {@code GrantTokens} on every call: grants
   * whose tokens are passed are effective at once, before they are consistent. Every token must be
   * one {@link #createGrant} answered, else calls fail with {@code InvalidGrantTokenException}.
   *
   * @param tokens grant tokens, at most 10 (empty for none)
   * @return a view sharing everything with this KMS but the tokens
   * @throws IllegalArgumentException if there are more than 10 tokens or one is blank
   */
  public InMemoryKms withGrantTokens(List<String> tokens) {
    List<String> copy = List.copyOf(tokens);
    if (copy.size() > 10 || copy.stream().anyMatch(String::isBlank)) {
      throw new IllegalArgumentException("GrantTokens must be 0..10 non-blank tokens");
    }
    return copy.equals(grantTokens) ? this : new InMemoryKms(this, caller, copy);
  }

  /** {@return the grant tokens this view passes on every call} */
  public List<String> grantTokens() {
    return grantTokens;
  }

  /**
   * Checks that a principal ARN names an IAM or STS principal.
   *
   * @throws IllegalArgumentException if {@code principalArn} is not an IAM or STS principal ARN
   */
  static void checkPrincipal(String principalArn) {
    Objects.requireNonNull(principalArn, "principalArn");
    if (!PRINCIPAL.matcher(principalArn).matches()) {
      throw new IllegalArgumentException(
          "principalArn must look like arn:aws:iam::111122223333:role/name, was '"
              + principalArn
              + "'");
    }
  }

  /** {@return the principal ARN this view's calls are authorized as} */
  public String caller() {
    return caller;
  }

  /**
   * {@return a KMS with the defaults: system UTC clock, {@code us-east-1}, account {@code
   * 111122223333}}
   */
  public static InMemoryKms create() {
    return builder().build();
  }

  /** {@return a builder with the defaults} */
  public static Builder builder() {
    return new Builder();
  }

  /** {@return the clock every date and delay is measured on} */
  public Clock clock() {
    return clock;
  }

  /** {@return the region in the ARNs} */
  public String region() {
    return region;
  }

  /** {@return the account in the ARNs} */
  public String accountId() {
    return accountId;
  }

  /**
   * {@return its AWS wire spelling, e.g. {@code PendingDeletion}}
   *
   * @param state a key state
   */
  public static String awsKeyState(KeyState state) {
    return AWS_STATE_NAMES.getOrDefault(Objects.requireNonNull(state, "state"), "Unknown");
  }

  // ---------------------------------------------------------------- key management operations

  /**
   * CreateKey: a symmetric ENCRYPT_DECRYPT key, Enabled, with fresh key material.
   *
   * @return its metadata
   */
  public KeyMetadata createKey() {
    return createKey("");
  }

  /**
   * CreateKey with a description.
   *
   * @param description free text, at most 8192 characters
   * @return its metadata
   */
  public KeyMetadata createKey(String description) {
    return createKey(description, null, false);
  }

  /**
   * CreateKey with a description and a key policy.
   *
   * @param description free text, at most 8192 characters
   * @param policy the key policy (see {@link #putKeyPolicy}), or {@code null} for the default
   * @param bypassPolicyLockoutSafetyCheck as for {@link #putKeyPolicy}
   * @return its metadata
   */
  public KeyMetadata createKey(
      String description, @Nullable String policy, boolean bypassPolicyLockoutSafetyCheck) {
    return call(
        "CreateKey",
        null,
        () -> {
          if (description == null || description.length() > 8192) {
            throw error(LocalKmsException.VALIDATION, "Description must be 0..8192 characters");
          }
          KeyPolicy parsed =
              policy == null ? null : parsePolicy(policy, bypassPolicyLockoutSafetyCheck);
          String id = UUID.randomUUID().toString();
          KmsKey key =
              new KmsKey(id, arnPrefix() + "key/" + id, now(), description, parsed, random);
          keys.put(id, key);
          return metadata(key, key.status.latest());
        });
  }

  /**
   * CreateKey with {@code MultiRegion=true}: a multi-Region primary key with an {@code mrk-} key
   * id, Enabled, with fresh key material. Replicate it with {@link #replicateKey}.
   *
   * @param description free text, at most 8192 characters
   * @param policy the key policy (see {@link #putKeyPolicy}), or {@code null} for the default
   * @param bypassPolicyLockoutSafetyCheck as for {@link #putKeyPolicy}
   * @return its metadata
   */
  public KeyMetadata createMultiRegionKey(
      String description, @Nullable String policy, boolean bypassPolicyLockoutSafetyCheck) {
    return call(
        "CreateKey",
        null,
        () -> {
          if (description == null || description.length() > 8192) {
            throw error(LocalKmsException.VALIDATION, "Description must be 0..8192 characters");
          }
          KeyPolicy parsed =
              policy == null ? null : parsePolicy(policy, bypassPolicyLockoutSafetyCheck);
          byte[] idBytes = new byte[16];
          random.nextBytes(idBytes);
          String id = "mrk-" + java.util.HexFormat.of().formatHex(idBytes);
          String arn = arnPrefix() + "key/" + id;
          KmsKey key = new KmsKey(id, arn, now(), description, parsed, random);
          key.multiRegion = new KmsKey.MultiRegion(arn);
          keys.put(id, key);
          return metadata(key, key.status.latest());
        });
  }

  /**
   * {@return a new multi-Region primary key with the default policy}
   *
   * @param description free text, at most 8192 characters
   */
  public KeyMetadata createMultiRegionKey(String description) {
    return createMultiRegionKey(description, null, false);
  }

  /**
   * ReplicateKey, programmatically (each {@code InMemoryKms} is one Region, so this is a test
   * control across two of them rather than a logged operation): creates in {@code replicaRegion} a
   * replica of this KMS's multi-Region primary key, Enabled, with the same key id, key material and
   * description and the default key policy. Later on-demand rotations of the primary reach it.
   *
   * @param keyId key id or key ARN of a multi-Region primary key in this KMS
   * @param replicaRegion the KMS of another Region of the same account
   * @return the replica's metadata
   * @throws LocalKmsException {@code NotFoundException} for an unknown key, {@code
   *     UnsupportedOperationException} for a key that is not a multi-Region primary, {@code
   *     ValidationException} for the same Region or another account, {@code AlreadyExistsException}
   *     if the Region already has the replica
   */
  public KeyMetadata replicateKey(String keyId, InMemoryKms replicaRegion) {
    Objects.requireNonNull(replicaRegion, "replicaRegion");
    KmsKey primary;
    List<KmsKey.Material> materials;
    synchronized (lock) {
      sweep();
      primary = resolve(keyId, false);
      KmsKey.MultiRegion mr = primary.multiRegion;
      if (mr == null || !mr.primaryArn.equals(primary.arn)) {
        throw error(
            LocalKmsException.UNSUPPORTED_OPERATION,
            primary.arn + " is not a multi-Region primary key");
      }
      if (replicaRegion.region.equals(region) || !replicaRegion.accountId.equals(accountId)) {
        throw error(
            LocalKmsException.VALIDATION,
            "ReplicaRegion must be another Region of account " + accountId);
      }
      materials = List.copyOf(primary.materials);
    }
    KmsKey.MultiRegion mr = Objects.requireNonNull(primary.multiRegion);
    KeyMetadata r = replicaRegion.acceptReplica(primary, materials);
    mr.replicas.add(replicaRegion);
    mr.replicaArns.add(r.arn());
    return new KeyMetadata(
        r.keyId(),
        r.arn(),
        r.awsAccountId(),
        r.creationDate(),
        r.enabled(),
        r.description(),
        r.keyState(),
        r.deletionDate(),
        r.pendingDeletionWindowInDays(),
        r.currentKeyMaterialId(),
        new MultiRegionConfiguration("REPLICA", mr.primaryArn, List.copyOf(mr.replicaArns)));
  }

  /** Creates the replica of {@code primary} in this KMS (called by the primary's KMS). */
  private KeyMetadata acceptReplica(KmsKey primary, List<KmsKey.Material> materials) {
    synchronized (lock) {
      sweep();
      if (keys.containsKey(primary.keyId) || deletedKeyIds.contains(primary.keyId)) {
        throw error(
            LocalKmsException.ALREADY_EXISTS,
            primary.keyId + " already has a replica in " + region);
      }
      Instant now = now();
      KmsKey key =
          new KmsKey(
              primary.keyId,
              arnPrefix() + "key/" + primary.keyId,
              now,
              primary.description,
              new KmsKey.Status(KeyState.ENABLED, null, null, false, null),
              materials,
              false,
              0,
              null);
      key.multiRegion = primary.multiRegion;
      keys.put(key.keyId, key);
      return metadata(key, key.status.latest());
    }
  }

  /** Adds the primary's newer key material to this KMS's replica of it, if it still exists. */
  private void syncReplica(String keyId, List<KmsKey.Material> materials) {
    synchronized (lock) {
      KmsKey key = keys.get(keyId);
      if (key == null) {
        return;
      }
      for (KmsKey.Material m : materials) {
        if (key.material(m.idBytes) == null) {
          key.materials.add(m);
        }
      }
    }
  }

  /**
   * CreateGrant: allows {@code granteePrincipal} the {@code operations} on the key whatever its key
   * policy says (the deny switch of {@link #denyAccess} still wins). Calls see the grant once it is
   * consistent (see {@link #eventualConsistency}), or at once when they pass its token.
   *
   * @param keyId key id or key ARN
   * @param granteePrincipal an IAM principal ARN
   * @param operations some of {@link #GRANT_OPERATIONS}, at least one
   * @return the grant id and token
   */
  public Grant createGrant(String keyId, String granteePrincipal, Set<String> operations) {
    return call(
        "CreateGrant",
        keyId,
        () -> {
          if (granteePrincipal == null || !PRINCIPAL.matcher(granteePrincipal).matches()) {
            throw error(
                LocalKmsException.VALIDATION,
                "GranteePrincipal must be an IAM principal ARN, was " + granteePrincipal);
          }
          if (operations == null
              || operations.isEmpty()
              || !GRANT_OPERATIONS.containsAll(operations)) {
            throw error(
                LocalKmsException.VALIDATION,
                "Operations must be 1 or more of " + GRANT_OPERATIONS + ", was " + operations);
          }
          KmsKey key = resolve(keyId, false);
          checkAccess(key, visible(key));
          byte[] id = new byte[32];
          byte[] token = new byte[48];
          random.nextBytes(id);
          random.nextBytes(token);
          Grant g =
              new Grant(
                  java.util.HexFormat.of().formatHex(id),
                  java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(token));
          grants.put(
              g.grantId(),
              new GrantEntry(g, key.keyId, granteePrincipal, Set.copyOf(operations), now()));
          return g;
        });
  }

  /**
   * RevokeGrant: the grant stops allowing anything at once, and its token becomes invalid.
   *
   * @param keyId key id or key ARN of the grant's key
   * @param grantId the grant id
   */
  public void revokeGrant(String keyId, String grantId) {
    call(
        "RevokeGrant",
        keyId,
        () -> {
          KmsKey key = resolve(keyId, false);
          checkAccess(key, visible(key));
          GrantEntry g = grants.get(grantId);
          if (g == null || !g.keyId.equals(key.keyId)) {
            throw error(LocalKmsException.NOT_FOUND, "Grant " + grantId + " does not exist");
          }
          grants.remove(grantId);
          return null;
        });
  }

  /** A grant and what it allows; immutable. */
  private static final class GrantEntry {
    final Grant grant;
    final String keyId;
    final String grantee;
    final Set<String> operations;
    final Instant created;

    GrantEntry(Grant grant, String keyId, String grantee, Set<String> operations, Instant created) {
      this.grant = grant;
      this.keyId = keyId;
      this.grantee = grantee;
      this.operations = operations;
      this.created = created;
    }
  }

  /**
   * DescribeKey: works in every state; a deleted key is {@code NotFoundException}.
   *
   * @param keyId key id, key ARN, alias name or alias ARN
   * @return the metadata as currently visible
   */
  public KeyMetadata describeKey(String keyId) {
    return call(
        "DescribeKey",
        keyId,
        () -> {
          KmsKey key = resolve(keyId, true);
          KmsKey.Status s = visible(key);
          checkAccess(key, s);
          return metadata(key, s);
        });
  }

  /**
   * EnableKey. Enabling an enabled key succeeds; a key pending deletion, pending import or
   * unavailable is {@code KMSInvalidStateException}.
   *
   * @param keyId key id or key ARN
   */
  public void enableKey(String keyId) {
    call(
        "EnableKey",
        keyId,
        () -> {
          KmsKey key = lifecycleTarget(keyId);
          change(key, key.status.latest().withState(KeyState.ENABLED));
          return null;
        });
  }

  /**
   * DisableKey; same preconditions as {@link #enableKey}.
   *
   * @param keyId key id or key ARN
   */
  public void disableKey(String keyId) {
    call(
        "DisableKey",
        keyId,
        () -> {
          KmsKey key = lifecycleTarget(keyId);
          change(key, key.status.latest().withState(KeyState.DISABLED));
          return null;
        });
  }

  /**
   * ScheduleKeyDeletion: the key becomes PendingDeletion with a deletion date {@code
   * pendingWindowInDays} after the clock's now; once the clock reaches it the key is deleted.
   *
   * @param keyId key id or key ARN
   * @param pendingWindowInDays 7..30, or {@code null} for 30
   * @return the schedule
   */
  public DeletionSchedule scheduleKeyDeletion(String keyId, @Nullable Integer pendingWindowInDays) {
    return call(
        "ScheduleKeyDeletion",
        keyId,
        () -> {
          int days = pendingWindowInDays == null ? 30 : pendingWindowInDays;
          if (days < 7 || days > 30) {
            throw error(
                LocalKmsException.VALIDATION, "PendingWindowInDays must be 7..30, was " + days);
          }
          KmsKey key = resolve(keyId, false);
          checkAccess(key, visible(key));
          KmsKey.Status latest = key.status.latest();
          if (latest.state == KeyState.PENDING_DELETION) {
            throw stateError(key, latest.state);
          }
          Instant date = now().plus(Duration.ofDays(days));
          change(
              key,
              new KmsKey.Status(
                  KeyState.PENDING_DELETION, date, days, latest.denied, latest.policy));
          return new DeletionSchedule(key.arn, date, KeyState.PENDING_DELETION, days);
        });
  }

  /**
   * CancelKeyDeletion: the key leaves PendingDeletion as Disabled, as in AWS.
   *
   * @param keyId key id or key ARN
   * @return the key ARN
   */
  public String cancelKeyDeletion(String keyId) {
    return call(
        "CancelKeyDeletion",
        keyId,
        () -> {
          KmsKey key = resolve(keyId, false);
          checkAccess(key, visible(key));
          KmsKey.Status latest = key.status.latest();
          if (latest.state != KeyState.PENDING_DELETION) {
            throw stateError(key, latest.state);
          }
          change(key, latest.withState(KeyState.DISABLED));
          return key.arn;
        });
  }

  // ---------------------------------------------------------------- aliases

  /**
   * CreateAlias.
   *
   * @param aliasName {@code alias/...}, not {@code alias/aws/...}
   * @param targetKeyId key id or key ARN (not an alias)
   */
  public void createAlias(String aliasName, String targetKeyId) {
    call(
        "CreateAlias",
        targetKeyId,
        () -> {
          checkAliasName(aliasName);
          Versioned<Target> alias = aliases.get(aliasName);
          if (alias != null && alias.latest().keyId != null) {
            throw error(
                LocalKmsException.ALREADY_EXISTS,
                "An alias with the name " + aliasArn(aliasName) + " already exists");
          }
          KmsKey target = aliasTarget(targetKeyId);
          if (alias == null) {
            aliases.put(aliasName, new Versioned<>(now(), new Target(target.keyId)));
          } else {
            alias.set(now(), new Target(target.keyId), cutoff());
          }
          return null;
        });
  }

  /**
   * UpdateAlias: points an existing alias at another key (manual rotation).
   *
   * @param aliasName the alias
   * @param targetKeyId key id or key ARN (not an alias)
   */
  public void updateAlias(String aliasName, String targetKeyId) {
    call(
        "UpdateAlias",
        targetKeyId,
        () -> {
          Versioned<Target> alias = existingAlias(aliasName);
          KmsKey target = aliasTarget(targetKeyId);
          alias.set(now(), new Target(target.keyId), cutoff());
          return null;
        });
  }

  /**
   * DeleteAlias.
   *
   * @param aliasName the alias
   */
  public void deleteAlias(String aliasName) {
    call(
        "DeleteAlias",
        aliasName,
        () -> {
          existingAlias(aliasName).set(now(), new Target(null), cutoff());
          return null;
        });
  }

  /**
   * ListAliases, sorted by name.
   *
   * @param keyId only aliases of this key (key id or key ARN), or {@code null} for all
   * @return the visible aliases
   */
  public List<AliasEntry> listAliases(@Nullable String keyId) {
    return call(
        "ListAliases",
        keyId,
        () -> {
          KmsKey filter = keyId == null ? null : resolve(keyId, false);
          List<AliasEntry> out = new ArrayList<>();
          for (Map.Entry<String, Versioned<Target>> e : aliases.entrySet()) {
            String target = e.getValue().visible(cutoff()).keyId;
            if (target != null && (filter == null || filter.keyId.equals(target))) {
              out.add(new AliasEntry(e.getKey(), aliasArn(e.getKey()), target));
            }
          }
          return List.copyOf(out);
        });
  }

  // ---------------------------------------------------------------- data plane

  /**
   * GenerateDataKey.
   *
   * @param keyId key id, key ARN, alias name or alias ARN
   * @param encryptionContext bound to the blob
   * @param numberOfBytes 1..1024 (32 for an AES-256 data key)
   * @return the plaintext and wrapped data key
   */
  public CiphertextResult generateDataKey(
      String keyId, Map<String, String> encryptionContext, int numberOfBytes) {
    return call(
        "GenerateDataKey", keyId, () -> newDataKey(keyId, encryptionContext, numberOfBytes, true));
  }

  /**
   * GenerateDataKeyWithoutPlaintext.
   *
   * @param keyId key id, key ARN, alias name or alias ARN
   * @param encryptionContext bound to the blob
   * @param numberOfBytes 1..1024
   * @return the wrapped data key only
   */
  public CiphertextResult generateDataKeyWithoutPlaintext(
      String keyId, Map<String, String> encryptionContext, int numberOfBytes) {
    return call(
        "GenerateDataKeyWithoutPlaintext",
        keyId,
        () -> newDataKey(keyId, encryptionContext, numberOfBytes, false));
  }

  /**
   * Encrypt.
   *
   * @param keyId key id, key ARN, alias name or alias ARN
   * @param plaintext 1..4096 bytes; not retained
   * @param encryptionContext bound to the blob
   * @return the blob
   */
  public CiphertextResult encrypt(
      String keyId, byte[] plaintext, Map<String, String> encryptionContext) {
    return call(
        "Encrypt",
        keyId,
        () -> {
          if (plaintext == null
              || plaintext.length == 0
              || plaintext.length > MAX_PLAINTEXT_BYTES) {
            throw error(
                LocalKmsException.VALIDATION,
                "Plaintext must be 1.." + MAX_PLAINTEXT_BYTES + " bytes");
          }
          KmsKey key = usableKey(keyId, encryptionContext);
          return seal(key, plaintext, encryptionContext, false);
        });
  }

  /**
   * Decrypt.
   *
   * @param ciphertextBlob a blob from this fake
   * @param encryptionContext exactly the context it was encrypted with
   * @param keyId the key expected to have encrypted it (any id form), or {@code null}; a different
   *     key is {@code IncorrectKeyException}
   * @return the plaintext and the key that decrypted
   */
  public DecryptResult decrypt(
      byte[] ciphertextBlob, Map<String, String> encryptionContext, @Nullable String keyId) {
    return call(
        "Decrypt",
        keyId,
        () -> {
          Opened o = open(ciphertextBlob, encryptionContext, keyId);
          try {
            return new DecryptResult(o.key.arn, o.plaintext, o.material.id);
          } finally {
            Arrays.fill(o.plaintext, (byte) 0);
          }
        });
  }

  /**
   * ReEncrypt: decrypts and encrypts inside the fake; the plaintext never leaves it.
   *
   * @param ciphertextBlob a blob from this fake
   * @param sourceEncryptionContext the context it was encrypted with
   * @param sourceKeyId the key expected to have encrypted it, or {@code null}
   * @param destinationKeyId key id, key ARN, alias name or alias ARN
   * @param destinationEncryptionContext the context for the new blob
   * @return the new blob
   */
  public ReEncryptResult reEncrypt(
      byte[] ciphertextBlob,
      Map<String, String> sourceEncryptionContext,
      @Nullable String sourceKeyId,
      String destinationKeyId,
      Map<String, String> destinationEncryptionContext) {
    return call(
        "ReEncrypt",
        destinationKeyId,
        () -> {
          Opened o = open(ciphertextBlob, sourceEncryptionContext, sourceKeyId);
          try {
            KmsKey destination = usableKey(destinationKeyId, destinationEncryptionContext);
            CiphertextResult r =
                seal(destination, o.plaintext, destinationEncryptionContext, false);
            return new ReEncryptResult(
                o.key.arn, destination.arn, r.ciphertextBlob(), o.material.id, r.keyMaterialId());
          } finally {
            Arrays.fill(o.plaintext, (byte) 0);
          }
        });
  }

  // ---------------------------------------------------------------- rotation

  /**
   * EnableKeyRotation: automatic rotation every {@code rotationPeriodInDays} from now on the clock.
   *
   * @param keyId key id or key ARN
   * @param rotationPeriodInDays 90..2560, or {@code null} for 365
   */
  public void enableKeyRotation(String keyId, @Nullable Integer rotationPeriodInDays) {
    call(
        "EnableKeyRotation",
        keyId,
        () -> {
          int days = rotationPeriodInDays == null ? 365 : rotationPeriodInDays;
          if (days < 90 || days > 2560) {
            throw error(
                LocalKmsException.VALIDATION, "RotationPeriodInDays must be 90..2560, was " + days);
          }
          KmsKey key = rotationTarget(keyId);
          key.rotationEnabled = true;
          key.rotationPeriodDays = days;
          key.nextRotation = now().plus(Duration.ofDays(days));
          return null;
        });
  }

  /**
   * DisableKeyRotation.
   *
   * @param keyId key id or key ARN
   */
  public void disableKeyRotation(String keyId) {
    call(
        "DisableKeyRotation",
        keyId,
        () -> {
          KmsKey key = rotationTarget(keyId);
          key.rotationEnabled = false;
          key.nextRotation = null;
          return null;
        });
  }

  /**
   * GetKeyRotationStatus. Works in every state; reports rotation off while the key is pending
   * deletion, as AWS does.
   *
   * @param keyId key id or key ARN
   * @return whether automatic rotation is on, its period and next date
   */
  public KeyRotationStatus getKeyRotationStatus(String keyId) {
    return call(
        "GetKeyRotationStatus",
        keyId,
        () -> {
          KmsKey key = resolve(keyId, false);
          KmsKey.Status s = visible(key);
          checkAccess(key, s);
          // AWS reports rotation off while the key is pending deletion, and restores it on cancel
          return key.rotationEnabled && s.state != KeyState.PENDING_DELETION
              ? new KeyRotationStatus(key.arn, true, key.rotationPeriodDays, key.nextRotation)
              : new KeyRotationStatus(key.arn, false, null, null);
        });
  }

  /**
   * RotateKeyOnDemand: new key material encrypts from now on; blobs under older material still
   * decrypt. At most 25 times per key ({@code LimitExceededException}).
   *
   * @param keyId key id or key ARN
   * @return the key ARN
   */
  public String rotateKeyOnDemand(String keyId) {
    List<KmsKey.Material> materials = new ArrayList<>();
    KmsKey[] rotated = new KmsKey[1];
    String arn =
        call(
            "RotateKeyOnDemand",
            keyId,
            () -> {
              KmsKey key = rotationTarget(keyId);
              if (key.onDemandRotations() >= MAX_ON_DEMAND_ROTATIONS) {
                throw error(
                    LocalKmsException.LIMIT_EXCEEDED,
                    "on-demand rotation limit reached for " + key.arn);
              }
              key.addMaterial(now(), "ON_DEMAND", random);
              materials.addAll(key.materials);
              rotated[0] = key;
              return key.arn;
            });
    KmsKey.MultiRegion mr = rotated[0].multiRegion;
    if (mr != null) {
      // outside this KMS's lock: never hold two Regions' locks at once
      for (InMemoryKms replica : mr.replicas) {
        replica.syncReplica(rotated[0].keyId, materials);
      }
    }
    return arn;
  }

  /**
   * ListKeyRotations (rotations only, oldest first).
   *
   * @param keyId key id or key ARN
   * @return the completed rotations
   */
  public List<RotationEntry> listKeyRotations(String keyId) {
    return call(
        "ListKeyRotations",
        keyId,
        () -> {
          KmsKey key = resolve(keyId, false);
          checkAccess(key, visible(key));
          List<RotationEntry> out = new ArrayList<>();
          KmsKey.Material current = key.current();
          for (KmsKey.Material m : key.materials) {
            if (m.rotationType != null) {
              out.add(new RotationEntry(key.arn, m.id, m.created, m.rotationType, m == current));
            }
          }
          return List.copyOf(out);
        });
  }

  // ---------------------------------------------------------------- key policies

  /**
   * PutKeyPolicy: replaces the key's policy (the only policy name is {@code default}). Subject to
   * {@link #eventualConsistency}, like every access change.
   *
   * <p><b>The modelled subset of key-policy evaluation.</b> A request is allowed when a statement
   * with {@code "Effect": "Allow"} applies to it and no statement with {@code "Effect": "Deny"}
   * does (an explicit Deny wins; no Allow is {@code AccessDeniedException}). A statement applies
   * when all of these hold:
   *
   * <ul>
   *   <li><b>Principal</b> — {@code "*"}, {@code {"AWS": "*"}}, or {@code {"AWS": <ARN or list>}}
   *       naming the caller's principal ARN exactly ({@link #caller()}; see {@link #asCaller}). An
   *       account root ({@code arn:aws:iam::<account>:root} or the 12-digit account id) matches
   *       every caller of that account: IAM policies are not modelled and are taken to allow, which
   *       is how the default key policy lets everyone in the account use the key.
   *   <li><b>Action</b> — {@code kms:<Operation>}, {@code kms:*} or {@code *}, with {@code *} and
   *       {@code ?} wildcards, case-insensitive. Each operation needs the permission of its name,
   *       except ReEncrypt, which needs {@code kms:ReEncryptFrom} on the source key (with the
   *       source encryption context) and {@code kms:ReEncryptTo} on the destination key (with the
   *       destination context). CreateKey and ListAliases concern no existing key and are not
   *       checked; alias operations check their target key.
   *   <li><b>Resource</b> — required; in a key policy every value means this key.
   *   <li><b>Condition</b> (every operator and key must hold; any listed value may match) — {@code
   *       StringEquals} and {@code StringLike} ({@code *}, {@code ?}) on {@code
   *       kms:EncryptionContext:<key>}: the request's encryption context has that key (the key name
   *       compares case-insensitively, the value case-sensitively) with a matching value; a request
   *       without that key, such as DescribeKey or GetKeyRotationStatus, which carry no encryption
   *       context at all, does not match. {@code ForAllValues:StringEquals} on {@code
   *       kms:EncryptionContextKeys}: every key of the request's context is listed (true for an
   *       empty context, as in AWS).
   * </ul>
   *
   * Any other element, principal type, operator or condition key (NotPrincipal, NotAction, {@code
   * aws:*} keys, {@code ...IfExists}, grants) is refused with {@code
   * MalformedPolicyDocumentException} rather than evaluated differently from AWS. The {@link
   * #denyAccess} switch denies on top of any policy.
   *
   * @param keyId key id or key ARN
   * @param policy the policy document, JSON, 1..32768 characters
   * @param bypassPolicyLockoutSafetyCheck without it, a policy that would not let the caller put a
   *     policy again is refused ({@code MalformedPolicyDocumentException}), as in AWS
   */
  public void putKeyPolicy(String keyId, String policy, boolean bypassPolicyLockoutSafetyCheck) {
    call(
        "PutKeyPolicy",
        keyId,
        () -> {
          KeyPolicy parsed = parsePolicy(policy, bypassPolicyLockoutSafetyCheck);
          KmsKey key = resolve(keyId, false);
          checkAccess(key, visible(key));
          change(key, key.status.latest().withPolicy(parsed));
          return null;
        });
  }

  /**
   * GetKeyPolicy: the key's policy as it was put, or, for a key that never had one, the default key
   * policy AWS gives a key (the account root may do everything).
   *
   * @param keyId key id or key ARN
   * @return the policy document
   */
  public String getKeyPolicy(String keyId) {
    return call(
        "GetKeyPolicy",
        keyId,
        () -> {
          KmsKey key = resolve(keyId, false);
          KmsKey.Status s = visible(key);
          checkAccess(key, s);
          return (s.policy != null ? s.policy : defaultPolicy).text();
        });
  }

  private KeyPolicy parsePolicy(@Nullable String policy, boolean bypassLockoutCheck) {
    if (policy == null || policy.isEmpty() || policy.length() > MAX_POLICY_CHARS) {
      throw error(
          LocalKmsException.VALIDATION, "Policy must be 1.." + MAX_POLICY_CHARS + " characters");
    }
    KeyPolicy parsed = KeyPolicy.parse(policy);
    if (!bypassLockoutCheck && !parsed.allows(caller, "kms:PutKeyPolicy", Map.of())) {
      throw error(
          LocalKmsException.MALFORMED_POLICY_DOCUMENT,
          "The new key policy will not allow you to update the key policy in the future ("
              + caller
              + " would lose kms:PutKeyPolicy)");
    }
    return parsed;
  }

  // ---------------------------------------------------------------- test controls

  /**
   * Flips the key's "deny access" switch, as if its key policy stopped (or resumed) granting the
   * caller: while denied, every operation on the key is {@code AccessDeniedException}. Subject to
   * {@link #eventualConsistency}; not logged.
   *
   * @param keyId key id, key ARN, alias name or alias ARN
   * @param denied whether to deny
   */
  public void denyAccess(String keyId, boolean denied) {
    control(
        () -> {
          KmsKey key = resolve(keyId, true);
          change(key, key.status.latest().withDenied(denied));
        });
  }

  /**
   * Puts a key in a state no KMS operation here reaches, to simulate imported key material that
   * expired ({@link KeyState#PENDING_IMPORT}) or a disconnected custom key store ({@link
   * KeyState#UNAVAILABLE}); also accepts ENABLED and DISABLED. Subject to {@link
   * #eventualConsistency}; not logged.
   *
   * @param keyId key id, key ARN, alias name or alias ARN
   * @param state the new state
   * @throws IllegalArgumentException for PENDING_DELETION (use {@link #scheduleKeyDeletion}) and
   *     the other states
   */
  public void forceKeyState(String keyId, KeyState state) {
    Objects.requireNonNull(state, "state");
    if (state != KeyState.PENDING_IMPORT
        && state != KeyState.UNAVAILABLE
        && state != KeyState.ENABLED
        && state != KeyState.DISABLED) {
      throw new IllegalArgumentException(
          "forceKeyState supports PENDING_IMPORT, UNAVAILABLE, ENABLED, DISABLED; was " + state);
    }
    control(
        () -> {
          KmsKey key = resolve(keyId, true);
          change(key, key.status.latest().withState(state));
        });
  }

  /**
   * Sets how long a change (key state, access, alias target) takes to be seen by other calls.
   * Shortening it takes effect at once; lengthening it applies fully to changes made afterwards.
   *
   * @param delay zero (the default) for strong consistency
   */
  public void eventualConsistency(Duration delay) {
    Objects.requireNonNull(delay, "delay");
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative, was " + delay);
    }
    synchronized (lock) {
      shared.consistencyDelay = delay;
    }
  }

  /**
   * Scripts the next call of an operation to fail; several calls queue up, first in first out.
   *
   * @param operation one of {@link #OPERATIONS}
   * @param errorCode one of {@link LocalKmsException#errorCodes()}
   * @throws IllegalArgumentException naming an unknown operation or code
   */
  public void failNext(String operation, String errorCode) {
    checkOperation(operation);
    LocalKmsException.checkCode(errorCode);
    synchronized (lock) {
      scripted.computeIfAbsent(operation, k -> new ArrayDeque<>()).add(errorCode);
    }
  }

  /**
   * Scripts the next {@code calls} KMS calls, whatever their operation, to fail with {@code
   * errorCode}; an error scripted for the operation itself with {@link #failNext} is used first.
   * Unconsumed ones are listed by {@link #unconsumedFaults()} as {@code *: ErrorCode}.
   *
   * @param calls how many calls, 1 or more
   * @param errorCode one of {@link LocalKmsException#errorCodes()}
   * @throws IllegalArgumentException naming a bad count or an unknown code
   */
  public void failNextCalls(int calls, String errorCode) {
    if (calls < 1) {
      throw new IllegalArgumentException("calls must be 1 or more, was " + calls);
    }
    LocalKmsException.checkCode(errorCode);
    synchronized (lock) {
      Deque<String> q = scripted.computeIfAbsent(ANY_OPERATION, k -> new ArrayDeque<>());
      for (int i = 0; i < calls; i++) {
        q.add(errorCode);
      }
    }
  }

  /**
   * Starts a full outage: every call fails with {@code KMSInternalException} until {@link
   * #endOutage()}.
   */
  public void startOutage() {
    startOutage(LocalKmsException.INTERNAL);
  }

  /**
   * Starts a full outage with a chosen server-side error.
   *
   * @param errorCode {@code KMSInternalException}, {@code DependencyTimeoutException} or {@code
   *     KeyUnavailableException}
   */
  public void startOutage(String errorCode) {
    LocalKmsException.checkCode(errorCode);
    if (LocalKmsException.httpStatus(errorCode) < 500) {
      throw new IllegalArgumentException("an outage needs a server error (5xx), not " + errorCode);
    }
    synchronized (lock) {
      shared.outageCode = errorCode;
    }
  }

  /** Ends the outage, if any. */
  public void endOutage() {
    synchronized (lock) {
      shared.outageCode = null;
    }
  }

  /**
   * Throttles a fraction of calls with {@code ThrottlingException}, drawn from a {@link Random}
   * seeded with {@code seed}, so a run is reproducible.
   *
   * @param rate 0 (off) to 1 (every call)
   * @param seed the seed
   */
  public void throttle(double rate, long seed) {
    if (!(rate >= 0 && rate <= 1)) {
      throw new IllegalArgumentException("rate must be 0..1, was " + rate);
    }
    synchronized (lock) {
      shared.throttleRate = rate;
      shared.throttleRandom = new Random(seed);
    }
  }

  /**
   * Adds latency to every call, served by the sleeper outside the lock.
   *
   * @param latency zero (the default) for none
   * @param sleeper how to wait, e.g. one that advances a manual clock
   */
  public void injectLatency(Duration latency, Sleeper sleeper) {
    Objects.requireNonNull(latency, "latency");
    Objects.requireNonNull(sleeper, "sleeper");
    if (latency.isNegative()) {
      throw new IllegalArgumentException("latency must not be negative, was " + latency);
    }
    synchronized (lock) {
      shared.latency = latency;
      shared.sleeper = sleeper;
    }
  }

  /** Turns off every injected fault: scripted errors, outage, throttling, latency. */
  public void clearFaults() {
    synchronized (lock) {
      scripted.clear();
      shared.outageCode = null;
      shared.throttleRate = 0;
      shared.latency = Duration.ZERO;
    }
  }

  /** {@return scripted errors not consumed yet, as {@code Operation: ErrorCode}, in queue order} */
  public List<String> unconsumedFaults() {
    synchronized (lock) {
      List<String> out = new ArrayList<>();
      scripted.forEach((op, q) -> q.forEach(code -> out.add(op + ": " + code)));
      return List.copyOf(out);
    }
  }

  /**
   * The leak check: fails if a scripted error was never consumed, which means the code under test
   * did not make the call the test expected.
   *
   * @throws IllegalStateException listing the unconsumed errors
   */
  public void checkNoUnconsumedFaults() {
    List<String> left = unconsumedFaults();
    if (!left.isEmpty()) {
      throw new IllegalStateException("scripted KMS errors were never consumed: " + left);
    }
  }

  /**
   * {@return how many calls of it were made since the last {@link #resetCallLog()}}
   *
   * @param operation an operation name
   */
  public int calls(String operation) {
    checkOperation(operation);
    synchronized (lock) {
      return (int) log.stream().filter(c -> c.operation().equals(operation)).count();
    }
  }

  /**
   * {@return how many calls of it ended that way since the last {@link #resetCallLog()}}
   *
   * @param operation an operation name
   * @param outcome {@link #OK} or an error code
   */
  public int calls(String operation, String outcome) {
    checkOperation(operation);
    synchronized (lock) {
      return (int)
          log.stream()
              .filter(c -> c.operation().equals(operation) && c.outcome().equals(outcome))
              .count();
    }
  }

  /** {@return every call since the last {@link #resetCallLog()}, oldest first; a snapshot} */
  public List<Call> callLog() {
    synchronized (lock) {
      return List.copyOf(log);
    }
  }

  /** Forgets the logged calls. */
  public void resetCallLog() {
    synchronized (lock) {
      log.clear();
    }
  }

  /**
   * The newest state of a key, for error mapping (byok-testkit's {@code FakeKms} uses it): not a
   * KMS operation, so no log, no faults, no access check and no consistency delay.
   *
   * @param keyId key id, key ARN, alias name or alias ARN, or {@code null}
   * @return the state, or {@code null} if the key cannot be resolved
   */
  public @Nullable KeyState peekState(@Nullable String keyId) {
    if (keyId == null) {
      return null;
    }
    synchronized (lock) {
      try {
        return resolve(keyId, true).status.latest().state;
      } catch (LocalKmsException e) {
        return null;
      }
    }
  }

  // ---------------------------------------------------------------- persistence, for
  // LocalKmsServer

  /**
   * The durable state, for {@link LocalKmsServer}'s state file: every key with its newest status
   * and all its key material (in clear: test material), alias targets and deleted key ids. Faults,
   * the call log and changes not yet visible under {@link #eventualConsistency} are not part of it.
   */
  record State(
      String region,
      String accountId,
      List<KmsKey> keys,
      List<String> deletedKeyIds,
      Map<String, String> aliases) {}

  /** {@return a copy of the durable state, taken under the lock} */
  State exportState() {
    synchronized (lock) {
      sweep();
      Map<String, String> targets = new TreeMap<>();
      aliases.forEach(
          (name, alias) -> {
            String target = alias.latest().keyId;
            if (target != null) {
              targets.put(name, target);
            }
          });
      return new State(
          region,
          accountId,
          keys.values().stream().map(KmsKey::copy).toList(),
          List.copyOf(deletedKeyIds),
          targets);
    }
  }

  /**
   * Replaces every key, alias and deleted key id with {@code state}; faults and the call log stay.
   *
   * @throws IllegalArgumentException if the state belongs to another region or account
   */
  void importState(State state) {
    if (!state.region().equals(region) || !state.accountId().equals(accountId)) {
      throw new IllegalArgumentException(
          "state of "
              + state.region()
              + "/"
              + state.accountId()
              + " cannot be loaded into a fake KMS of "
              + region
              + "/"
              + accountId);
    }
    synchronized (lock) {
      keys.clear();
      deletedKeyIds.clear();
      aliases.clear();
      for (KmsKey key : state.keys()) {
        keys.put(key.keyId, key.copy());
      }
      deletedKeyIds.addAll(state.deletedKeyIds());
      Instant now = now();
      state
          .aliases()
          .forEach((name, target) -> aliases.put(name, new Versioned<>(now, new Target(target))));
    }
  }

  // ---------------------------------------------------------------- machinery

  private <T> T call(String operation, @Nullable String keyId, Supplier<T> body) {
    Duration wait;
    Sleeper s;
    synchronized (lock) {
      wait = shared.latency;
      s = shared.sleeper;
    }
    LocalKmsException interrupted = null;
    if (!wait.isZero()) {
      try {
        s.sleep(wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        interrupted = error(LocalKmsException.DEPENDENCY_TIMEOUT, "interrupted while waiting");
      }
    }
    synchronized (lock) {
      try {
        if (interrupted != null) {
          throw interrupted;
        }
        injectFaults(operation);
        sweep();
        checkGrantTokens();
        shared.operation = operation;
        T result = body.get();
        log.add(new Call(operation, keyId, OK));
        return result;
      } catch (LocalKmsException e) {
        log.add(new Call(operation, keyId, e.errorCode()));
        throw e;
      }
    }
  }

  private void control(Runnable body) {
    synchronized (lock) {
      sweep();
      body.run();
    }
  }

  private void injectFaults(String operation) {
    for (String scriptedFor : new String[] {operation, ANY_OPERATION}) {
      Deque<String> q = scripted.get(scriptedFor);
      if (q != null && !q.isEmpty()) {
        String code = q.poll();
        if (q.isEmpty()) {
          scripted.remove(scriptedFor);
        }
        throw error(code, "scripted failure of " + operation);
      }
    }
    if (shared.outageCode != null) {
      throw error(shared.outageCode, "KMS is unavailable (simulated outage)");
    }
    if (shared.throttleRate > 0 && shared.throttleRandom.nextDouble() < shared.throttleRate) {
      throw error(LocalKmsException.THROTTLING, "Rate exceeded");
    }
  }

  /** Deletes keys whose deletion date has passed and performs due automatic rotations. */
  private void sweep() {
    Instant now = now();
    var it = keys.values().iterator();
    while (it.hasNext()) {
      KmsKey key = it.next();
      KmsKey.Status s = key.status.latest();
      if (s.state == KeyState.PENDING_DELETION
          && s.deletionDate != null
          && !now.isBefore(s.deletionDate)) {
        it.remove();
        deletedKeyIds.add(key.keyId);
        aliases.values().removeIf(a -> key.keyId.equals(a.latest().keyId));
      } else if (key.rotationEnabled
          && key.nextRotation != null
          && !now.isBefore(key.nextRotation)) {
        if (s.state == KeyState.ENABLED) {
          key.addMaterial(key.nextRotation, "AUTOMATIC", random);
        }
        while (!now.isBefore(key.nextRotation)) {
          key.nextRotation = key.nextRotation.plus(Duration.ofDays(key.rotationPeriodDays));
        }
      }
    }
  }

  private CiphertextResult newDataKey(
      String keyId, Map<String, String> context, int numberOfBytes, boolean withPlaintext) {
    if (numberOfBytes < 1 || numberOfBytes > MAX_DATA_KEY_BYTES) {
      throw error(
          LocalKmsException.VALIDATION,
          "NumberOfBytes must be 1.." + MAX_DATA_KEY_BYTES + ", was " + numberOfBytes);
    }
    KmsKey key = usableKey(keyId, context);
    byte[] plaintext = new byte[numberOfBytes];
    random.nextBytes(plaintext);
    try {
      return seal(key, plaintext, context, withPlaintext);
    } finally {
      Arrays.fill(plaintext, (byte) 0);
    }
  }

  private CiphertextResult seal(
      KmsKey key, byte[] plaintext, Map<String, String> context, boolean withPlaintext) {
    KmsKey.Material m = key.current();
    byte[] blob =
        CiphertextBlob.seal(key.keyId, m.idBytes, m.key, plaintext, checkContext(context), random);
    return new CiphertextResult(key.arn, blob, withPlaintext ? plaintext : null, m.id);
  }

  /** A decrypted blob: the key and material that opened it and the plaintext (caller wipes it). */
  private static final class Opened {
    final KmsKey key;
    final KmsKey.Material material;
    final byte[] plaintext;

    Opened(KmsKey key, KmsKey.Material material, byte[] plaintext) {
      this.key = key;
      this.material = material;
      this.plaintext = plaintext;
    }
  }

  private Opened open(byte[] blob, Map<String, String> context, @Nullable String keyId) {
    if (blob == null || blob.length == 0 || blob.length > MAX_BLOB_BYTES) {
      throw error(
          LocalKmsException.VALIDATION, "CiphertextBlob must be 1.." + MAX_BLOB_BYTES + " bytes");
    }
    Map<String, String> ctx = checkContext(context);
    KmsKey requested = keyId == null ? null : resolve(keyId, true);
    CiphertextBlob.Parsed parsed = CiphertextBlob.parse(blob);
    if (parsed == null) {
      throw error(LocalKmsException.INVALID_CIPHERTEXT, "the ciphertext is not valid");
    }
    KmsKey owner = keys.get(parsed.keyId);
    if (owner == null) {
      if (deletedKeyIds.contains(parsed.keyId)) {
        throw error(
            LocalKmsException.NOT_FOUND,
            "Key '" + arnPrefix() + "key/" + parsed.keyId + "' does not exist");
      }
      throw error(LocalKmsException.INVALID_CIPHERTEXT, "the ciphertext refers to no key");
    }
    if (requested != null && requested != owner) {
      throw new LocalKmsException(
          LocalKmsException.INCORRECT_KEY,
          "The key ID in the request does not identify a KMS key that can perform this operation",
          owner.arn,
          null);
    }
    String action = shared.operation.equals("ReEncrypt") ? "kms:ReEncryptFrom" : "kms:Decrypt";
    checkUsable(owner, visible(owner), action, ctx);
    KmsKey.Material material = owner.material(parsed.materialId);
    byte[] plaintext = material == null ? null : CiphertextBlob.open(parsed, material.key, ctx);
    if (material == null || plaintext == null) {
      throw error(
          LocalKmsException.INVALID_CIPHERTEXT,
          "the ciphertext or its encryption context is not valid");
    }
    return new Opened(owner, material, plaintext);
  }

  private static Map<String, String> checkContext(@Nullable Map<String, String> context) {
    if (context == null) {
      return Map.of();
    }
    for (Map.Entry<String, String> e : context.entrySet()) {
      if (e.getKey() == null || e.getKey().isEmpty() || e.getValue() == null) {
        throw error(
            LocalKmsException.VALIDATION,
            "EncryptionContext keys must be non-empty and values non-null");
      }
    }
    return context;
  }

  /**
   * Resolves a key id in any accepted form against what is visible now.
   *
   * @param aliasAllowed whether the operation accepts aliases, as in AWS
   */
  private KmsKey resolve(@Nullable String keyId, boolean aliasAllowed) {
    if (keyId == null || keyId.isEmpty() || keyId.length() > MAX_KEY_ID_CHARS) {
      throw error(
          LocalKmsException.VALIDATION, "KeyId must be 1.." + MAX_KEY_ID_CHARS + " characters");
    }
    String id = keyId;
    String aliasName = null;
    if (keyId.startsWith("arn:")) {
      Matcher m = KMS_ARN.matcher(keyId);
      if (!m.matches()) {
        throw error(LocalKmsException.INVALID_ARN, "Invalid arn " + keyId);
      }
      if (!m.group(1).equals(region) || !m.group(2).equals(accountId)) {
        throw error(LocalKmsException.NOT_FOUND, "Key '" + keyId + "' does not exist");
      }
      if (m.group(3).equals("alias")) {
        aliasName = "alias/" + m.group(4);
      } else {
        id = m.group(4);
      }
    } else if (keyId.startsWith("alias/")) {
      aliasName = keyId;
    }
    if (aliasName != null) {
      if (!aliasAllowed) {
        throw error(LocalKmsException.NOT_FOUND, "Invalid keyId " + keyId);
      }
      Versioned<Target> alias = aliases.get(aliasName);
      String target = alias == null ? null : alias.visible(cutoff()).keyId;
      if (target == null) {
        throw error(LocalKmsException.NOT_FOUND, "Alias " + aliasArn(aliasName) + " is not found.");
      }
      id = target;
    }
    if (!KEY_ID.matcher(id).matches()) {
      throw error(LocalKmsException.NOT_FOUND, "Invalid keyId " + keyId);
    }
    KmsKey key = keys.get(id);
    if (key == null) {
      throw error(
          LocalKmsException.NOT_FOUND, "Key '" + arnPrefix() + "key/" + id + "' does not exist");
    }
    return key;
  }

  /** The key to encrypt under: GenerateDataKey*, Encrypt, or ReEncrypt's destination. */
  private KmsKey usableKey(String keyId, Map<String, String> context) {
    KmsKey key = resolve(keyId, true);
    String action =
        shared.operation.equals("ReEncrypt") ? "kms:ReEncryptTo" : "kms:" + shared.operation;
    checkUsable(key, visible(key), action, checkContext(context));
    return key;
  }

  /**
   * Enable/DisableKey: key id or ARN; refused while pending deletion, pending import, unavailable.
   */
  private KmsKey lifecycleTarget(String keyId) {
    KmsKey key = resolve(keyId, false);
    checkAccess(key, visible(key));
    KeyState state = key.status.latest().state;
    if (state != KeyState.ENABLED && state != KeyState.DISABLED) {
      throw stateError(key, state);
    }
    return key;
  }

  /** Rotation changes: key id or ARN; the key must be enabled. */
  private KmsKey rotationTarget(String keyId) {
    KmsKey key = resolve(keyId, false);
    checkAccess(key, visible(key));
    KmsKey.MultiRegion mr = key.multiRegion;
    if (mr != null && !mr.primaryArn.equals(key.arn)) {
      throw error(
          LocalKmsException.UNSUPPORTED_OPERATION,
          key.arn + " is a multi-Region replica key; rotate its primary " + mr.primaryArn);
    }
    KeyState state = key.status.latest().state;
    if (state == KeyState.DISABLED) {
      throw new LocalKmsException(
          LocalKmsException.DISABLED, key.arn + " is disabled.", key.arn, state);
    }
    if (state != KeyState.ENABLED) {
      throw stateError(key, state);
    }
    return key;
  }

  private KmsKey aliasTarget(String targetKeyId) {
    KmsKey key = resolve(targetKeyId, false);
    checkAccess(key, visible(key));
    KeyState state = key.status.latest().state;
    if (state == KeyState.PENDING_DELETION) {
      throw stateError(key, state);
    }
    return key;
  }

  private Versioned<Target> existingAlias(String aliasName) {
    checkAliasName(aliasName);
    Versioned<Target> alias = aliases.get(aliasName);
    if (alias == null || alias.latest().keyId == null) {
      throw error(LocalKmsException.NOT_FOUND, "Alias " + aliasArn(aliasName) + " is not found.");
    }
    return alias;
  }

  private static void checkAliasName(@Nullable String aliasName) {
    if (aliasName == null
        || !ALIAS_NAME.matcher(aliasName).matches()
        || aliasName.startsWith("alias/aws/")) {
      throw error(
          LocalKmsException.INVALID_ALIAS_NAME,
          "Alias must match alias/[a-zA-Z0-9/_-]+ and not start with alias/aws/: " + aliasName);
    }
  }

  /** Authorizes the operation being served on {@code key}, with no encryption context. */
  private void checkAccess(KmsKey key, KmsKey.Status s) {
    checkAccess(key, s, "kms:" + shared.operation, Map.of());
  }

  /**
   * Authorizes {@code action} by {@link #caller} on {@code key}: the deny switch, then the key
   * policy visible now (or the default policy).
   */
  private void checkAccess(
      KmsKey key, KmsKey.Status s, String action, Map<String, String> context) {
    KeyPolicy policy = s.policy != null ? s.policy : defaultPolicy;
    if (!s.denied && !policy.allows(caller, action, context) && !granted(key, action)) {
      throw new LocalKmsException(
          LocalKmsException.ACCESS_DENIED,
          "User: "
              + caller
              + " is not authorized to perform: "
              + action
              + " on resource: "
              + key.arn
              + " because the key policy does not allow it",
          key.arn,
          s.state);
    }
    if (s.denied) {
      throw new LocalKmsException(
          LocalKmsException.ACCESS_DENIED,
          "User is not authorized to perform this operation on "
              + key.arn
              + " because no resource-based policy allows it",
          key.arn,
          s.state);
    }
  }

  /** Whether a grant the caller may use allows {@code action} ({@code kms:Decrypt}, ...). */
  private boolean granted(KmsKey key, String action) {
    String operation = action.substring(action.indexOf(':') + 1);
    Instant cutoff = cutoff();
    for (GrantEntry g : grants.values()) {
      if (g.keyId.equals(key.keyId)
          && g.grantee.equals(caller)
          && g.operations.contains(operation)
          && (!g.created.isAfter(cutoff) || grantTokens.contains(g.grant.grantToken()))) {
        return true;
      }
    }
    return false;
  }

  private void checkGrantTokens() {
    for (String token : grantTokens) {
      if (grants.values().stream().noneMatch(g -> g.grant.grantToken().equals(token))) {
        throw error(LocalKmsException.INVALID_GRANT_TOKEN, "The grant token is not valid");
      }
    }
  }

  private void checkUsable(
      KmsKey key, KmsKey.Status s, String action, Map<String, String> context) {
    checkAccess(key, s, action, context);
    if (s.state == KeyState.DISABLED) {
      throw new LocalKmsException(
          LocalKmsException.DISABLED, key.arn + " is disabled.", key.arn, s.state);
    }
    if (s.state != KeyState.ENABLED) {
      throw stateError(key, s.state);
    }
  }

  private static LocalKmsException stateError(KmsKey key, KeyState state) {
    // worded like AWS ("... is pending deletion."), which clients such as byok-kms-aws read the
    // state from
    return new LocalKmsException(
        LocalKmsException.INVALID_STATE,
        key.arn + " is " + state.name().toLowerCase(Locale.ROOT).replace('_', ' ') + ".",
        key.arn,
        state);
  }

  private static LocalKmsException error(String code, String message) {
    return new LocalKmsException(code, message);
  }

  private void change(KmsKey key, KmsKey.Status status) {
    key.status.set(now(), status, cutoff());
  }

  private KmsKey.Status visible(KmsKey key) {
    return key.status.visible(cutoff());
  }

  private KeyMetadata metadata(KmsKey key, KmsKey.Status s) {
    return new KeyMetadata(
        key.keyId,
        key.arn,
        accountId,
        key.creationDate,
        s.state == KeyState.ENABLED,
        key.description,
        s.state,
        s.deletionDate,
        s.pendingWindowDays,
        key.current().id,
        multiRegionConfiguration(key));
  }

  private static @Nullable MultiRegionConfiguration multiRegionConfiguration(KmsKey key) {
    KmsKey.MultiRegion mr = key.multiRegion;
    if (mr == null) {
      return null;
    }
    return new MultiRegionConfiguration(
        mr.primaryArn.equals(key.arn) ? "PRIMARY" : "REPLICA",
        mr.primaryArn,
        List.copyOf(mr.replicaArns));
  }

  private Instant now() {
    return clock.instant();
  }

  private Instant cutoff() {
    return now().minus(shared.consistencyDelay);
  }

  private String arnPrefix() {
    return "arn:aws:kms:" + region + ":" + accountId + ":";
  }

  private String aliasArn(String aliasName) {
    return arnPrefix() + aliasName;
  }

  private static void checkOperation(String operation) {
    Objects.requireNonNull(operation, "operation");
    if (!OPERATIONS.contains(operation)) {
      throw new IllegalArgumentException(
          "unknown KMS operation '" + operation + "'; known: " + OPERATIONS);
    }
  }

  private static Map<KeyState, String> awsStateNames() {
    Map<KeyState, String> m = new java.util.EnumMap<>(KeyState.class);
    m.put(KeyState.CREATING, "Creating");
    m.put(KeyState.ENABLED, "Enabled");
    m.put(KeyState.DISABLED, "Disabled");
    m.put(KeyState.PENDING_DELETION, "PendingDeletion");
    m.put(KeyState.PENDING_IMPORT, "PendingImport");
    m.put(KeyState.PENDING_REPLICA_DELETION, "PendingReplicaDeletion");
    m.put(KeyState.UNAVAILABLE, "Unavailable");
    m.put(KeyState.UPDATING, "Updating");
    return Collections.unmodifiableMap(m);
  }

  /**
   * Configures an {@link InMemoryKms}. Not thread-safe; each {@link #build()} makes an independent,
   * empty KMS. Setters fail fast naming the bad value.
   */
  public static final class Builder {
    private static final Pattern REGION = Pattern.compile("[a-z]{2}(-[a-z0-9]+)+");
    private static final Pattern ACCOUNT = Pattern.compile("[0-9]{12}");

    private Clock clock = Clock.systemUTC();
    private String region = "us-east-1";
    private String accountId = "111122223333";

    private Builder() {}

    /**
     * Configures {@code clock}.
     *
     * @param clock where every date and delay is measured; default the system UTC clock, in tests a
     *     manual clock
     * @return this
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
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
      if (!REGION.matcher(Objects.requireNonNull(region, "region")).matches()) {
        throw new IllegalArgumentException("region must look like eu-west-1, was '" + region + "'");
      }
      this.region = region;
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
      if (!ACCOUNT.matcher(Objects.requireNonNull(accountId, "accountId")).matches()) {
        throw new IllegalArgumentException("accountId must be 12 digits, was '" + accountId + "'");
      }
      this.accountId = accountId;
      return this;
    }

    /** {@return a new, empty KMS} */
    public InMemoryKms build() {
      return new InMemoryKms(this);
    }
  }
}
