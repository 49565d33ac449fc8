package dev.byok.kms.local;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.byok.spi.KeyState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;

/**
 * {@link LocalKmsServer}'s state file: the {@link InMemoryKms.State} as JSON. It holds the key
 * material <b>in clear</b> — test material only. Written atomically (temporary file, then move),
 * owner-readable only where the file system has POSIX permissions. Stateless.
 */
@NullMarked
final class KmsStateFile {
  private static final int VERSION = 1;
  private static final String WARNING =
      "byok LocalKmsServer state: TEST key material in clear. For tests only; never protect real data with it.";

  private KmsStateFile() {}

  /**
   * {@return the region and account stored in the file, to build a matching fake before loading}
   */
  static String[] regionAndAccount(Path file) {
    JsonObject root = parse(file);
    return new String[] {string(root, "region"), string(root, "accountId")};
  }

  static void load(Path file, InMemoryKms api) {
    JsonObject root = parse(file);
    try {
      List<KmsKey> keys = new ArrayList<>();
      for (JsonElement e : root.getAsJsonArray("keys")) {
        keys.add(key(e.getAsJsonObject()));
      }
      List<String> deleted = new ArrayList<>();
      for (JsonElement e : root.getAsJsonArray("deletedKeyIds")) {
        deleted.add(e.getAsString());
      }
      Map<String, String> aliases = new LinkedHashMap<>();
      root.getAsJsonObject("aliases")
          .entrySet()
          .forEach(e -> aliases.put(e.getKey(), e.getValue().getAsString()));
      api.importState(
          new InMemoryKms.State(
              string(root, "region"), string(root, "accountId"), keys, deleted, aliases));
    } catch (RuntimeException e) {
      throw invalid(file, e);
    }
  }

  static void save(Path file, InMemoryKms api) {
    InMemoryKms.State state = api.exportState();
    JsonObject root = new JsonObject();
    root.addProperty("warning", WARNING);
    root.addProperty("version", VERSION);
    root.addProperty("region", state.region());
    root.addProperty("accountId", state.accountId());
    JsonArray keys = new JsonArray();
    state.keys().forEach(k -> keys.add(json(k)));
    root.add("keys", keys);
    JsonArray deleted = new JsonArray();
    state.deletedKeyIds().forEach(deleted::add);
    root.add("deletedKeyIds", deleted);
    JsonObject aliases = new JsonObject();
    state.aliases().forEach(aliases::addProperty);
    root.add("aliases", aliases);
    byte[] bytes =
        new GsonBuilder()
            .setPrettyPrinting()
            .create()
            .toJson(root)
            .getBytes(StandardCharsets.UTF_8);
    try {
      Path dir = file.toAbsolutePath().getParent();
      Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
      try {
        restrictToOwner(tmp);
        Files.write(tmp, bytes);
        try {
          Files.move(
              tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the KMS state file " + file, e);
    }
  }

  private static void restrictToOwner(Path p) throws IOException {
    try {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: the file keeps the directory's default permissions
    }
  }

  private static JsonObject json(KmsKey k) {
    KmsKey.Status s = k.status.latest();
    JsonObject o = new JsonObject();
    o.addProperty("keyId", k.keyId);
    o.addProperty("arn", k.arn);
    o.addProperty("creationDate", k.creationDate.toString());
    o.addProperty("description", k.description);
    o.addProperty("keyState", InMemoryKms.awsKeyState(s.state));
    o.addProperty("deletionDate", s.deletionDate == null ? null : s.deletionDate.toString());
    o.addProperty("pendingWindowInDays", s.pendingWindowDays);
    o.addProperty("accessDenied", s.denied);
    if (s.policy != null) {
      o.addProperty("keyPolicy", s.policy.text());
    }
    o.addProperty("rotationEnabled", k.rotationEnabled);
    o.addProperty("rotationPeriodInDays", k.rotationPeriodDays);
    o.addProperty("nextRotationDate", k.nextRotation == null ? null : k.nextRotation.toString());
    JsonArray materials = new JsonArray();
    for (KmsKey.Material m : k.materials) {
      JsonObject mo = new JsonObject();
      mo.addProperty("id", m.id);
      mo.addProperty("key", Base64.getEncoder().encodeToString(m.key)); // test material, in clear
      mo.addProperty("created", m.created.toString());
      mo.addProperty("rotationType", m.rotationType);
      materials.add(mo);
    }
    o.add("materials", materials);
    return o;
  }

  private static KmsKey key(JsonObject o) {
    String stateName = string(o, "keyState");
    KeyState state = null;
    for (KeyState candidate : KeyState.values()) {
      if (InMemoryKms.awsKeyState(candidate).equals(stateName)) {
        state = candidate;
      }
    }
    if (state == null) {
      throw new IllegalArgumentException("unknown keyState '" + stateName + "'");
    }
    KmsKey.Status status =
        new KmsKey.Status(
            state,
            instant(o, "deletionDate"),
            o.has("pendingWindowInDays") && !o.get("pendingWindowInDays").isJsonNull()
                ? o.get("pendingWindowInDays").getAsInt()
                : null,
            o.get("accessDenied").getAsBoolean(),
            o.has("keyPolicy") && !o.get("keyPolicy").isJsonNull()
                ? KeyPolicy.parse(o.get("keyPolicy").getAsString())
                : null);
    List<KmsKey.Material> materials = new ArrayList<>();
    for (JsonElement e : o.getAsJsonArray("materials")) {
      JsonObject m = e.getAsJsonObject();
      byte[] id = HexFormat.of().parseHex(string(m, "id"));
      byte[] key = Base64.getDecoder().decode(string(m, "key"));
      if (id.length != CiphertextBlob.MATERIAL_ID_BYTES || key.length != 32) {
        throw new IllegalArgumentException(
            "key material of " + string(o, "keyId") + " has the wrong length");
      }
      JsonElement type = m.get("rotationType");
      materials.add(
          new KmsKey.Material(
              id,
              key,
              Instant.parse(string(m, "created")),
              type == null || type.isJsonNull() ? null : type.getAsString()));
    }
    return new KmsKey(
        string(o, "keyId"),
        string(o, "arn"),
        Instant.parse(string(o, "creationDate")),
        string(o, "description"),
        status,
        materials,
        o.get("rotationEnabled").getAsBoolean(),
        o.get("rotationPeriodInDays").getAsInt(),
        instant(o, "nextRotationDate"));
  }

  private static JsonObject parse(Path file) {
    try {
      JsonObject root =
          JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
      JsonElement version = root.get("version");
      if (version == null || !(version instanceof JsonPrimitive) || version.getAsInt() != VERSION) {
        throw new IllegalArgumentException("version must be " + VERSION);
      }
      return root;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the KMS state file " + file, e);
    } catch (RuntimeException e) {
      throw invalid(file, e);
    }
  }

  private static String string(JsonObject o, String name) {
    JsonElement e = o.get(name);
    if (e == null || e.isJsonNull()) {
      throw new IllegalArgumentException("missing '" + name + "'");
    }
    return e.getAsString();
  }

  private static @Nullable Instant instant(JsonObject o, String name) {
    JsonElement e = o.get(name);
    return e == null || e.isJsonNull() ? null : Instant.parse(e.getAsString());
  }

  private static IllegalArgumentException invalid(Path file, RuntimeException e) {
    return new IllegalArgumentException(
        "the KMS state file " + file + " is not valid: " + e.getMessage(), e);
  }
}
