package dev.byok.kms.local.azure;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.MGF1ParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * A loopback HTTPS server speaking the Azure Key Vault keys REST API (api-version 7.x) closely
 * enough for the official {@code azure-security-keyvault-keys} client, with programmatic controls
 * for every lifecycle event a customer can cause. For tests and {@code byok kms serve --protocol
 * azure}; not a vault: keys live in memory only.
 *
 * <h2>Protocol</h2>
 *
 * <ul>
 *   <li>HTTPS only, with a throw-away self-signed certificate for {@code 127.0.0.1}/{@code
 *       localhost} made at start ({@link #certificate()}, {@link #certificatePem()}, {@link
 *       #clientSslContext()}).
 *   <li>Bearer challenge: a request without {@code Authorization: Bearer <token>} gets 401 and
 *       {@code WWW-Authenticate: Bearer authorization="...", resource="https://vault.azure.net"}; a
 *       wrong token gets 401 too. The accepted token is {@link #accessToken()}.
 *   <li>{@code GET /keys/{name}[/{version}]}, {@code GET /deletedkeys/{name}}, {@code GET
 *       /keys/{name}/rotationpolicy}, {@code POST /keys/{name}/{version}/wrapkey|unwrapkey}. Every
 *       request needs {@code api-version=7.x}.
 *   <li>Keys: {@code RSA} (2048-bit, wraps with {@code RSA-OAEP-256}: SHA-256 for OAEP and MGF1)
 *       and {@code oct-HSM} (256-bit, wraps with {@code A256KW}, RFC 3394). Each version has its
 *       own material and attributes ({@code enabled}, {@code nbf}, {@code exp}); {@code
 *       recoveryLevel} and soft delete are per key.
 *   <li>Refusals as Key Vault answers them: 401 (no or wrong token), 403 {@code Forbidden} with
 *       inner code {@code ForbiddenByRbac} (access revoked), {@code KeyDisabled}, {@code
 *       KeyExpired}, {@code KeyNotYetValid}; 404 {@code KeyNotFound} (also while soft-deleted); 400
 *       {@code BadParameter} (unknown or mismatched algorithm, bad base64url, bad length, wrapped
 *       value that does not unwrap); injected 503 and 429 (with {@code Retry-After: 0}).
 * </ul>
 *
 * <p>Thread-safe: controls may be called while requests are served.
 */
public final class AzureKeyVaultServer implements AutoCloseable {
  /** The resource named in the bearer challenge. */
  public static final String RESOURCE = "https://vault.azure.net";

  private static final Pattern API_VERSION = Pattern.compile("7\\.[0-9](-preview(\\.[0-9]+)?)?");
  private static final Pattern NAME = Pattern.compile("[0-9A-Za-z-]{1,127}");
  private static final Pattern VERSION = Pattern.compile("[0-9a-f]{32}");
  private static final SecureRandom RANDOM = new SecureRandom();

  /** A transient fault the server can inject. */
  public enum Fault {
    /** 503 Service Unavailable. */
    UNAVAILABLE,
    /** 429 Too Many Requests. */
    THROTTLED
  }

  private final HttpsServer server;
  private final ExecutorService executor;
  private final SelfSignedTls tls;
  private final Clock clock;
  private final String token;
  private final URI vaultUrl;
  private final Map<String, VaultKey> keys = new LinkedHashMap<>();
  private final Object lock = new Object();
  private final List<Fault> pendingFaults = new ArrayList<>();
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

  private AzureKeyVaultServer(Builder b) throws IOException {
    this.clock = b.clock;
    this.token = b.token;
    this.tls = SelfSignedTls.generate();
    this.server =
        HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), b.port), 64);
    server.setHttpsConfigurator(new HttpsConfigurator(tls.serverContext()));
    AtomicInteger n = new AtomicInteger();
    this.executor =
        Executors.newFixedThreadPool(
            8,
            r -> {
              Thread t = new Thread(r, "azure-vault-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
    this.vaultUrl = URI.create("https://127.0.0.1:" + server.getAddress().getPort());
  }

  /** {@return a server on an ephemeral loopback port, with the system clock} */
  public static AzureKeyVaultServer start() {
    return builder().start();
  }

  /**
   * Starts a server on {@code port} (0: ephemeral), for {@code byok kms serve --protocol azure}.
   *
   * @param port the loopback port
   * @return the started server; see {@link #vaultUrl()} and {@link #certificatePem()}
   */
  public static AzureKeyVaultServer start(int port) {
    return builder().port(port).start();
  }

  /** {@return a new builder} */
  public static Builder builder() {
    return new Builder();
  }

  /** {@return the vault URL, {@code https://127.0.0.1:<port>}, without a trailing slash} */
  public URI vaultUrl() {
    return vaultUrl;
  }

  /** {@return the bearer token the server accepts (not a secret: a test value)} */
  public String accessToken() {
    return token;
  }

  /** {@return the server's self-signed certificate} */
  public X509Certificate certificate() {
    return tls.certificate();
  }

  /** {@return the server's certificate in PEM, for clients that take a trust file} */
  public String certificatePem() {
    return tls.certificatePem();
  }

  /** {@return a fresh TLS context that trusts this server's certificate only} */
  public SSLContext clientSslContext() {
    return tls.clientContext();
  }

  // ---------------------------------------------------------------- controls

  /**
   * Creates an enabled RSA 2048 key (wraps with RSA-OAEP-256), as a software-protected vault key.
   *
   * @param name key name, {@code [0-9A-Za-z-]{1,127}}, not in use
   * @return the versionless key id, {@code <vault>/keys/<name>}
   */
  public String createRsaKey(String name) {
    return create(name, "RSA");
  }

  /**
   * Creates an enabled 256-bit {@code oct-HSM} key (wraps with A256KW), as a Managed HSM holds.
   *
   * @param name key name, not in use
   * @return the versionless key id
   */
  public String createOctHsmKey(String name) {
    return create(name, "oct-HSM");
  }

  private String create(String name, String kty) {
    if (!NAME.matcher(Objects.requireNonNull(name, "name")).matches()) {
      throw new IllegalArgumentException("key name '" + name + "' must match " + NAME);
    }
    KeyVersion v = newVersion(kty);
    synchronized (lock) {
      if (keys.containsKey(name)) {
        throw new IllegalArgumentException("key '" + name + "' exists (or is soft-deleted)");
      }
      VaultKey k = new VaultKey(name);
      k.versions.add(v);
      keys.put(name, k);
    }
    return vaultUrl + "/keys/" + name;
  }

  /**
   * Rotates a key: adds a new current version of the same type (old versions keep unwrapping).
   *
   * @param name the key
   * @return the new versioned key id
   */
  public String rotate(String name) {
    String kty;
    synchronized (lock) {
      kty = live(name).current().kty;
    }
    KeyVersion v = newVersion(kty);
    synchronized (lock) {
      live(name).versions.add(v);
    }
    return kid(name, v.version);
  }

  /**
   * Enables or disables every version of a key (what a customer does to revoke it).
   *
   * @param name the key
   * @param enabled the new attribute
   */
  public void setEnabled(String name, boolean enabled) {
    synchronized (lock) {
      for (KeyVersion v : live(name).versions) {
        v.enabled = enabled;
        v.updated = clock.instant();
      }
    }
  }

  /**
   * Sets {@code nbf} on every version.
   *
   * @param name the key
   * @param notBefore the activation time, or {@code null} for none
   */
  public void setNotBefore(String name, @Nullable Instant notBefore) {
    synchronized (lock) {
      for (KeyVersion v : live(name).versions) {
        v.nbf = notBefore;
      }
    }
  }

  /**
   * Sets {@code exp} on every version.
   *
   * @param name the key
   * @param expires the expiry time, or {@code null} for none
   */
  public void setExpires(String name, @Nullable Instant expires) {
    synchronized (lock) {
      for (KeyVersion v : live(name).versions) {
        v.exp = expires;
      }
    }
  }

  /**
   * Sets the key's recovery level (default {@code Recoverable+Purgeable}); {@code Purgeable} means
   * soft delete is off, so {@link #delete} purges at once.
   *
   * @param name the key
   * @param recoveryLevel e.g. {@code Recoverable}, {@code Recoverable+Purgeable}, {@code Purgeable}
   */
  public void setRecoveryLevel(String name, String recoveryLevel) {
    Objects.requireNonNull(recoveryLevel, "recoveryLevel");
    synchronized (lock) {
      live(name).recoveryLevel = recoveryLevel;
    }
  }

  /**
   * Sets the key's rotation policy.
   *
   * @param name the key
   * @param rotateAfterCreate automatic rotation this long after a version's creation, or {@code
   *     null} for a policy that only notifies
   */
  public void setRotationPolicy(String name, @Nullable Duration rotateAfterCreate) {
    synchronized (lock) {
      live(name).rotateAfterCreate = rotateAfterCreate;
    }
  }

  /**
   * Deletes a key: soft delete (the key is listed under deleted keys until purged, scheduled purge
   * after its recoverable days), or a purge at once when its recovery level is {@code Purgeable}.
   *
   * @param name the key
   */
  public void delete(String name) {
    synchronized (lock) {
      VaultKey k = live(name);
      if (k.recoveryLevel.startsWith("Recoverable")
          || k.recoveryLevel.startsWith("CustomizedRecoverable")) {
        k.deletedOn = clock.instant();
      } else {
        keys.remove(name);
      }
    }
  }

  /**
   * Recovers a soft-deleted key.
   *
   * @param name the key
   */
  public void recover(String name) {
    synchronized (lock) {
      VaultKey k = keys.get(name);
      if (k == null || k.deletedOn == null) {
        throw new IllegalArgumentException("no soft-deleted key '" + name + "'");
      }
      k.deletedOn = null;
    }
  }

  /**
   * Purges a soft-deleted key for good.
   *
   * @param name the key
   */
  public void purge(String name) {
    synchronized (lock) {
      VaultKey k = keys.get(name);
      if (k == null || k.deletedOn == null) {
        throw new IllegalArgumentException("no soft-deleted key '" + name + "'");
      }
      keys.remove(name);
    }
  }

  /**
   * Removes (or gives back) the caller's permission on one key: every request on it gets 403 {@code
   * ForbiddenByRbac}, as after removing a role assignment scoped to the key.
   *
   * @param name the key
   * @param denied whether access is denied
   */
  public void setAccessDenied(String name, boolean denied) {
    synchronized (lock) {
      VaultKey k = keys.get(name);
      if (k == null) {
        throw new IllegalArgumentException("no key '" + name + "'");
      }
      k.denied = denied;
    }
  }

  /**
   * Fails the next {@code calls} authenticated requests with {@code fault} (503, or 429 with {@code
   * Retry-After: 0}); queues after faults already pending.
   *
   * @param calls how many requests
   * @param fault which fault
   */
  public void failNext(int calls, Fault fault) {
    Objects.requireNonNull(fault, "fault");
    if (calls < 0) {
      throw new IllegalArgumentException("calls must be >= 0, was " + calls);
    }
    synchronized (lock) {
      for (int i = 0; i < calls; i++) {
        pendingFaults.add(fault);
      }
    }
  }

  /**
   * The number of requests that reached an operation (after authentication), by operation name:
   * {@code getKey}, {@code getDeletedKey}, {@code getRotationPolicy}, {@code wrapKey}, {@code
   * unwrapKey}.
   *
   * @param operation the operation
   * @return the count so far
   */
  public int calls(String operation) {
    AtomicInteger c = calls.get(operation);
    return c == null ? 0 : c.get();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  @Override
  public String toString() {
    return "AzureKeyVaultServer[" + vaultUrl + "]";
  }

  // ---------------------------------------------------------------- model

  private static final class VaultKey {
    final String name;
    final List<KeyVersion> versions = new ArrayList<>();
    String recoveryLevel = "Recoverable+Purgeable";
    int recoverableDays = 90;
    @Nullable Instant deletedOn;
    boolean denied;
    @Nullable Duration rotateAfterCreate;

    VaultKey(String name) {
      this.name = name;
    }

    KeyVersion current() {
      return versions.get(versions.size() - 1);
    }

    @Nullable KeyVersion version(String version) {
      for (KeyVersion v : versions) {
        if (v.version.equals(version)) {
          return v;
        }
      }
      return null;
    }
  }

  private static final class KeyVersion {
    final String version;
    final String kty;
    final @Nullable KeyPair rsa;
    final @Nullable SecretKey aes;
    final Instant created;
    Instant updated;
    boolean enabled = true;
    @Nullable Instant nbf;
    @Nullable Instant exp;

    KeyVersion(
        String version, String kty, @Nullable KeyPair rsa, @Nullable SecretKey aes, Instant now) {
      this.version = version;
      this.kty = kty;
      this.rsa = rsa;
      this.aes = aes;
      this.created = now;
      this.updated = now;
    }
  }

  private KeyVersion newVersion(String kty) {
    byte[] id = new byte[16];
    RANDOM.nextBytes(id);
    try {
      if (kty.equals("RSA")) {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        return new KeyVersion(
            HexFormat.of().formatHex(id), kty, g.generateKeyPair(), null, clock.instant());
      }
      KeyGenerator g = KeyGenerator.getInstance("AES");
      g.init(256);
      return new KeyVersion(
          HexFormat.of().formatHex(id), kty, null, g.generateKey(), clock.instant());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The key if it exists and is not soft-deleted; for controls. */
  private VaultKey live(String name) {
    VaultKey k = keys.get(name);
    if (k == null || k.deletedOn != null) {
      throw new IllegalArgumentException("no live key '" + name + "'");
    }
    return k;
  }

  private String kid(String name, String version) {
    return vaultUrl + "/keys/" + name + "/" + version;
  }

  // ---------------------------------------------------------------- HTTP

  /** A refusal on the wire. */
  private static final class VaultError extends Exception {
    private static final long serialVersionUID = 1L;
    final int status;
    final String code;
    final @Nullable String inner;
    final String text;

    VaultError(int status, String code, @Nullable String inner, String message) {
      super(message, null, false, false);
      this.status = status;
      this.code = code;
      this.inner = inner;
      this.text = message;
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      byte[] body = ex.getRequestBody().readAllBytes();
      String auth = ex.getRequestHeaders().getFirst("Authorization");
      if (auth == null || !auth.equals("Bearer " + token)) {
        ex.getResponseHeaders()
            .add(
                "WWW-Authenticate",
                "Bearer authorization=\"https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000\", resource=\""
                    + RESOURCE
                    + "\"");
        send(
            ex,
            401,
            error(
                "Unauthorized",
                null,
                auth == null
                    ? "AKV10000: Request is missing a Bearer token."
                    : "AKV10032: Invalid token."));
        return;
      }
      Fault fault;
      synchronized (lock) {
        fault = pendingFaults.isEmpty() ? null : pendingFaults.remove(0);
      }
      if (fault == Fault.UNAVAILABLE) {
        send(ex, 503, error("ServiceUnavailable", null, "The service is unavailable (injected)."));
        return;
      }
      if (fault == Fault.THROTTLED) {
        ex.getResponseHeaders().add("Retry-After", "0");
        send(ex, 429, error("Throttled", null, "Rate limit exceeded (injected)."));
        return;
      }
      try {
        JsonObject result = route(ex, body);
        send(ex, 200, result.toString().getBytes(StandardCharsets.UTF_8));
      } catch (VaultError e) {
        send(ex, e.status, error(e.code, e.inner, e.text));
      } catch (RuntimeException e) {
        // a server bug: answer 500 without a stack trace or key material
        send(
            ex,
            500,
            error("InternalError", null, "internal error: " + e.getClass().getSimpleName()));
      }
    }
  }

  private JsonObject route(HttpExchange ex, byte[] body) throws VaultError {
    String query = ex.getRequestURI().getRawQuery();
    String apiVersion = queryParam(query, "api-version");
    if (apiVersion == null || !API_VERSION.matcher(apiVersion).matches()) {
      throw new VaultError(
          400, "BadParameter", null, "api-version is missing or not supported: " + apiVersion);
    }
    String method = ex.getRequestMethod();
    String path = ex.getRequestURI().getPath();
    String[] seg = path.substring(1).split("/", -1);
    if (seg.length >= 2 && seg[0].equals("deletedkeys") && method.equals("GET")) {
      if (seg.length == 2 || (seg.length == 3 && seg[2].isEmpty())) {
        count("getDeletedKey");
        return deletedKey(seg[1]);
      }
    }
    if (seg.length >= 2 && seg[0].equals("keys")) {
      String name = seg[1];
      if (method.equals("GET")) {
        if (seg.length == 2 || (seg.length == 3 && seg[2].isEmpty())) {
          count("getKey");
          return getKey(name, null);
        }
        if (seg.length == 3 && seg[2].equals("rotationpolicy")) {
          count("getRotationPolicy");
          return rotationPolicy(name);
        }
        if (seg.length == 3) {
          count("getKey");
          return getKey(name, seg[2]);
        }
      }
      if (method.equals("POST") && seg.length == 4) {
        if (seg[3].equals("wrapkey")) {
          count("wrapKey");
          return crypt(name, seg[2], body, true);
        }
        if (seg[3].equals("unwrapkey")) {
          count("unwrapKey");
          return crypt(name, seg[2], body, false);
        }
      }
    }
    throw new VaultError(400, "BadParameter", null, "unsupported request " + method + " " + path);
  }

  private void count(String operation) {
    calls.computeIfAbsent(operation, k -> new AtomicInteger()).incrementAndGet();
  }

  private static @Nullable String queryParam(@Nullable String query, String name) {
    if (query == null) {
      return null;
    }
    for (String p : query.split("&")) {
      int eq = p.indexOf('=');
      if (eq > 0 && p.substring(0, eq).equals(name)) {
        return p.substring(eq + 1);
      }
    }
    return null;
  }

  /** The key (not deleted) and its version; the caller holds the lock. */
  private KeyVersion find(String name, @Nullable String version) throws VaultError {
    VaultKey k = keys.get(name);
    if (k == null || k.deletedOn != null || !NAME.matcher(name).matches()) {
      throw new VaultError(
          404,
          "KeyNotFound",
          null,
          "A key with (name/id) " + name + " was not found in this key vault.");
    }
    if (k.denied) {
      throw new VaultError(
          403,
          "Forbidden",
          "ForbiddenByRbac",
          "Caller is not authorized to perform action on resource. Key: " + name);
    }
    if (version == null || version.isEmpty()) {
      return k.current();
    }
    KeyVersion v = VERSION.matcher(version).matches() ? k.version(version) : null;
    if (v == null) {
      throw new VaultError(
          404,
          "KeyNotFound",
          null,
          "A key with (name/id) " + name + "/" + version + " was not found in this key vault.");
    }
    return v;
  }

  private JsonObject getKey(String name, @Nullable String version) throws VaultError {
    synchronized (lock) {
      KeyVersion v = find(name, version);
      return bundle(Objects.requireNonNull(keys.get(name)), v);
    }
  }

  private JsonObject deletedKey(String name) throws VaultError {
    synchronized (lock) {
      VaultKey k = keys.get(name);
      if (k == null || k.deletedOn == null) {
        throw new VaultError(404, "KeyNotFound", null, "Deleted Key not found: " + name);
      }
      if (k.denied) {
        throw new VaultError(403, "Forbidden", "ForbiddenByRbac", "Caller is not authorized.");
      }
      Instant deletedOn = Objects.requireNonNull(k.deletedOn);
      JsonObject o = bundle(k, k.current());
      o.addProperty("recoveryId", vaultUrl + "/deletedkeys/" + name);
      o.addProperty("deletedDate", deletedOn.getEpochSecond());
      o.addProperty(
          "scheduledPurgeDate",
          deletedOn.plus(Duration.ofDays(k.recoverableDays)).getEpochSecond());
      return o;
    }
  }

  private JsonObject rotationPolicy(String name) throws VaultError {
    synchronized (lock) {
      find(name, null);
      VaultKey k = Objects.requireNonNull(keys.get(name));
      JsonObject policy = new JsonObject();
      policy.addProperty("id", vaultUrl + "/keys/" + name + "/rotationpolicy");
      JsonArray actions = new JsonArray();
      JsonObject action = new JsonObject();
      JsonObject trigger = new JsonObject();
      JsonObject type = new JsonObject();
      if (k.rotateAfterCreate != null) {
        trigger.addProperty("timeAfterCreate", "P" + k.rotateAfterCreate.toDays() + "D");
        type.addProperty("type", "Rotate");
      } else {
        trigger.addProperty("timeBeforeExpiry", "P30D");
        type.addProperty("type", "Notify");
      }
      action.add("trigger", trigger);
      action.add("action", type);
      actions.add(action);
      policy.add("lifetimeActions", actions);
      JsonObject attrs = new JsonObject();
      attrs.addProperty("created", k.versions.get(0).created.getEpochSecond());
      attrs.addProperty("updated", k.versions.get(0).created.getEpochSecond());
      policy.add("attributes", attrs);
      return policy;
    }
  }

  private JsonObject bundle(VaultKey k, KeyVersion v) {
    JsonObject key = new JsonObject();
    key.addProperty("kid", kid(k.name, v.version));
    key.addProperty("kty", v.kty);
    JsonArray ops = new JsonArray();
    ops.add("wrapKey");
    ops.add("unwrapKey");
    key.add("key_ops", ops);
    if (v.rsa != null) {
      RSAPublicKey pub = (RSAPublicKey) v.rsa.getPublic();
      key.addProperty("n", b64(unsigned(pub.getModulus().toByteArray())));
      key.addProperty("e", b64(unsigned(pub.getPublicExponent().toByteArray())));
    }
    JsonObject attrs = new JsonObject();
    attrs.addProperty("enabled", v.enabled);
    if (v.nbf != null) {
      attrs.addProperty("nbf", v.nbf.getEpochSecond());
    }
    if (v.exp != null) {
      attrs.addProperty("exp", v.exp.getEpochSecond());
    }
    attrs.addProperty("created", v.created.getEpochSecond());
    attrs.addProperty("updated", v.updated.getEpochSecond());
    attrs.addProperty("recoveryLevel", k.recoveryLevel);
    if (!k.recoveryLevel.equals("Purgeable")) {
      attrs.addProperty("recoverableDays", k.recoverableDays);
    }
    JsonObject o = new JsonObject();
    o.add("key", key);
    o.add("attributes", attrs);
    return o;
  }

  private static byte[] unsigned(byte[] b) {
    if (b.length > 1 && b[0] == 0) {
      byte[] r = new byte[b.length - 1];
      System.arraycopy(b, 1, r, 0, r.length);
      return r;
    }
    return b;
  }

  private JsonObject crypt(String name, String version, byte[] body, boolean wrap)
      throws VaultError {
    String op = wrap ? "wrapKey" : "unwrapKey";
    KeyVersion v;
    synchronized (lock) {
      v = find(name, version);
      if (!v.enabled) {
        throw new VaultError(
            403,
            "Forbidden",
            "KeyDisabled",
            "Operation " + op + " is not allowed on a disabled key.");
      }
      Instant now = clock.instant();
      if (v.nbf != null && now.isBefore(v.nbf)) {
        throw new VaultError(
            403, "Forbidden", "KeyNotYetValid", "Operation " + op + " is not allowed before nbf.");
      }
      // as Key Vault: an expired key still unwraps (data stays readable), but wraps nothing new
      if (wrap && v.exp != null && !now.isBefore(v.exp)) {
        throw new VaultError(
            403,
            "Forbidden",
            "KeyExpired",
            "Operation " + op + " is not allowed on an expired key.");
      }
    }
    JsonObject req;
    try {
      JsonElement e = JsonParser.parseString(new String(body, StandardCharsets.UTF_8));
      if (!e.isJsonObject()) {
        throw new VaultError(400, "BadParameter", null, "the body must be a JSON object");
      }
      req = e.getAsJsonObject();
    } catch (JsonParseException e) {
      throw new VaultError(400, "BadParameter", null, "the body is not JSON");
    }
    for (String field : req.keySet()) {
      if (!field.equals("alg") && !field.equals("value")) {
        throw new VaultError(400, "BadParameter", null, "unknown field '" + field + "'");
      }
    }
    String alg = string(req, "alg");
    byte[] value;
    try {
      value = Base64.getUrlDecoder().decode(string(req, "value"));
    } catch (IllegalArgumentException e) {
      throw new VaultError(400, "BadParameter", null, "value is not base64url");
    }
    String expected = v.kty.startsWith("RSA") ? "RSA-OAEP-256" : "A256KW";
    if (!alg.equals(expected)) {
      throw new VaultError(
          400,
          "BadParameter",
          null,
          "Algorithm " + alg + " is not supported for key type " + v.kty + " by this server");
    }
    byte[] out;
    try {
      if (v.rsa != null) {
        Cipher c = Cipher.getInstance("RSA/ECB/OAEPPadding");
        OAEPParameterSpec spec =
            new OAEPParameterSpec(
                "SHA-256", "MGF1", MGF1ParameterSpec.SHA256, PSource.PSpecified.DEFAULT);
        if (wrap) {
          if (value.length == 0 || value.length > 190) {
            throw new VaultError(400, "BadParameter", null, "value length must be 1..190 bytes");
          }
          c.init(Cipher.ENCRYPT_MODE, v.rsa.getPublic(), spec);
        } else {
          if (value.length != 256) {
            throw new VaultError(400, "BadParameter", null, "value length must be 256 bytes");
          }
          c.init(Cipher.DECRYPT_MODE, v.rsa.getPrivate(), spec);
        }
        out = c.doFinal(value);
      } else {
        SecretKey aes = Objects.requireNonNull(v.aes);
        Cipher c = Cipher.getInstance("AESWrap");
        if (wrap) {
          if (value.length < 16 || value.length % 8 != 0) {
            throw new VaultError(
                400, "BadParameter", null, "value length must be a multiple of 8, at least 16");
          }
          c.init(Cipher.WRAP_MODE, aes);
          out = c.wrap(new SecretKeySpec(value, "AES"));
        } else {
          if (value.length < 24 || value.length % 8 != 0) {
            throw new VaultError(
                400, "BadParameter", null, "value length must be a multiple of 8, at least 24");
          }
          c.init(Cipher.UNWRAP_MODE, aes);
          out = c.unwrap(value, "AES", Cipher.SECRET_KEY).getEncoded();
        }
      }
    } catch (GeneralSecurityException e) {
      throw new VaultError(400, "BadParameter", null, "Error while unwrapping: value rejected");
    }
    JsonObject o = new JsonObject();
    o.addProperty("kid", kid(name, v.version));
    o.addProperty("value", b64(out));
    return o;
  }

  private static String string(JsonObject o, String field) throws VaultError {
    JsonElement e = o.get(field);
    if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw new VaultError(400, "BadParameter", null, "'" + field + "' must be a string");
    }
    return e.getAsString();
  }

  private static String b64(byte[] b) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private static byte[] error(String code, @Nullable String inner, String message) {
    JsonObject err = new JsonObject();
    err.addProperty("code", code);
    err.addProperty("message", message);
    if (inner != null) {
      JsonObject i = new JsonObject();
      i.addProperty("code", inner);
      err.add("innererror", i);
    }
    JsonObject o = new JsonObject();
    o.add("error", err);
    return o.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    ex.getResponseHeaders().set("x-ms-keyvault-service-version", "1.9.0.0");
    ex.sendResponseHeaders(status, body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  /** Builds an {@link AzureKeyVaultServer}. Not thread-safe. */
  public static final class Builder {
    private int port;
    private Clock clock = Clock.systemUTC();
    private String token = "byok-test-token";

    private Builder() {}

    /**
     * Configures the port.
     *
     * @param port loopback port, 0 (default) for an ephemeral one
     * @return this builder
     */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535, was " + port);
      }
      this.port = port;
      return this;
    }

    /**
     * Configures the clock for {@code nbf}, {@code exp}, creation and deletion dates.
     *
     * @param clock the clock (tests pass a settable one)
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Configures the bearer token the server accepts.
     *
     * @param token a non-blank token
     * @return this builder
     */
    public Builder accessToken(String token) {
      Objects.requireNonNull(token, "token");
      if (token.isBlank()) {
        throw new IllegalArgumentException("accessToken must not be blank");
      }
      this.token = token;
      return this;
    }

    /**
     * {@return the started server}
     *
     * @throws java.io.UncheckedIOException if the port cannot be bound
     */
    public AzureKeyVaultServer start() {
      try {
        return new AzureKeyVaultServer(this);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("could not start the Key Vault test server", e);
      }
    }
  }
}
