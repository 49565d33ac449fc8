package dev.byok.kms.local.gcp;

import com.google.cloud.kms.v1.CryptoKey;
import com.google.cloud.kms.v1.CryptoKeyVersion;
import com.google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionAlgorithm;
import com.google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionState;
import com.google.cloud.kms.v1.ProtectionLevel;
import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * The state of a Cloud KMS test server: key rings, symmetric {@code ENCRYPT_DECRYPT} crypto keys
 * and their versions, with the version states Cloud KMS has ({@code ENABLED}, {@code DISABLED},
 * {@code DESTROY_SCHEDULED}, {@code DESTROYED}), a primary version per key, an IAM denial per key,
 * and fault injection. {@link GcpTestServer} serves it over gRPC; the methods here are the test's
 * controls (what a key owner does in the Cloud console) and the checks behind each RPC.
 *
 * <p>Every version has its own random AES-256 key; a ciphertext is {@code 0x47 | version number (4
 * bytes) | nonce (12) | AES-GCM ciphertext and tag}, authenticated together with the crypto key's
 * name and the request's additional authenticated data, so it decrypts only under the key that made
 * it and with the same AAD.
 *
 * <p>Thread-safe: every method is atomic (one lock, never held while calling out).
 */
public final class GcpKms {
  private static final Pattern ID = Pattern.compile("[a-zA-Z0-9_-]{1,63}");
  private static final Pattern PROJECT = Pattern.compile("[a-z][a-z0-9-]{0,62}");
  private static final Pattern LOCATION = Pattern.compile("[a-z][a-z0-9-]{0,62}");
  private static final Pattern KEY_RING =
      Pattern.compile("projects/([^/]+)/locations/([^/]+)/keyRings/([^/]+)");
  private static final Pattern CRYPTO_KEY =
      Pattern.compile("(projects/[^/]+/locations/[^/]+/keyRings/[^/]+)/cryptoKeys/([^/]+)");
  private static final Pattern VERSION =
      Pattern.compile(
          "(projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+)/cryptoKeyVersions/([1-9][0-9]{0,8})");
  private static final byte MAGIC = 0x47;
  private static final int HEADER = 1 + 4 + 12;

  /** Cloud KMS's limit for plaintext and additional authenticated data of Encrypt. */
  static final int MAX_PLAINTEXT = 64 * 1024;

  /** The response corruptions {@link #corruptNext} can inject (one-shot each). */
  public enum Corruption {
    /**
     * Encrypt answers with a ciphertext whose bytes no longer match its {@code ciphertext_crc32c}.
     */
    ENCRYPT_CIPHERTEXT,
    /** Encrypt answers {@code verified_plaintext_crc32c = false} although the client sent one. */
    ENCRYPT_PLAINTEXT_NOT_VERIFIED,
    /** Encrypt answers {@code verified_additional_authenticated_data_crc32c = false}. */
    ENCRYPT_AAD_NOT_VERIFIED,
    /**
     * Decrypt answers with a plaintext whose bytes no longer match its {@code plaintext_crc32c}.
     */
    DECRYPT_PLAINTEXT
  }

  private final Object lock = new Object();
  private final Clock clock;
  private final java.time.Duration destroyScheduledDuration;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, Instant> keyRings = new HashMap<>();
  private final Map<String, Key> keys = new HashMap<>();
  private final List<Status.Code> faults = new ArrayList<>();
  private final List<Corruption> corruptions = new ArrayList<>();
  private final Map<String, Integer> calls = new HashMap<>();

  /** Creates an empty KMS on the system clock, with Cloud KMS's default 30-day destroy delay. */
  public GcpKms() {
    this(Clock.systemUTC(), java.time.Duration.ofDays(30));
  }

  /**
   * Creates an empty KMS.
   *
   * @param clock the time for create and destroy times
   * @param destroyScheduledDuration how long a version stays {@code DESTROY_SCHEDULED}
   */
  public GcpKms(Clock clock, java.time.Duration destroyScheduledDuration) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.destroyScheduledDuration =
        Objects.requireNonNull(destroyScheduledDuration, "destroyScheduledDuration");
  }

  private static final class Key {
    final String name;
    final Instant created;
    final List<Version> versions = new ArrayList<>();
    int primary; // version number, 0 = none
    boolean denied;
    java.time.@Nullable Duration rotationPeriod;
    @Nullable Instant nextRotation;

    Key(String name, Instant created) {
      this.name = name;
      this.created = created;
    }

    Version version(int n) {
      return versions.get(n - 1);
    }
  }

  private static final class Version {
    final String name;
    final int number;
    final Instant created;
    final byte[] material;
    CryptoKeyVersionState state = CryptoKeyVersionState.ENABLED;
    @Nullable Instant destroyTime;

    Version(String name, int number, Instant created, byte[] material) {
      this.name = name;
      this.number = number;
      this.created = created;
      this.material = material;
    }
  }

  // ---- the key owner's controls ----

  /**
   * Creates a key ring.
   *
   * @param project the project id, e.g. {@code my-project}
   * @param location the location, e.g. {@code global} or {@code europe-west1}
   * @param keyRingId the key ring id ({@code [a-zA-Z0-9_-]{1,63}})
   * @return its resource name
   * @throws IllegalArgumentException if an id is malformed or the key ring exists
   */
  public String createKeyRing(String project, String location, String keyRingId) {
    check(PROJECT, project, "project");
    check(LOCATION, location, "location");
    check(ID, keyRingId, "keyRingId");
    String name = "projects/" + project + "/locations/" + location + "/keyRings/" + keyRingId;
    synchronized (lock) {
      if (keyRings.putIfAbsent(name, clock.instant()) != null) {
        throw new IllegalArgumentException("key ring " + name + " already exists");
      }
    }
    return name;
  }

  /**
   * Creates a symmetric {@code ENCRYPT_DECRYPT} crypto key with one enabled primary version.
   *
   * @param keyRing the key ring's resource name
   * @param cryptoKeyId the key id ({@code [a-zA-Z0-9_-]{1,63}})
   * @return the crypto key's resource name
   * @throws IllegalArgumentException if the id is malformed, the key ring unknown or the key exists
   */
  public String createCryptoKey(String keyRing, String cryptoKeyId) {
    check(ID, cryptoKeyId, "cryptoKeyId");
    String name = keyRing + "/cryptoKeys/" + cryptoKeyId;
    synchronized (lock) {
      if (!keyRings.containsKey(keyRing)) {
        throw new IllegalArgumentException("no key ring " + keyRing);
      }
      if (keys.containsKey(name)) {
        throw new IllegalArgumentException("crypto key " + name + " already exists");
      }
      Key k = new Key(name, clock.instant());
      keys.put(name, k);
      k.primary = addVersion(k).number;
    }
    return name;
  }

  /**
   * Rotates a crypto key: a new enabled version becomes primary; older versions still decrypt.
   *
   * @param cryptoKey the crypto key's resource name
   * @return the new version's resource name
   */
  public String rotate(String cryptoKey) {
    synchronized (lock) {
      Key k = ownerKey(cryptoKey);
      Version v = addVersion(k);
      k.primary = v.number;
      return v.name;
    }
  }

  /**
   * Makes an existing enabled version the primary one ({@code UpdateCryptoKeyPrimaryVersion}).
   *
   * @param version the version's resource name
   */
  public void setPrimary(String version) {
    synchronized (lock) {
      Version v = ownerVersion(version);
      if (v.state != CryptoKeyVersionState.ENABLED) {
        throw new IllegalStateException(version + " is " + v.state + ", not ENABLED");
      }
      ownerKey(cryptoKeyOf(version)).primary = v.number;
    }
  }

  /**
   * Sets a version's state the way {@code UpdateCryptoKeyVersion} does: {@code ENABLED} and {@code
   * DISABLED} switch between each other.
   *
   * @param version the version's resource name
   * @param enabled the new state
   * @throws IllegalStateException if the version is scheduled for destruction or destroyed
   */
  public void setEnabled(String version, boolean enabled) {
    synchronized (lock) {
      Version v = ownerVersion(version);
      if (v.state != CryptoKeyVersionState.ENABLED && v.state != CryptoKeyVersionState.DISABLED) {
        throw new IllegalStateException(version + " is " + v.state);
      }
      v.state = enabled ? CryptoKeyVersionState.ENABLED : CryptoKeyVersionState.DISABLED;
    }
  }

  /**
   * Schedules a version for destruction ({@code DestroyCryptoKeyVersion}): {@code
   * DESTROY_SCHEDULED}, destroy time now + the destroy delay.
   *
   * @param version the version's resource name
   */
  public void scheduleDestroy(String version) {
    synchronized (lock) {
      Version v = ownerVersion(version);
      if (v.state != CryptoKeyVersionState.ENABLED && v.state != CryptoKeyVersionState.DISABLED) {
        throw new IllegalStateException(version + " is " + v.state);
      }
      v.state = CryptoKeyVersionState.DESTROY_SCHEDULED;
      v.destroyTime = clock.instant().plus(destroyScheduledDuration);
    }
  }

  /**
   * Cancels a scheduled destruction ({@code RestoreCryptoKeyVersion}): the version is {@code
   * DISABLED} again, as in Cloud KMS.
   *
   * @param version the version's resource name
   */
  public void restore(String version) {
    synchronized (lock) {
      Version v = ownerVersion(version);
      if (v.state != CryptoKeyVersionState.DESTROY_SCHEDULED) {
        throw new IllegalStateException(version + " is " + v.state + ", not DESTROY_SCHEDULED");
      }
      v.state = CryptoKeyVersionState.DISABLED;
      v.destroyTime = null;
    }
  }

  /**
   * Ends a scheduled destruction now: the version is {@code DESTROYED} and its key material wiped.
   *
   * @param version the version's resource name
   */
  public void completeDestruction(String version) {
    synchronized (lock) {
      Version v = ownerVersion(version);
      if (v.state != CryptoKeyVersionState.DESTROY_SCHEDULED) {
        throw new IllegalStateException(version + " is " + v.state + ", not DESTROY_SCHEDULED");
      }
      v.state = CryptoKeyVersionState.DESTROYED;
      Arrays.fill(v.material, (byte) 0);
    }
  }

  /**
   * Removes (or gives back) the caller's IAM permissions on a crypto key: every RPC on it and its
   * versions answers {@code PERMISSION_DENIED}.
   *
   * @param cryptoKey the crypto key's resource name
   * @param denied whether access is denied
   */
  public void setAccessDenied(String cryptoKey, boolean denied) {
    synchronized (lock) {
      ownerKey(cryptoKey).denied = denied;
    }
  }

  /**
   * Sets automatic rotation, as reported by {@code GetCryptoKey}.
   *
   * @param cryptoKey the crypto key's resource name
   * @param period the rotation period, or {@code null} for none
   * @param next the next rotation time, or {@code null}
   */
  public void setRotationSchedule(
      String cryptoKey, java.time.@Nullable Duration period, @Nullable Instant next) {
    synchronized (lock) {
      Key k = ownerKey(cryptoKey);
      k.rotationPeriod = period;
      k.nextRotation = next;
    }
  }

  /**
   * {@return the resource names of a crypto key's versions, oldest first}
   *
   * @param cryptoKey the crypto key's resource name
   */
  public List<String> versions(String cryptoKey) {
    synchronized (lock) {
      List<String> out = new ArrayList<>();
      for (Version v : ownerKey(cryptoKey).versions) {
        out.add(v.name);
      }
      return out;
    }
  }

  /**
   * {@return a version's state}
   *
   * @param version the version's resource name
   */
  public CryptoKeyVersionState state(String version) {
    synchronized (lock) {
      return ownerVersion(version).state;
    }
  }

  /**
   * Makes the next {@code count} RPCs (of any method) fail with {@code code}, before any other
   * check, as a transient Cloud KMS fault would.
   *
   * @param count how many calls fail; {@code 0} clears pending faults
   * @param code the status code, e.g. {@code UNAVAILABLE} or {@code RESOURCE_EXHAUSTED}
   */
  public void failNext(int count, Status.Code code) {
    Objects.requireNonNull(code, "code");
    if (count < 0) {
      throw new IllegalArgumentException("count must be >= 0, was " + count);
    }
    if (code == Status.Code.OK) {
      throw new IllegalArgumentException("code must be an error, was OK");
    }
    synchronized (lock) {
      faults.clear();
      for (int i = 0; i < count; i++) {
        faults.add(code);
      }
    }
  }

  /**
   * Corrupts the next response the corruption applies to (integrity-check tests).
   *
   * @param corruption what to corrupt
   */
  public void corruptNext(Corruption corruption) {
    synchronized (lock) {
      corruptions.add(Objects.requireNonNull(corruption, "corruption"));
    }
  }

  /**
   * {@return how many RPCs of a method arrived, faults included}
   *
   * @param method the method name, e.g. {@code Encrypt}
   */
  public int calls(String method) {
    synchronized (lock) {
      return calls.getOrDefault(method, 0);
    }
  }

  // ---- the RPCs' checks (package-private: GcpKmsService) ----

  /** Counts the call, then throws a pending fault. */
  void arrive(String method) {
    Status.Code fault;
    synchronized (lock) {
      calls.merge(method, 1, Integer::sum);
      if (faults.isEmpty()) {
        return;
      }
      fault = faults.remove(0);
    }
    throw Status.fromCode(fault)
        .withDescription("injected fault: " + method + " " + fault)
        .asRuntimeException();
  }

  boolean takeCorruption(Corruption c) {
    synchronized (lock) {
      return corruptions.remove(c);
    }
  }

  /** The result of Encrypt. */
  record Encrypted(String versionName, byte[] ciphertext) {}

  /** The result of Decrypt. */
  record Decrypted(byte[] plaintext, boolean usedPrimary) {}

  Encrypted encrypt(String name, byte[] plaintext, byte[] aad) {
    Version v;
    String keyName;
    byte[] material;
    synchronized (lock) {
      Matcher vm = VERSION.matcher(name);
      if (vm.matches()) {
        Key k = key(vm.group(1), "cloudkms.cryptoKeyVersions.useToEncrypt");
        v = version(k, name);
      } else {
        Key k = key(checkCryptoKeyName(name), "cloudkms.cryptoKeyVersions.useToEncrypt");
        if (k.primary == 0) {
          throw failedPrecondition("CryptoKey " + name + " has no primary version");
        }
        v = k.version(k.primary);
      }
      requireEnabled(v);
      keyName = cryptoKeyOf(v.name);
      material = v.material.clone();
    }
    try {
      byte[] nonce = new byte[12];
      random.nextBytes(nonce);
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(
          Cipher.ENCRYPT_MODE,
          new SecretKeySpec(material, "AES"),
          new GCMParameterSpec(128, nonce));
      c.updateAAD(bindingOf(keyName, aad));
      byte[] sealed = c.doFinal(plaintext);
      ByteBuffer out = ByteBuffer.allocate(HEADER + sealed.length);
      out.put(MAGIC).putInt(v.number).put(nonce).put(sealed);
      return new Encrypted(v.name, out.array());
    } catch (GeneralSecurityException e) {
      throw Status.INTERNAL.withDescription("encryption failed").withCause(e).asRuntimeException();
    } finally {
      Arrays.fill(material, (byte) 0);
    }
  }

  Decrypted decrypt(String name, byte[] ciphertext, byte[] aad) {
    if (VERSION.matcher(name).matches()) {
      throw invalid(
          "Decrypt takes a CryptoKey name, not a CryptoKeyVersion: "
              + name
              + " (the server chooses the version)");
    }
    checkCryptoKeyName(name);
    byte[] material;
    boolean primary;
    int number;
    synchronized (lock) {
      Key k = key(name, "cloudkms.cryptoKeyVersions.useToDecrypt");
      ByteBuffer in = ByteBuffer.wrap(ciphertext);
      if (ciphertext.length < HEADER + 16 || in.get() != MAGIC) {
        throw decryptionFailed();
      }
      number = in.getInt();
      if (number < 1 || number > k.versions.size()) {
        throw decryptionFailed();
      }
      Version v = k.version(number);
      requireEnabled(v);
      material = v.material.clone();
      primary = number == k.primary;
    }
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(
          Cipher.DECRYPT_MODE,
          new SecretKeySpec(material, "AES"),
          new GCMParameterSpec(128, ciphertext, 5, 12));
      c.updateAAD(bindingOf(name, aad));
      return new Decrypted(c.doFinal(ciphertext, HEADER, ciphertext.length - HEADER), primary);
    } catch (AEADBadTagException e) {
      throw decryptionFailed();
    } catch (GeneralSecurityException e) {
      throw Status.INTERNAL.withDescription("decryption failed").withCause(e).asRuntimeException();
    } finally {
      Arrays.fill(material, (byte) 0);
    }
  }

  CryptoKey getCryptoKey(String name) {
    checkCryptoKeyName(name);
    synchronized (lock) {
      Key k = key(name, "cloudkms.cryptoKeys.get");
      CryptoKey.Builder b =
          CryptoKey.newBuilder()
              .setName(k.name)
              .setPurpose(CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT)
              .setCreateTime(timestamp(k.created))
              .setDestroyScheduledDuration(
                  Duration.newBuilder().setSeconds(destroyScheduledDuration.toSeconds()));
      if (k.primary != 0) {
        b.setPrimary(proto(k.version(k.primary)));
      }
      java.time.Duration period = k.rotationPeriod;
      if (period != null) {
        b.setRotationPeriod(Duration.newBuilder().setSeconds(period.toSeconds()));
      }
      Instant next = k.nextRotation;
      if (next != null) {
        b.setNextRotationTime(timestamp(next));
      }
      return b.build();
    }
  }

  CryptoKeyVersion getCryptoKeyVersion(String name) {
    Matcher m = VERSION.matcher(name);
    if (!m.matches()) {
      throw invalid("Resource name [" + name + "] does not match any known resource name pattern.");
    }
    checkCryptoKeyName(m.group(1));
    synchronized (lock) {
      Key k = key(m.group(1), "cloudkms.cryptoKeyVersions.get");
      return proto(version(k, name));
    }
  }

  // ---- helpers (lock held where they touch state) ----

  private Version addVersion(Key k) {
    byte[] material = new byte[32];
    random.nextBytes(material);
    int n = k.versions.size() + 1;
    Version v = new Version(k.name + "/cryptoKeyVersions/" + n, n, clock.instant(), material);
    k.versions.add(v);
    return v;
  }

  private static CryptoKeyVersion proto(Version v) {
    CryptoKeyVersion.Builder b =
        CryptoKeyVersion.newBuilder()
            .setName(v.name)
            .setState(v.state)
            .setAlgorithm(CryptoKeyVersionAlgorithm.GOOGLE_SYMMETRIC_ENCRYPTION)
            .setProtectionLevel(ProtectionLevel.SOFTWARE)
            .setCreateTime(timestamp(v.created));
    Instant d = v.destroyTime;
    if (d != null) {
      b.setDestroyTime(timestamp(d));
    }
    return b.build();
  }

  private static Timestamp timestamp(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  private static byte[] bindingOf(String keyName, byte[] aad) {
    byte[] name = keyName.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(4 + name.length + aad.length)
        .putInt(name.length)
        .put(name)
        .put(aad)
        .array();
  }

  /** The crypto key of a version name (controls: IllegalArgumentException if malformed). */
  private static String cryptoKeyOf(String version) {
    Matcher m = VERSION.matcher(version);
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + version + "' is not a CryptoKeyVersion name");
    }
    return m.group(1);
  }

  private Key ownerKey(String cryptoKey) {
    Key k = keys.get(cryptoKey);
    if (k == null) {
      throw new IllegalArgumentException("no crypto key " + cryptoKey);
    }
    return k;
  }

  private Version ownerVersion(String version) {
    Key k = ownerKey(cryptoKeyOf(version));
    int n = Integer.parseInt(version.substring(version.lastIndexOf('/') + 1));
    if (n > k.versions.size()) {
      throw new IllegalArgumentException("no crypto key version " + version);
    }
    return k.version(n);
  }

  /** Validates a CryptoKey name strictly: INVALID_ARGUMENT naming the bad part. */
  private static String checkCryptoKeyName(String name) {
    Matcher m = CRYPTO_KEY.matcher(name);
    if (!m.matches()) {
      throw invalid("Resource name [" + name + "] does not match any known resource name pattern.");
    }
    Matcher r = KEY_RING.matcher(m.group(1));
    if (!r.matches()
        || !PROJECT.matcher(r.group(1)).matches()
        || !LOCATION.matcher(r.group(2)).matches()
        || !ID.matcher(r.group(3)).matches()
        || !ID.matcher(m.group(2)).matches()) {
      throw invalid("Resource name [" + name + "] has an invalid project, location or id.");
    }
    return name;
  }

  private Key key(String name, String permission) {
    Key k = keys.get(name);
    if (k == null) {
      throw Status.NOT_FOUND.withDescription(name + " not found.").asRuntimeException();
    }
    if (k.denied) {
      throw Status.PERMISSION_DENIED
          .withDescription(
              "Permission '"
                  + permission
                  + "' denied on resource '"
                  + name
                  + "' (or it may not exist).")
          .asRuntimeException();
    }
    return k;
  }

  private static Version version(Key k, String name) {
    int n = Integer.parseInt(name.substring(name.lastIndexOf('/') + 1));
    if (n > k.versions.size()) {
      throw Status.NOT_FOUND.withDescription(name + " not found.").asRuntimeException();
    }
    return k.version(n);
  }

  private static void requireEnabled(Version v) {
    if (v.state != CryptoKeyVersionState.ENABLED) {
      throw failedPrecondition(
          "The request cannot be fulfilled. Resource "
              + v.name
              + " has value "
              + v.state
              + " in field crypto_key_version.state.");
    }
  }

  static StatusRuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }

  private static StatusRuntimeException failedPrecondition(String message) {
    return Status.FAILED_PRECONDITION.withDescription(message).asRuntimeException();
  }

  private static StatusRuntimeException decryptionFailed() {
    return invalid("Decryption failed: verify that 'name' refers to the correct CryptoKey.");
  }

  private static void check(Pattern p, String value, String what) {
    Objects.requireNonNull(value, what);
    if (!p.matcher(value).matches()) {
      throw new IllegalArgumentException(what + " '" + value + "' must match " + p.pattern());
    }
  }

  /** {@return the number of key rings and crypto keys, for diagnostics (never key material)} */
  @Override
  public String toString() {
    synchronized (lock) {
      return "GcpKms[" + keyRings.size() + " key rings, " + keys.size() + " crypto keys]";
    }
  }
}
