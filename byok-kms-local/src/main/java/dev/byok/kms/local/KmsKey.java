package dev.byok.kms.local;

import dev.byok.spi.KeyState;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;

/**
 * One fake KMS key: identity, lifecycle status (versioned for eventual consistency), key material
 * per rotation and rotation schedule. Not thread-safe: {@link InMemoryKms} guards it with its lock.
 */
@NullMarked
final class KmsKey {
  /** What readers see about a key's lifecycle at one moment. */
  static final class Status {
    final KeyState state;
    final @Nullable Instant deletionDate;
    final @Nullable Integer pendingWindowDays;
    final boolean denied;

    /** The key policy put with PutKeyPolicy, or {@code null} for the default policy. */
    final @Nullable KeyPolicy policy;

    Status(
        KeyState state,
        @Nullable Instant deletionDate,
        @Nullable Integer pendingWindowDays,
        boolean denied,
        @Nullable KeyPolicy policy) {
      this.state = state;
      this.deletionDate = deletionDate;
      this.pendingWindowDays = pendingWindowDays;
      this.denied = denied;
      this.policy = policy;
    }

    Status withState(KeyState newState) {
      return new Status(newState, null, null, denied, policy);
    }

    Status withDenied(boolean newDenied) {
      return new Status(state, deletionDate, pendingWindowDays, newDenied, policy);
    }

    Status withPolicy(KeyPolicy newPolicy) {
      return new Status(state, deletionDate, pendingWindowDays, denied, newPolicy);
    }
  }

  /** One generation of key material. The key bytes never leave this package. */
  static final class Material {
    final String id;
    final byte[] idBytes;
    final byte[] key;
    final Instant created;
    final @Nullable String rotationType;

    Material(byte[] idBytes, byte[] key, Instant created, @Nullable String rotationType) {
      this.id = HexFormat.of().formatHex(idBytes);
      this.idBytes = idBytes;
      this.key = key;
      this.created = created;
      this.rotationType = rotationType;
    }

    @Override
    public String toString() {
      return "Material[" + id + ", key=<redacted>]";
    }
  }

  /**
   * What the primary and replicas of one multi-Region key share: the primary's ARN, the replicas'
   * ARNs and the KMSs (Regions) holding them. Thread-safe (copy-on-write lists).
   */
  static final class MultiRegion {
    final String primaryArn;
    final List<String> replicaArns = new java.util.concurrent.CopyOnWriteArrayList<>();
    final List<InMemoryKms> replicas = new java.util.concurrent.CopyOnWriteArrayList<>();

    MultiRegion(String primaryArn) {
      this.primaryArn = primaryArn;
    }
  }

  final String keyId;
  final String arn;

  /** The multi-Region key this key is the primary or a replica of, else {@code null}. */
  @Nullable MultiRegion multiRegion;

  final Instant creationDate;
  final String description;
  final Versioned<Status> status;
  final List<Material> materials = new ArrayList<>();
  boolean rotationEnabled;
  int rotationPeriodDays;
  @Nullable Instant nextRotation;

  KmsKey(
      String keyId,
      String arn,
      Instant creationDate,
      String description,
      @Nullable KeyPolicy policy,
      SecureRandom random) {
    this.keyId = keyId;
    this.arn = arn;
    this.creationDate = creationDate;
    this.description = description;
    this.status =
        new Versioned<>(creationDate, new Status(KeyState.ENABLED, null, null, false, policy));
    addMaterial(creationDate, null, random);
  }

  /** Restores a key from LocalKmsServer's state file, or copies one: the status has no history. */
  KmsKey(
      String keyId,
      String arn,
      Instant creationDate,
      String description,
      Status status,
      List<Material> materials,
      boolean rotationEnabled,
      int rotationPeriodDays,
      @Nullable Instant nextRotation) {
    if (materials.isEmpty()) {
      throw new IllegalArgumentException("key " + keyId + " has no key material");
    }
    this.keyId = keyId;
    this.arn = arn;
    this.creationDate = creationDate;
    this.description = description;
    this.status = new Versioned<>(creationDate, status);
    this.materials.addAll(materials);
    this.rotationEnabled = rotationEnabled;
    this.rotationPeriodDays = rotationPeriodDays;
    this.nextRotation = nextRotation;
  }

  /**
   * {@return an independent copy with the newest status (key material is never changed, so it is
   * shared)}
   */
  KmsKey copy() {
    return new KmsKey(
        keyId,
        arn,
        creationDate,
        description,
        status.latest(),
        materials,
        rotationEnabled,
        rotationPeriodDays,
        nextRotation);
  }

  Material addMaterial(Instant at, @Nullable String rotationType, SecureRandom random) {
    byte[] id = new byte[CiphertextBlob.MATERIAL_ID_BYTES];
    byte[] key = new byte[32];
    random.nextBytes(id);
    random.nextBytes(key);
    Material m = new Material(id, key, at, rotationType);
    materials.add(m);
    return m;
  }

  Material current() {
    return materials.get(materials.size() - 1);
  }

  @Nullable Material material(byte[] id) {
    for (Material m : materials) {
      if (Arrays.equals(m.idBytes, id)) {
        return m;
      }
    }
    return null;
  }

  long onDemandRotations() {
    return materials.stream().filter(m -> "ON_DEMAND".equals(m.rotationType)).count();
  }
}
