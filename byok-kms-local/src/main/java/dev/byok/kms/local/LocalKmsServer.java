package dev.byok.kms.local;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;

/**
 * A loopback HTTP server speaking the AWS KMS JSON 1.1 protocol in front of an {@link InMemoryKms},
 * so a real AWS SDK client (any language) can be pointed at it with an endpoint override:
 *
 * <pre>{@code
 * InMemoryKms kms = InMemoryKms.create();
 * try (LocalKmsServer server = LocalKmsServer.start(kms)) {
 *   KmsClient client = KmsClient.builder()
 *       .endpointOverride(server.endpoint())
 *       .region(Region.US_EAST_1)
 *       .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
 *       .build();
 *   String arn = client.createKey(r -> r.description("app")).keyMetadata().arn();   // a key in kms
 * }
 * }</pre>
 *
 * <h2>Protocol</h2>
 *
 * <p>{@code POST /} with {@code X-Amz-Target: TrentService.<Operation>} and {@code Content-Type:
 * application/x-amz-json-1.1}; blobs are base64, timestamps epoch seconds; errors are {@code
 * {"__type": "<code>", "message": "..."}} with the HTTP status AWS uses ({@link
 * LocalKmsException#httpStatus()}: 5xx for {@code KMSInternalException}, {@code
 * DependencyTimeoutException}, {@code KeyUnavailableException}, so SDKs retry them). The operations
 * are {@link InMemoryKms#OPERATIONS}; every one is delegated to the {@link InMemoryKms}, so its
 * fault injection, clock and call log apply over the wire too. Requests are validated like KMS
 * does: a missing or out-of-range member is {@code ValidationException}, a malformed body or a
 * wrongly typed member {@code SerializationException}, an unknown target {@code
 * UnknownOperationException} (all 400). Not modelled (answered with {@code
 * UnsupportedOperationException}): {@code DryRun}, {@code Recipient}, {@code ReplicateKey} (each
 * server is one Region: replicate with {@link InMemoryKms#replicateKey}), grant constraints,
 * asymmetric keys, pagination markers. {@code CreateKey} with {@code MultiRegion} makes a
 * multi-Region primary key; {@code CreateGrant} and {@code RevokeGrant} manage grants; {@code
 * GrantTokens} on any call are passed on ({@link InMemoryKms#withGrantTokens}).
 *
 * <p><b>Not a security boundary.</b> The server binds loopback addresses only (the builder refuses
 * any other). It requires an {@code Authorization} header but does <b>not</b> verify SigV4
 * signatures: any credentials work. For key policies ({@link InMemoryKms#putKeyPolicy}) it
 * identifies the caller by the access key id of the SigV4 {@code Credential}: mapped to a principal
 * ARN with {@link Builder#principal}, else {@code arn:aws:iam::<account>:user/<access key id>}; a
 * request naming no credential runs as the account root.
 *
 * <h2>Wire faults</h2>
 *
 * <p>On top of the fake's own faults: {@link #dropConnections} (the connection is closed without an
 * answer, as after a reset), {@link #slowResponses} (every answer waits, on the {@linkplain
 * Builder#sleeper sleeper}), {@link #serviceUnavailable} (a 503 storm), {@link #failNextRequest}
 * (any error body, also codes the fake does not know, such as {@code ExpiredTokenException}) and
 * {@link #rewriteNextResponse}. Wire faults apply in that order, before the request reaches the
 * fake; every request is logged ({@link #requests()}).
 *
 * <h2>Standalone</h2>
 *
 * <p>{@code java -cp <byok-kms-local classpath> dev.byok.kms.local.LocalKmsServer [port
 * [state-file]]} serves until killed; see {@link #main}. With a state file, keys, key material and
 * aliases are kept across restarts — <b>in clear</b>: the file is test material, never use it for
 * real data.
 *
 * <p>Loading this class sets the system property {@code sun.net.httpserver.nodelay} to {@code true}
 * unless it is set, so that answers are not delayed by Nagle's algorithm.
 *
 * <p><b>Thread-safety:</b> thread-safe; requests are served concurrently.
 */
@NullMarked
public final class LocalKmsServer implements AutoCloseable {
  /** The JSON 1.1 content type of requests and answers. */
  public static final String CONTENT_TYPE = "application/x-amz-json-1.1";

  private static final String TARGET_PREFIX = "TrentService.";
  private static final String SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT";
  private static final String DEFAULT_POLICY_NAME = "default";

  /** The access key id in {@code Authorization: AWS4-HMAC-SHA256 Credential=<id>/<scope>, ...}. */
  private static final Pattern CREDENTIAL =
      Pattern.compile("Credential=([A-Za-z0-9_+=.@-]{1,128})/");

  /** Operations after which the state file is written. */
  private static final Set<String> MUTATING =
      Set.of(
          "CreateKey",
          "CreateAlias",
          "UpdateAlias",
          "DeleteAlias",
          "EnableKey",
          "DisableKey",
          "ScheduleKeyDeletion",
          "CancelKeyDeletion",
          "EnableKeyRotation",
          "DisableKeyRotation",
          "RotateKeyOnDemand",
          "PutKeyPolicy");

  private static final Map<String, Integer> DATA_KEY_SPECS = Map.of("AES_256", 32, "AES_128", 16);

  /**
   * One request as the server saw it.
   *
   * @param operation the operation named by {@code X-Amz-Target}, or the raw header (empty if none)
   * @param httpStatus the status answered, or 0 when the connection was dropped
   * @param outcome {@link InMemoryKms#OK}, the error code answered, or {@code ConnectionDropped}
   */
  public record WireCall(String operation, int httpStatus, String outcome) {}

  static {
    // The JDK server writes headers and body in two packets; with Nagle's algorithm on, the
    // client's
    // delayed ACK stalls every answer by ~40 ms. Read once, when the first JDK HttpServer starts.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }

  /** The outcome logged for a request whose connection was dropped. */
  public static final String DROPPED = "ConnectionDropped";

  private final InMemoryKms api;
  private final HttpServer http;
  private final ExecutorService executor;
  private final URI endpoint;
  private final @Nullable Path stateFile;
  private final Map<String, String> principals;
  private final InMemoryKms.Sleeper sleeper;
  private final Object lock = new Object();
  private final List<WireCall> log = new ArrayList<>();
  private final List<ScriptedError> scriptedErrors = new ArrayList<>();
  private final Map<String, List<UnaryOperator<String>>> rewrites = new LinkedHashMap<>();
  private int drops;
  private int unavailable;
  private Duration delay = Duration.ZERO;
  private boolean closed;

  private record ScriptedError(String code, int status, String message) {}

  /** An error the server itself answers with (not one of the fake's codes). */
  private static final class WireError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String code;
    final int status;

    WireError(String code, int status, String message) {
      super(message);
      this.code = code;
      this.status = status;
    }
  }

  private LocalKmsServer(Builder b, InMemoryKms kms) throws IOException {
    this.api = kms;
    this.stateFile = b.stateFile;
    this.principals = Map.copyOf(b.principals);
    this.sleeper = b.sleeper;
    if (stateFile != null && Files.exists(stateFile)) {
      KmsStateFile.load(stateFile, api);
    }
    AtomicInteger threads = new AtomicInteger();
    this.executor =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "local-kms-" + threads.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.http = HttpServer.create(new InetSocketAddress(b.bindAddress, b.port), 0);
    InetSocketAddress bound = http.getAddress();
    if (!bound.getAddress().isLoopbackAddress()) {
      http.stop(0);
      executor.shutdownNow();
      throw new IllegalStateException(
          "bound to a non-loopback address " + bound + "; refusing to serve");
    }
    http.createContext("/", this::handle);
    http.setExecutor(executor);
    http.start();
    try {
      this.endpoint =
          new URI(
              "http", null, bound.getAddress().getHostAddress(), bound.getPort(), null, null, null);
    } catch (URISyntaxException e) {
      close();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Starts a server for {@code kms} on 127.0.0.1 and an ephemeral port.
   *
   * @param kms the fake to serve
   * @return the running server
   */
  public static LocalKmsServer start(InMemoryKms kms) {
    return builder().kms(kms).start();
  }

  /** {@return a builder: loopback, ephemeral port, a new {@link InMemoryKms}, no state file} */
  public static Builder builder() {
    return new Builder();
  }

  /** {@return {@code http://127.0.0.1:<port>}, for the SDK's {@code endpointOverride}} */
  public URI endpoint() {
    return endpoint;
  }

  /** {@return the port the server listens on} */
  public int port() {
    return endpoint.getPort();
  }

  /** {@return the KMS behind the server: keys, policies, faults and its call log} */
  public InMemoryKms kms() {
    return api;
  }

  // ---------------------------------------------------------------- wire faults

  /**
   * The next {@code requests} requests get no answer: the server reads them and closes the
   * connection, as after a reset. Clients see an I/O error (and may retry).
   *
   * @param requests how many, 0 to turn off
   */
  public void dropConnections(int requests) {
    synchronized (lock) {
      drops = checkCount(requests);
    }
  }

  /**
   * Every answer waits {@code delay} first, on the builder's {@linkplain Builder#sleeper sleeper}
   * (by default it really waits: keep it short, or use it with a client time-out).
   *
   * @param delay zero to turn off
   */
  public void slowResponses(Duration delay) {
    Objects.requireNonNull(delay, "delay");
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative, was " + delay);
    }
    synchronized (lock) {
      this.delay = delay;
    }
  }

  /**
   * A 503 storm: the next {@code requests} requests are answered {@code 503
   * ServiceUnavailableException} without reaching the fake.
   *
   * @param requests how many, 0 to turn off
   */
  public void serviceUnavailable(int requests) {
    synchronized (lock) {
      unavailable = checkCount(requests);
    }
  }

  /**
   * Answers the next request (whatever its operation) with this error, without reaching the fake;
   * several queue up. Unlike {@link InMemoryKms#failNext} any code works, for example the AWS-wide
   * {@code ExpiredTokenException}.
   *
   * @param errorCode the {@code __type}
   * @param httpStatus 400..599
   * @param message the {@code message}
   */
  public void failNextRequest(String errorCode, int httpStatus, String message) {
    Objects.requireNonNull(errorCode, "errorCode");
    Objects.requireNonNull(message, "message");
    if (httpStatus < 400 || httpStatus > 599) {
      throw new IllegalArgumentException("an error needs a 4xx or 5xx status, not " + httpStatus);
    }
    synchronized (lock) {
      scriptedErrors.add(new ScriptedError(errorCode, httpStatus, message));
    }
  }

  /**
   * Rewrites the JSON body of the next successful answer to {@code operation}, for example to
   * answer Decrypt with another key's ARN; several queue up.
   *
   * @param operation one of {@link InMemoryKms#OPERATIONS}
   * @param rewrite the JSON text in, the JSON text to send out
   */
  public void rewriteNextResponse(String operation, UnaryOperator<String> rewrite) {
    Objects.requireNonNull(rewrite, "rewrite");
    if (!InMemoryKms.OPERATIONS.contains(Objects.requireNonNull(operation, "operation"))) {
      throw new IllegalArgumentException("unknown KMS operation '" + operation + "'");
    }
    synchronized (lock) {
      rewrites.computeIfAbsent(operation, k -> new ArrayList<>()).add(rewrite);
    }
  }

  /** Turns every wire fault off (the fake's own faults stay: {@link InMemoryKms#clearFaults()}). */
  public void clearWireFaults() {
    synchronized (lock) {
      drops = 0;
      unavailable = 0;
      delay = Duration.ZERO;
      scriptedErrors.clear();
      rewrites.clear();
    }
  }

  /** {@return every request since the last {@link #resetRequestLog()}, oldest first; a snapshot} */
  public List<WireCall> requests() {
    synchronized (lock) {
      return List.copyOf(log);
    }
  }

  /**
   * {@return how many requests named it, whatever their outcome (retries included)}
   *
   * @param operation an operation name
   */
  public int requests(String operation) {
    synchronized (lock) {
      return (int) log.stream().filter(c -> c.operation().equals(operation)).count();
    }
  }

  /** Forgets the logged requests. */
  public void resetRequestLog() {
    synchronized (lock) {
      log.clear();
    }
  }

  /**
   * Writes the state file now (it is also written after every successful key or alias change and on
   * {@link #close()}).
   *
   * @throws IllegalStateException if the server has no state file
   */
  public void saveState() {
    if (stateFile == null) {
      throw new IllegalStateException("this server has no state file");
    }
    KmsStateFile.save(stateFile, api);
  }

  /**
   * Stops serving, writes the state file if there is one, and ends the server's threads.
   * Idempotent.
   */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    try {
      http.stop(0);
      executor.shutdownNow();
    } finally {
      if (stateFile != null) {
        KmsStateFile.save(stateFile, api);
      }
    }
  }

  @Override
  public String toString() {
    return "LocalKmsServer[" + endpoint + ", " + api + "]";
  }

  private static int checkCount(int requests) {
    if (requests < 0) {
      throw new IllegalArgumentException("requests must not be negative, was " + requests);
    }
    return requests;
  }

  // ---------------------------------------------------------------- HTTP

  private void handle(HttpExchange ex) throws IOException {
    try {
      serve(ex, ex.getRequestBody().readAllBytes());
    } finally {
      ex.close();
    }
  }

  private void serve(HttpExchange ex, byte[] requestBody) throws IOException {
    String target = Objects.requireNonNullElse(ex.getRequestHeaders().getFirst("X-Amz-Target"), "");
    String operation =
        target.startsWith(TARGET_PREFIX) ? target.substring(TARGET_PREFIX.length()) : target;
    Duration wait;
    boolean drop = false;
    boolean storm = false;
    ScriptedError scripted = null;
    synchronized (lock) {
      wait = delay;
      if (drops > 0) {
        drops--;
        drop = true;
      } else if (unavailable > 0) {
        unavailable--;
        storm = true;
      } else if (!scriptedErrors.isEmpty()) {
        scripted = scriptedErrors.remove(0);
      }
    }
    if (drop) {
      logCall(operation, 0, DROPPED);
      return; // closing the exchange unanswered closes the connection
    }
    if (!wait.isZero()) {
      try {
        sleeper.sleep(wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        logCall(operation, 0, DROPPED);
        return;
      }
    }
    String body;
    int status;
    String outcome;
    try {
      if (storm) {
        throw new WireError(
            "ServiceUnavailableException", 503, "Service Unavailable (simulated 503 storm)");
      }
      if (scripted != null) {
        throw new WireError(scripted.code(), scripted.status(), scripted.message());
      }
      body = dispatch(ex, target, operation, requestBody);
      status = 200;
      outcome = InMemoryKms.OK;
      UnaryOperator<String> rewrite = nextRewrite(operation);
      if (rewrite != null) {
        body = rewrite.apply(body);
      }
    } catch (LocalKmsException e) {
      status = e.httpStatus();
      outcome = e.errorCode();
      body = errorBody(e.errorCode(), stripCode(e));
    } catch (WireError e) {
      status = e.status;
      outcome = e.code;
      body = errorBody(e.code, Objects.toString(e.getMessage(), e.code));
    }
    logCall(operation, status, outcome);
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
    ex.getResponseHeaders().set("x-amzn-RequestId", UUID.randomUUID().toString());
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  private @Nullable UnaryOperator<String> nextRewrite(String operation) {
    synchronized (lock) {
      List<UnaryOperator<String>> q = rewrites.get(operation);
      if (q == null || q.isEmpty()) {
        return null;
      }
      UnaryOperator<String> r = q.remove(0);
      if (q.isEmpty()) {
        rewrites.remove(operation);
      }
      return r;
    }
  }

  private void logCall(String operation, int status, String outcome) {
    synchronized (lock) {
      log.add(new WireCall(operation, status, outcome));
    }
  }

  private String dispatch(HttpExchange ex, String target, String operation, byte[] requestBody) {
    if (!"POST".equals(ex.getRequestMethod()) || !"/".equals(ex.getRequestURI().getPath())) {
      throw new WireError(
          "UnknownOperationException",
          400,
          "KMS answers POST / only, not "
              + ex.getRequestMethod()
              + " "
              + ex.getRequestURI().getPath());
    }
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    if (auth == null || auth.isBlank()) {
      throw new WireError(
          "MissingAuthenticationTokenException", 400, "Missing Authentication Token");
    }
    if (!target.startsWith(TARGET_PREFIX) || !InMemoryKms.OPERATIONS.contains(operation)) {
      throw new WireError(
          "UnknownOperationException", 400, "Unknown operation: X-Amz-Target '" + target + "'");
    }
    String contentType =
        Objects.requireNonNullElse(ex.getRequestHeaders().getFirst("Content-Type"), "");
    if (!contentType.toLowerCase(Locale.ROOT).startsWith(CONTENT_TYPE)) {
      throw new WireError(
          "SerializationException",
          400,
          "Content-Type must be " + CONTENT_TYPE + ", was '" + contentType + "'");
    }
    Request r = Request.parse(requestBody);
    JsonObject out = invoke(operation, r, api.asCaller(callerOf(auth)));
    if (stateFile != null && MUTATING.contains(operation)) {
      KmsStateFile.save(stateFile, api);
    }
    return out.toString();
  }

  /**
   * The caller's principal ARN: the one {@link Builder#principal} maps the SigV4 credential's
   * access key id to, else {@code arn:aws:iam::<account>:user/<access key id>}; a request whose
   * {@code Authorization} header names no credential is served as the account root.
   */
  private String callerOf(String authorization) {
    Matcher m = CREDENTIAL.matcher(authorization);
    if (!m.find()) {
      return api.caller();
    }
    String accessKeyId = m.group(1);
    String mapped = principals.get(accessKeyId);
    return mapped != null ? mapped : "arn:aws:iam::" + api.accountId() + ":user/" + accessKeyId;
  }

  /** One operation: validates the request, calls the KMS as the caller, shapes the answer. */
  private JsonObject invoke(String operation, Request r, InMemoryKms api) {
    JsonObject out = new JsonObject();
    switch (operation) {
      case "CreateKey":
        {
          String description = r.string("Description", false, 0, 8192);
          r.oneOf("KeyUsage", "ENCRYPT_DECRYPT");
          r.oneOf("KeySpec", SYMMETRIC_DEFAULT);
          r.oneOf("CustomerMasterKeySpec", SYMMETRIC_DEFAULT);
          r.oneOf("Origin", "AWS_KMS");
          String policy = r.string("Policy", false, 1, 32768);
          r.string("CustomKeyStoreId", false, 1, 64);
          r.string("XksKeyId", false, 1, 128);
          Boolean bypass = r.bool("BypassPolicyLockoutSafetyCheck");
          r.list("Tags");
          r.check();
          if (r.has("CustomKeyStoreId") || r.has("XksKeyId")) {
            throw unsupported("custom key stores");
          }
          String d = description == null ? "" : description;
          out.add(
              "KeyMetadata",
              metadata(
                  Boolean.TRUE.equals(r.bool("MultiRegion"))
                      ? api.createMultiRegionKey(d, policy, Boolean.TRUE.equals(bypass))
                      : api.createKey(d, policy, Boolean.TRUE.equals(bypass))));
          return out;
        }
      case "CreateGrant":
        {
          String keyId = r.keyId("KeyId", true);
          String grantee = r.string("GranteePrincipal", true, 1, 256);
          List<String> operations = r.strings("Operations");
          r.string("RetiringPrincipal", false, 1, 256);
          r.string("Name", false, 1, 256);
          List<String> tokens = r.strings("GrantTokens");
          r.check();
          if (r.has("Constraints") || r.has("RetiringPrincipal")) {
            throw unsupported("grant constraints and retiring principals");
          }
          InMemoryKms.Grant g =
              withTokens(api, tokens)
                  .createGrant(req(keyId), req(grantee), new java.util.LinkedHashSet<>(operations));
          out.addProperty("GrantId", g.grantId());
          out.addProperty("GrantToken", g.grantToken());
          return out;
        }
      case "RevokeGrant":
        {
          String keyId = r.keyId("KeyId", true);
          String grantId = r.string("GrantId", true, 1, 128);
          r.check();
          api.revokeGrant(req(keyId), req(grantId));
          return out;
        }
      case "PutKeyPolicy":
        {
          String keyId = r.keyId("KeyId", true);
          String policyName = r.string("PolicyName", false, 1, 128);
          String policy = r.string("Policy", true, 1, 32768);
          Boolean bypass = r.bool("BypassPolicyLockoutSafetyCheck");
          r.check();
          checkPolicyName(policyName);
          api.putKeyPolicy(req(keyId), req(policy), Boolean.TRUE.equals(bypass));
          return out;
        }
      case "GetKeyPolicy":
        {
          String keyId = r.keyId("KeyId", true);
          String policyName = r.string("PolicyName", false, 1, 128);
          r.check();
          checkPolicyName(policyName);
          out.addProperty("Policy", api.getKeyPolicy(req(keyId)));
          out.addProperty("PolicyName", DEFAULT_POLICY_NAME);
          return out;
        }
      case "DescribeKey":
        {
          String keyId = r.keyId("KeyId", true);
          InMemoryKms g = withTokens(api, r.strings("GrantTokens"));
          r.check();
          out.add("KeyMetadata", metadata(g.describeKey(req(keyId))));
          return out;
        }
      case "CreateAlias":
      case "UpdateAlias":
        {
          String alias = r.string("AliasName", true, 1, 256);
          String target = r.keyId("TargetKeyId", true);
          r.check();
          if (operation.equals("CreateAlias")) {
            api.createAlias(req(alias), req(target));
          } else {
            api.updateAlias(req(alias), req(target));
          }
          return out;
        }
      case "DeleteAlias":
        {
          String alias = r.string("AliasName", true, 1, 256);
          r.check();
          api.deleteAlias(req(alias));
          return out;
        }
      case "ListAliases":
        {
          String keyId = r.keyId("KeyId", false);
          r.listing();
          JsonArray aliases = new JsonArray();
          for (InMemoryKms.AliasEntry a : api.listAliases(keyId)) {
            JsonObject o = new JsonObject();
            o.addProperty("AliasName", a.aliasName());
            o.addProperty("AliasArn", a.aliasArn());
            o.addProperty("TargetKeyId", a.targetKeyId());
            aliases.add(o);
          }
          out.add("Aliases", aliases);
          out.addProperty("Truncated", false);
          return out;
        }
      case "GenerateDataKey":
      case "GenerateDataKeyWithoutPlaintext":
        {
          String keyId = r.keyId("KeyId", true);
          Map<String, String> context = r.context("EncryptionContext");
          Integer bytes = r.integer("NumberOfBytes", 1, 1024);
          String spec = r.oneOf("KeySpec", DATA_KEY_SPECS.keySet().toArray(new String[0]));
          InMemoryKms g = withTokens(api, r.strings("GrantTokens"));
          r.dataPlaneExtras();
          r.check();
          if ((bytes == null) == (spec == null)) {
            throw validation(
                bytes == null
                    ? "Please specify either number of bytes or key spec."
                    : "Please specify either number of bytes or key spec, not both.");
          }
          int n = bytes != null ? bytes : req(DATA_KEY_SPECS.get(req(spec)));
          InMemoryKms.CiphertextResult c =
              operation.equals("GenerateDataKey")
                  ? g.generateDataKey(req(keyId), context, n)
                  : g.generateDataKeyWithoutPlaintext(req(keyId), context, n);
          out.addProperty("CiphertextBlob", base64(c.ciphertextBlob()));
          byte[] plaintext = c.plaintext();
          if (plaintext != null) {
            out.addProperty("Plaintext", base64(plaintext));
          }
          out.addProperty("KeyId", c.keyId());
          out.addProperty("KeyMaterialId", c.keyMaterialId());
          return out;
        }
      case "Encrypt":
        {
          String keyId = r.keyId("KeyId", true);
          byte[] plaintext = r.blob("Plaintext", true, 4096);
          Map<String, String> context = r.context("EncryptionContext");
          String algorithm = r.algorithm("EncryptionAlgorithm");
          InMemoryKms g = withTokens(api, r.strings("GrantTokens"));
          r.dataPlaneExtras();
          r.check();
          symmetricOnly(algorithm);
          InMemoryKms.CiphertextResult c = g.encrypt(req(keyId), req(plaintext), context);
          out.addProperty("CiphertextBlob", base64(c.ciphertextBlob()));
          out.addProperty("KeyId", c.keyId());
          out.addProperty("EncryptionAlgorithm", SYMMETRIC_DEFAULT);
          return out;
        }
      case "Decrypt":
        {
          byte[] blob = r.blob("CiphertextBlob", true, 6144);
          Map<String, String> context = r.context("EncryptionContext");
          String keyId = r.keyId("KeyId", false);
          String algorithm = r.algorithm("EncryptionAlgorithm");
          InMemoryKms g = withTokens(api, r.strings("GrantTokens"));
          r.dataPlaneExtras();
          r.check();
          symmetricOnly(algorithm);
          InMemoryKms.DecryptResult d = g.decrypt(req(blob), context, keyId);
          out.addProperty("KeyId", d.keyId());
          out.addProperty("Plaintext", base64(d.plaintext()));
          out.addProperty("EncryptionAlgorithm", SYMMETRIC_DEFAULT);
          out.addProperty("KeyMaterialId", d.keyMaterialId());
          return out;
        }
      case "ReEncrypt":
        {
          byte[] blob = r.blob("CiphertextBlob", true, 6144);
          Map<String, String> sourceContext = r.context("SourceEncryptionContext");
          String sourceKeyId = r.keyId("SourceKeyId", false);
          String destinationKeyId = r.keyId("DestinationKeyId", true);
          Map<String, String> destinationContext = r.context("DestinationEncryptionContext");
          String sourceAlgorithm = r.algorithm("SourceEncryptionAlgorithm");
          String destinationAlgorithm = r.algorithm("DestinationEncryptionAlgorithm");
          InMemoryKms g = withTokens(api, r.strings("GrantTokens"));
          r.dataPlaneExtras();
          r.check();
          symmetricOnly(sourceAlgorithm);
          symmetricOnly(destinationAlgorithm);
          InMemoryKms.ReEncryptResult e =
              g.reEncrypt(
                  req(blob), sourceContext, sourceKeyId, req(destinationKeyId), destinationContext);
          out.addProperty("CiphertextBlob", base64(e.ciphertextBlob()));
          out.addProperty("SourceKeyId", e.sourceKeyId());
          out.addProperty("KeyId", e.keyId());
          out.addProperty("SourceEncryptionAlgorithm", SYMMETRIC_DEFAULT);
          out.addProperty("DestinationEncryptionAlgorithm", SYMMETRIC_DEFAULT);
          out.addProperty("SourceKeyMaterialId", e.sourceKeyMaterialId());
          out.addProperty("DestinationKeyMaterialId", e.destinationKeyMaterialId());
          return out;
        }
      case "EnableKey":
      case "DisableKey":
      case "DisableKeyRotation":
        {
          String keyId = r.keyId("KeyId", true);
          r.check();
          if (operation.equals("EnableKey")) {
            api.enableKey(req(keyId));
          } else if (operation.equals("DisableKey")) {
            api.disableKey(req(keyId));
          } else {
            api.disableKeyRotation(req(keyId));
          }
          return out;
        }
      case "ScheduleKeyDeletion":
        {
          String keyId = r.keyId("KeyId", true);
          Integer days = r.integer("PendingWindowInDays", 1, 365);
          r.check();
          InMemoryKms.DeletionSchedule s = api.scheduleKeyDeletion(req(keyId), days);
          out.addProperty("KeyId", s.keyId());
          out.add("DeletionDate", timestamp(s.deletionDate()));
          out.addProperty("KeyState", InMemoryKms.awsKeyState(s.keyState()));
          out.addProperty("PendingWindowInDays", s.pendingWindowInDays());
          return out;
        }
      case "CancelKeyDeletion":
        {
          String keyId = r.keyId("KeyId", true);
          r.check();
          out.addProperty("KeyId", api.cancelKeyDeletion(req(keyId)));
          return out;
        }
      case "EnableKeyRotation":
        {
          String keyId = r.keyId("KeyId", true);
          Integer days = r.integer("RotationPeriodInDays", 90, 2560);
          r.check();
          api.enableKeyRotation(req(keyId), days);
          return out;
        }
      case "GetKeyRotationStatus":
        {
          String keyId = r.keyId("KeyId", true);
          r.check();
          InMemoryKms.KeyRotationStatus s = api.getKeyRotationStatus(req(keyId));
          out.addProperty("KeyId", s.keyId());
          out.addProperty("KeyRotationEnabled", s.keyRotationEnabled());
          if (s.rotationPeriodInDays() != null) {
            out.addProperty("RotationPeriodInDays", s.rotationPeriodInDays());
          }
          Instant next = s.nextRotationDate();
          if (next != null) {
            out.add("NextRotationDate", timestamp(next));
          }
          return out;
        }
      case "RotateKeyOnDemand":
        {
          String keyId = r.keyId("KeyId", true);
          r.check();
          out.addProperty("KeyId", api.rotateKeyOnDemand(req(keyId)));
          return out;
        }
      case "ListKeyRotations":
        {
          String keyId = r.keyId("KeyId", true);
          r.oneOf("IncludeKeyMaterial", "ALL_KEY_MATERIAL", "ROTATIONS_ONLY");
          r.listing();
          JsonArray rotations = new JsonArray();
          for (InMemoryKms.RotationEntry e : api.listKeyRotations(req(keyId))) {
            JsonObject o = new JsonObject();
            o.addProperty("KeyId", e.keyId());
            o.addProperty("KeyMaterialId", e.keyMaterialId());
            o.addProperty("KeyMaterialState", e.current() ? "CURRENT" : "NON_CURRENT");
            o.add("RotationDate", timestamp(e.rotationDate()));
            o.addProperty("RotationType", e.rotationType());
            rotations.add(o);
          }
          out.add("Rotations", rotations);
          out.addProperty("Truncated", false);
          return out;
        }
      default:
        throw new WireError("UnknownOperationException", 400, "Unknown operation " + operation);
    }
  }

  /** A key has one policy, named {@code default}, as in AWS. */
  /** A request field that {@code r.check()} has already found present. */
  private static <T> T req(@Nullable T validated) {
    return Objects.requireNonNull(validated, "a required field passed validation but is null");
  }

  private static void checkPolicyName(@Nullable String policyName) {
    if (policyName != null && !policyName.equals(DEFAULT_POLICY_NAME)) {
      throw new LocalKmsException(
          LocalKmsException.NOT_FOUND,
          "No such key policy '"
              + policyName
              + "'; the only policy name is "
              + DEFAULT_POLICY_NAME);
    }
  }

  private static void symmetricOnly(@Nullable String algorithm) {
    if (algorithm != null && !algorithm.equals(SYMMETRIC_DEFAULT)) {
      throw new LocalKmsException(
          LocalKmsException.INVALID_KEY_USAGE,
          "The encryption algorithm " + algorithm + " is not supported by a symmetric key");
    }
  }

  private static InMemoryKms withTokens(InMemoryKms api, List<String> tokens) {
    if (tokens.size() > 10) {
      throw validation("GrantTokens must have length less than or equal to 10");
    }
    for (String t : tokens) {
      if (t.isEmpty() || t.length() > 8192) {
        throw validation("each of GrantTokens must be 1..8192 characters");
      }
    }
    return api.withGrantTokens(tokens);
  }

  private static JsonObject metadata(InMemoryKms.KeyMetadata m) {
    JsonObject o = new JsonObject();
    o.addProperty("AWSAccountId", m.awsAccountId());
    o.addProperty("KeyId", m.keyId());
    o.addProperty("Arn", m.arn());
    o.add("CreationDate", timestamp(m.creationDate()));
    o.addProperty("Enabled", m.enabled());
    o.addProperty("Description", m.description());
    o.addProperty("KeyUsage", "ENCRYPT_DECRYPT");
    o.addProperty("KeyState", m.keyStateName());
    Instant deletion = m.deletionDate();
    if (deletion != null) {
      o.add("DeletionDate", timestamp(deletion));
    }
    if (m.pendingDeletionWindowInDays() != null) {
      o.addProperty("PendingDeletionWindowInDays", m.pendingDeletionWindowInDays());
    }
    o.addProperty("Origin", "AWS_KMS");
    o.addProperty("KeyManager", "CUSTOMER");
    o.addProperty("CustomerMasterKeySpec", SYMMETRIC_DEFAULT);
    o.addProperty("KeySpec", SYMMETRIC_DEFAULT);
    JsonArray algorithms = new JsonArray();
    algorithms.add(SYMMETRIC_DEFAULT);
    o.add("EncryptionAlgorithms", algorithms);
    InMemoryKms.MultiRegionConfiguration mr = m.multiRegionConfiguration();
    o.addProperty("MultiRegion", mr != null);
    if (mr != null) {
      JsonObject c = new JsonObject();
      c.addProperty("MultiRegionKeyType", mr.multiRegionKeyType());
      c.add("PrimaryKey", regionalKey(mr.primaryKeyArn()));
      JsonArray replicas = new JsonArray();
      mr.replicaKeyArns().forEach(a -> replicas.add(regionalKey(a)));
      c.add("ReplicaKeys", replicas);
      o.add("MultiRegionConfiguration", c);
    }
    o.addProperty("CurrentKeyMaterialId", m.currentKeyMaterialId());
    return o;
  }

  /** {@code {"Arn": ..., "Region": ...}} of a key ARN. */
  private static JsonObject regionalKey(String arn) {
    JsonObject o = new JsonObject();
    o.addProperty("Arn", arn);
    o.addProperty("Region", arn.split(":", 6)[3]);
    return o;
  }

  /** Epoch seconds with milliseconds, written plainly ({@code 1767225600.123}), as AWS does. */
  private static JsonPrimitive timestamp(Instant t) {
    return new JsonPrimitive(BigDecimal.valueOf(t.toEpochMilli(), 3));
  }

  private static String base64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  private static String errorBody(String code, String message) {
    JsonObject o = new JsonObject();
    o.addProperty("__type", code);
    o.addProperty("message", message);
    return o.toString();
  }

  private static String stripCode(LocalKmsException e) {
    String m = Objects.requireNonNullElse(e.getMessage(), "");
    String prefix = e.errorCode() + ": ";
    return m.startsWith(prefix) ? m.substring(prefix.length()) : m;
  }

  private static LocalKmsException unsupported(String what) {
    return new LocalKmsException(
        LocalKmsException.UNSUPPORTED_OPERATION, "LocalKmsServer does not model " + what);
  }

  private static LocalKmsException validation(String message) {
    return new LocalKmsException(LocalKmsException.VALIDATION, message);
  }

  /** A parsed request body: typed member access that collects KMS-style validation errors. */
  private static final class Request {
    private final JsonObject body;
    private final List<String> violations = new ArrayList<>();

    private Request(JsonObject body) {
      this.body = body;
    }

    static Request parse(byte[] bytes) {
      String text = new String(bytes, StandardCharsets.UTF_8);
      if (text.isBlank()) {
        return new Request(new JsonObject());
      }
      try {
        JsonElement e = JsonParser.parseString(text);
        if (!e.isJsonObject()) {
          throw serialization("the request body must be a JSON object");
        }
        return new Request(e.getAsJsonObject());
      } catch (JsonParseException e) {
        throw serialization("the request body is not valid JSON");
      }
    }

    boolean has(String name) {
      JsonElement e = body.get(name);
      return e != null && !e.isJsonNull();
    }

    @Nullable String string(String name, boolean required, int min, int max) {
      JsonElement e = body.get(name);
      if (e == null || e.isJsonNull()) {
        if (required) {
          violations.add(
              "Value null at '"
                  + member(name)
                  + "' failed to satisfy constraint: Member must not be null");
        }
        return null;
      }
      if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
        throw serialization("STRING_VALUE expected for " + name);
      }
      String s = e.getAsString();
      if (s.length() < min) {
        violations.add(
            "Value '"
                + s
                + "' at '"
                + member(name)
                + "' failed to satisfy constraint: Member must have length greater than or equal to "
                + min);
      } else if (s.length() > max) {
        violations.add(
            "Value at '"
                + member(name)
                + "' failed to satisfy constraint: Member must have length less than or equal to "
                + max);
      }
      return s;
    }

    @Nullable String keyId(String name, boolean required) {
      return string(name, required, 1, 2048);
    }

    @Nullable String oneOf(String name, String... allowed) {
      String s = string(name, false, 0, Integer.MAX_VALUE);
      if (s != null && !List.of(allowed).contains(s)) {
        violations.add(
            "Value '"
                + s
                + "' at '"
                + member(name)
                + "' failed to satisfy constraint: Member must satisfy enum value set: "
                + List.of(allowed));
      }
      return s;
    }

    @Nullable String algorithm(String name) {
      return oneOf(name, SYMMETRIC_DEFAULT, "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE");
    }

    @Nullable Integer integer(String name, int min, int max) {
      JsonElement e = body.get(name);
      if (e == null || e.isJsonNull()) {
        return null;
      }
      if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
        throw serialization("NUMBER_VALUE expected for " + name);
      }
      BigDecimal v = e.getAsBigDecimal();
      if (v.signum() != 0 && v.stripTrailingZeros().scale() > 0) {
        throw serialization("an integer expected for " + name);
      }
      if (v.compareTo(BigDecimal.valueOf(min)) < 0) {
        violations.add(
            "Value '"
                + v
                + "' at '"
                + member(name)
                + "' failed to satisfy constraint: Member must have value greater than or equal to "
                + min);
        return null;
      }
      if (v.compareTo(BigDecimal.valueOf(max)) > 0) {
        violations.add(
            "Value '"
                + v
                + "' at '"
                + member(name)
                + "' failed to satisfy constraint: Member must have value less than or equal to "
                + max);
        return null;
      }
      return v.intValueExact();
    }

    @Nullable Boolean bool(String name) {
      JsonElement e = body.get(name);
      if (e == null || e.isJsonNull()) {
        return null;
      }
      if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
        throw serialization("BOOLEAN_VALUE expected for " + name);
      }
      return e.getAsBoolean();
    }

    /** A list of strings, empty when absent. */
    List<String> strings(String name) {
      list(name);
      JsonElement e = body.get(name);
      List<String> out = new ArrayList<>();
      if (e != null && e.isJsonArray()) {
        for (JsonElement item : e.getAsJsonArray()) {
          if (!item.isJsonPrimitive() || !item.getAsJsonPrimitive().isString()) {
            throw serialization("STRING_VALUE expected in " + name);
          }
          out.add(item.getAsString());
        }
      }
      return out;
    }

    void list(String name) {
      JsonElement e = body.get(name);
      if (e != null && !e.isJsonNull() && !e.isJsonArray()) {
        throw serialization("a list expected for " + name);
      }
    }

    byte @Nullable [] blob(String name, boolean required, int max) {
      String s = string(name, required, 0, Integer.MAX_VALUE);
      if (s == null) {
        return null;
      }
      byte[] b;
      try {
        b = Base64.getDecoder().decode(s);
      } catch (IllegalArgumentException e) {
        throw serialization("'" + name + "' is not valid base64");
      }
      if (b.length < 1) {
        violations.add(
            "Value at '"
                + member(name)
                + "' failed to satisfy constraint: Member must have length greater than or equal to 1");
      } else if (b.length > max) {
        violations.add(
            "Value at '"
                + member(name)
                + "' failed to satisfy constraint: Member must have length less than or equal to "
                + max);
      }
      return b;
    }

    Map<String, String> context(String name) {
      JsonElement e = body.get(name);
      if (e == null || e.isJsonNull()) {
        return Map.of();
      }
      if (!e.isJsonObject()) {
        throw serialization("a map expected for " + name);
      }
      Map<String, String> out = new LinkedHashMap<>();
      for (Map.Entry<String, JsonElement> m : e.getAsJsonObject().entrySet()) {
        JsonElement v = m.getValue();
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
          throw serialization("STRING_VALUE expected for " + name + "." + m.getKey());
        }
        out.put(m.getKey(), v.getAsString());
      }
      return out;
    }

    /** Limit and Marker; this server never truncates, so it never hands out a marker. */
    void listing() {
      integer("Limit", 1, 1000);
      String marker = string("Marker", false, 1, 1024);
      check();
      if (marker != null) {
        throw new WireError(
            "InvalidMarkerException",
            400,
            "The marker " + marker + " was not issued by this server");
      }
    }

    /** DryRun and Recipient (Nitro Enclaves) are not modelled. */
    void dataPlaneExtras() {
      if (Boolean.TRUE.equals(bool("DryRun"))) {
        throw unsupported("DryRun");
      }
      if (has("Recipient")) {
        throw unsupported("Recipient (attested enclaves)");
      }
    }

    /**
     * Fails with every violation recorded so far, if any.
     *
     * @throws LocalKmsException ValidationException listing every violation so far
     */
    void check() {
      if (!violations.isEmpty()) {
        int n = violations.size();
        throw validation(
            n
                + " validation error"
                + (n == 1 ? "" : "s")
                + " detected: "
                + String.join("; ", violations));
      }
    }

    private static String member(String name) {
      return Character.toLowerCase(name.charAt(0)) + name.substring(1);
    }

    private static WireError serialization(String message) {
      return new WireError("SerializationException", 400, message);
    }
  }

  // ---------------------------------------------------------------- standalone

  /**
   * Serves a fake KMS until the process is stopped: {@code LocalKmsServer [port [state-file]]}.
   * Port 0 (the default) picks a free one. The endpoint is printed on standard output as {@code
   * LocalKmsServer listening on http://127.0.0.1:<port>}. With a state file, keys, key material and
   * aliases are loaded from it at start and written to it after every change and at exit — in
   * clear, for tests only. Keys are in {@code us-east-1}, account {@code 111122223333}, unless the
   * state file says otherwise. SigV4 signatures are not verified.
   *
   * @param args {@code [port [state-file]]}
   * @throws InterruptedException never in practice: the main thread waits until shutdown
   */
  public static void main(String[] args) throws InterruptedException {
    LocalKmsServer server;
    try {
      server = fromArgs(args);
    } catch (IllegalArgumentException | UncheckedIOException e) {
      System.err.println("LocalKmsServer: " + e.getMessage());
      System.err.println("usage: LocalKmsServer [port [state-file]]   (port 0 = any free port)");
      System.exit(2);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.close();
                  stopped.countDown();
                },
                "local-kms-shutdown"));
    PrintStream out = System.out;
    out.println(
        "LocalKmsServer listening on "
            + server.endpoint()
            + " (region "
            + server.kms().region()
            + ", account "
            + server.kms().accountId()
            + "; SigV4 signatures are not verified)");
    out.flush();
    stopped.await();
  }

  /** Parses {@code [port [state-file]]} and starts the server. */
  static LocalKmsServer fromArgs(String[] args) {
    if (args.length > 2 || (args.length > 0 && args[0].startsWith("-"))) {
      throw new IllegalArgumentException("expected [port [state-file]], got " + List.of(args));
    }
    Builder b = builder();
    if (args.length >= 1) {
      try {
        b.port(Integer.parseInt(args[0]));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("port must be a number, was '" + args[0] + "'", e);
      }
    }
    if (args.length == 2) {
      b.stateFile(Path.of(args[1]));
    }
    return b.start();
  }

  /**
   * Configures a {@link LocalKmsServer}. Not thread-safe; setters fail fast naming the bad value.
   */
  public static final class Builder {
    private @Nullable InMemoryKms kms;
    private InetAddress bindAddress = InetAddress.getLoopbackAddress();
    private int port;
    private @Nullable Path stateFile;
    private InMemoryKms.Sleeper sleeper = InMemoryKms.Sleeper.system();

    private final Map<String, String> principals = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Names the caller that signs with an access key id, for key policies: requests whose SigV4
     * {@code Credential} carries {@code accessKeyId} are authorized as {@code principalArn}.
     * Unmapped access key ids are {@code arn:aws:iam::<account>:user/<access key id>}. Signatures
     * are still not verified: this identifies callers, it does not authenticate them.
     *
     * @param accessKeyId the access key id of the client's static credentials
     * @param principalArn e.g. {@code arn:aws:iam::111122223333:role/storage-host}
     * @return this
     * @throws IllegalArgumentException naming a malformed access key id or principal ARN
     */
    public Builder principal(String accessKeyId, String principalArn) {
      Objects.requireNonNull(accessKeyId, "accessKeyId");
      Objects.requireNonNull(principalArn, "principalArn");
      if (!accessKeyId.matches("[A-Za-z0-9_+=.@-]{1,128}")) {
        throw new IllegalArgumentException(
            "accessKeyId must be 1..128 of [A-Za-z0-9_+=.@-], was '" + accessKeyId + "'");
      }
      InMemoryKms.checkPrincipal(principalArn);
      principals.put(accessKeyId, principalArn);
      return this;
    }

    /**
     * Configures {@code kms}.
     *
     * @param kms the fake to serve; default a new one (or, with a state file, one in the file's
     *     region and account)
     * @return this
     */
    public Builder kms(InMemoryKms kms) {
      this.kms = Objects.requireNonNull(kms, "kms");
      return this;
    }

    /**
     * Configures {@code bindAddress}.
     *
     * @param address a loopback address; default {@link InetAddress#getLoopbackAddress()}
     * @return this
     * @throws IllegalArgumentException for any address that is not loopback, the wildcard included
     */
    public Builder bindAddress(InetAddress address) {
      Objects.requireNonNull(address, "address");
      if (!address.isLoopbackAddress()) {
        throw new IllegalArgumentException(
            "LocalKmsServer binds loopback addresses only, not " + address.getHostAddress());
      }
      this.bindAddress = address;
      return this;
    }

    /**
     * Configures {@code port}.
     *
     * @param port 1..65535, or 0 (the default) for a free ephemeral port
     * @return this
     */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535, was " + port);
      }
      this.port = port;
      return this;
    }

    /**
     * Keeps keys, key material and aliases in this JSON file: loaded at start if it exists, written
     * after every change and on close. The key material is in clear: test material only.
     *
     * @param file the state file
     * @return this
     */
    public Builder stateFile(Path file) {
      this.stateFile = Objects.requireNonNull(file, "file");
      return this;
    }

    /**
     * Configures {@code sleeper}.
     *
     * @param sleeper how {@link LocalKmsServer#slowResponses} waits; default a real sleep
     * @return this
     */
    public Builder sleeper(InMemoryKms.Sleeper sleeper) {
      this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
      return this;
    }

    /**
     * Binds and starts serving.
     *
     * @return the running server
     * @throws UncheckedIOException if the port cannot be bound
     */
    public LocalKmsServer start() {
      InMemoryKms fake = kms;
      if (fake == null) {
        InMemoryKms.Builder fb = InMemoryKms.builder();
        if (stateFile != null && Files.exists(stateFile)) {
          String[] ra = KmsStateFile.regionAndAccount(stateFile);
          fb.region(ra[0]).accountId(ra[1]);
        }
        fake = fb.build();
      }
      try {
        return new LocalKmsServer(this, fake);
      } catch (IOException e) {
        throw new UncheckedIOException(
            "cannot start LocalKmsServer on " + bindAddress.getHostAddress() + ":" + port, e);
      }
    }
  }
}
