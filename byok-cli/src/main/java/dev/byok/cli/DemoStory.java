package dev.byok.cli;

import dev.byok.Byok;
import dev.byok.EncryptionContext;
import dev.byok.EnvelopeHeader;
import dev.byok.KeyRef;
import dev.byok.KeySlot;
import dev.byok.KeyUnusableException;
import dev.byok.ReadPolicy;
import dev.byok.RewrapResult;
import dev.byok.kms.local.LocalKmsServer;
import dev.byok.monitor.KeyEvent;
import dev.byok.monitor.KeyMonitorState;
import dev.byok.monitor.KeyStateListener;
import dev.byok.monitor.KeyStateMonitor;
import dev.byok.spi.KeyProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.jspecify.annotations.NullMarked;

/**
 * The story {@code byok demo} tells: nine steps against a {@link LocalKmsServer} started
 * in-process, reached through the real AWS SDK — the data path through {@link AwsKmsProvider}, the
 * customer's admin actions through a plain {@link KmsClient} — with a {@link KeyStateMonitor}
 * probing at an accelerated pace. Every step checks its own outcome; the first one that does not
 * behave as it says ends the run with a {@link CliException} (exit 1) naming it.
 *
 * <p>One run; not thread-safe. The monitor's listener (its own thread) only queues events; the
 * steps wait for them with a deadline, never by sleeping.
 */
@NullMarked
final class DemoStory {
  static final String ALIAS = "alias/byok-demo";
  static final int STEPS = 9;
  static final Duration PROBE_INTERVAL = Duration.ofMillis(250);
  static final Duration SUSPECT_PROBE_INTERVAL = Duration.ofMillis(100);
  static final Duration GRACE = Duration.ofMillis(500);
  static final Duration TICK = Duration.ofMillis(25);

  /** How long a step waits for the monitor; detection takes well under a second. */
  static final Duration DEADLINE = Duration.ofSeconds(15);

  static final int DELETION_WINDOW_DAYS = 7;
  private static final String INDENT = "      ";

  private final PrintStream out;
  private final Path plain;
  private final Path repo;
  private final DemoKms kms;
  private final KeyProvider provider;
  private final Byok byok;
  private final KeyStateMonitor monitor;
  private final KeyRef alias;
  private final String label;
  private final Events events = new Events();
  private final long started = System.nanoTime();
  private final Supplier<Map<String, Long>> allCalls;
  private String oldKey = "";
  private String newKey = "";

  private DemoStory(
      PrintStream out,
      Path dir,
      DemoKms kms,
      Byok byok,
      KeyStateMonitor monitor,
      Supplier<Map<String, Long>> allCalls) {
    this.out = out;
    this.plain = dir.resolve("plaintext");
    this.repo = dir.resolve("repo");
    this.kms = kms;
    this.provider = kms.provider();
    this.alias = KeyRef.of(provider.providerId(), kms.keyId());
    this.label = kms.keyLabel();
    this.byok = byok;
    this.monitor = monitor;
    this.allCalls = allCalls;
  }

  /**
   * Starts the local KMS, tells the story, and stops everything it started.
   *
   * @param io where to print; its environment is ignored for the KMS (pass an empty one)
   * @param dir an empty work directory
   * @param dirFate what happens to {@code dir} at the end, for the opening lines
   * @throws CliException (exit 1) naming the first step that did not behave as expected
   */
  static void run(CliIo io, Path dir, String dirFate) throws IOException, InterruptedException {
    run(io, dir, dirFate, "aws", server -> {});
  }

  /**
   * {@link #run(CliIo, Path, String)} with a hook that sees the local KMS before the story starts
   * (tests script its faults there, to see a step fail).
   */
  static void run(CliIo io, Path dir, String dirFate, Consumer<LocalKmsServer> onStart)
      throws IOException, InterruptedException {
    run(io, dir, dirFate, "aws", onStart);
  }

  /**
   * {@link #run(CliIo, Path, String, Consumer)} on the test KMS of {@code kmsName} ({@code aws},
   * {@code gcp} or {@code azure}; {@code onStart} only runs for {@code aws}).
   */
  static void run(
      CliIo io, Path dir, String dirFate, String kmsName, Consumer<LocalKmsServer> onStart)
      throws IOException, InterruptedException {
    try (DemoKms kms = DemoKms.start(kmsName, io, onStart)) {
      Supplier<Map<String, Long>> allCalls = kms.callsFromNow();
      Byok.Builder builder =
          Byok.builder()
              .provider(kms.provider())
              .encryptUnder(KeyRef.of(kms.provider().providerId(), kms.keyId()));
      for (String allowed : kms.allowOldVersions()) {
        builder.allowDecryptWith(allowed);
      }
      try (Byok byok = builder.build();
          KeyStateMonitor monitor =
              KeyStateMonitor.builder()
                  .provider(kms.provider())
                  .dataKeyManager(byok.keys())
                  .probeInterval(PROBE_INTERVAL)
                  .suspectProbeInterval(SUSPECT_PROBE_INTERVAL)
                  .gracePeriod(GRACE)
                  .tick(TICK)
                  .maxProbesPerSecond(100)
                  .build()) {
        PrintStream out = io.out();
        out.println(
            "byok demo: bring your own key, end to end, on a local KMS (no "
                + kms.account()
                + "; nothing leaves this machine)");
        out.println("  local KMS  " + kms.serverLine());
        out.println("  work dir   " + dir + " (" + dirFate + ")");
        out.println(
            "  monitor    probes every "
                + PROBE_INTERVAL.toMillis()
                + " ms, grace "
                + GRACE.toMillis()
                + " ms (accelerated; the defaults are 5 min and 30 s)");
        out.println();
        new DemoStory(out, dir, kms, byok, monitor, allCalls).tell();
      }
    }
  }

  private void tell() throws InterruptedException {
    step(1, "Create the customer's key and the alias " + ALIAS, this::createKey);
    step(2, "Encrypt a snapshot directory under " + label, this::encryptSnapshot);
    step(3, "Inspect one blob (its header only: no key, no KMS)", this::inspect);
    step(4, "The customer disables the key", this::disable);
    step(5, "The customer enables the key again", this::enable);
    step(
        6,
        "The customer rotates by hand: a new key, and " + ALIAS + " moves to it",
        this::retarget);
    step(7, "Rewrap the old blobs under the new key", this::rewrap);
    step(
        8,
        "The customer schedules deletion of the old key (" + DELETION_WINDOW_DAYS + "-day window)",
        this::scheduleDeletion);
    step(9, "Summary", this::summary);
  }

  // ------------------------------------------------------------------ the steps

  private void createKey() {
    DemoKms.Created k = kms.createKey();
    oldKey = k.key();
    k.lines().forEach(this::line);
    String problem = k.problem();
    expect(problem == null, String.valueOf(problem));
  }

  private void encryptSnapshot() throws IOException {
    List<Path> files = Snapshot.write(plain.resolve("snapshot-1"));
    Supplier<Map<String, Long>> calls = kms.callsFromNow();
    long t = System.nanoTime();
    long bytes = 0;
    for (Path f : files) {
      Path blob = repo.resolve(plain.relativize(f));
      Files.createDirectories(blob.getParent());
      byok.encryptFile(f, blob, context("snapshot-1"));
      bytes += Files.size(f);
    }
    long nanos = System.nanoTime() - t;
    line(
        files.size()
            + " files, "
            + size(bytes)
            + ": plaintext/snapshot-1 -> repo/snapshot-1 in "
            + String.format(Locale.ROOT, "%.0f ms", nanos / 1e6)
            + " (cold start: this JVM's first encryption, every file forced to disk)");
    line(
        "context repository=demo, snapshot=snapshot-1; KMS: "
            + requests(calls.get())
            + ": one data key for the whole snapshot, wrapped under the customer's key");
    Warm warm = warmThroughput();
    line(
        warm.stable()
            ? String.format(
                Locale.ROOT,
                "warm path: %.0f MiB/s (the same key and context, %d MiB in memory after %d MiB of "
                    + "warm-up; no disk)",
                warm.mibPerSecond(),
                WARM_ROUND_BYTES >> 20,
                warm.warmupMib())
            : String.format(
                Locale.ROOT,
                "warm path: not reached within %d s on this machine (the last %d MiB in memory ran "
                    + "at %.0f MiB/s after %d MiB of warm-up)",
                WARM_BUDGET.toSeconds(),
                WARM_ROUND_BYTES >> 20,
                warm.mibPerSecond(),
                warm.warmupMib()));
    expect(warm.mibPerSecond() > 0, "the warm path encrypted nothing");
    expect(blobs(repo).size() == files.size(), "expected " + files.size() + " blobs in " + repo);
  }

  private static final String SNAPSHOT = "snapshot-1";

  /** One timed round of the warm-path measurement. */
  static final int WARM_ROUND_BYTES = 16 << 20;

  /** At most this many rounds: the first ones warm the JIT up. */
  static final int WARM_MAX_ROUNDS = 16;

  /** No new round starts after this long: the demo stays a few seconds on a slow machine. */
  static final Duration WARM_BUDGET = Duration.ofSeconds(1);

  /**
   * The warm path's throughput.
   *
   * @param mibPerSecond the last round's throughput
   * @param warmupMib how many MiB this JVM encrypted in the rounds before it
   * @param stable whether it agreed with the round before within 10% (else the budget ran out)
   */
  record Warm(double mibPerSecond, long warmupMib, boolean stable) {}

  /**
   * Encrypts rounds of {@link #WARM_ROUND_BYTES} in memory (into a discarding stream) under the
   * snapshot's key and context until two rounds in a row agree within 10% (at least three rounds),
   * {@link #WARM_MAX_ROUNDS} rounds or {@link #WARM_BUDGET}, whichever comes first.
   *
   * @return the last round's throughput: what this JVM encrypts at once warm
   */
  private Warm warmThroughput() throws IOException {
    byte[] chunk = new byte[1 << 20];
    new Random(7).nextBytes(chunk);
    EncryptionContext ctx = context(SNAPSHOT);
    long start = System.nanoTime();
    double last = 0;
    for (int round = 1; ; round++) {
      long t = System.nanoTime();
      try (OutputStream enc = byok.newEncryptingStream(OutputStream.nullOutputStream(), ctx)) {
        for (int written = 0; written < WARM_ROUND_BYTES; written += chunk.length) {
          enc.write(chunk);
        }
      }
      long end = System.nanoTime();
      double mibs = WARM_ROUND_BYTES / 1048576.0 / Math.max(end - t, 1) * 1e9;
      boolean stable = round >= 3 && Math.abs(mibs - last) <= 0.1 * last;
      if (stable || round == WARM_MAX_ROUNDS || end - start >= WARM_BUDGET.toNanos()) {
        return new Warm(mibs, (long) (round - 1) * (WARM_ROUND_BYTES >> 20), stable);
      }
      last = mibs;
    }
  }

  private void inspect() throws IOException {
    Path blob = repo.resolve("snapshot-1/data/seg-0001.dat");
    Supplier<Map<String, Long>> calls = kms.callsFromNow();
    EnvelopeHeader h = BlobPaths.header(blob);
    long length = Files.size(blob);
    long requests = calls.get().values().stream().mapToLong(Long::longValue).sum();
    line(
        repo.relativize(blob)
            + ": format v"
            + h.formatVersion()
            + ", suite "
            + h.suiteId()
            + " (AES-256-GCM, HKDF-SHA256), segments of "
            + h.segmentSize()
            + " bytes, "
            + size(length)
            + " on disk for "
            + size(h.plaintextLength(length))
            + " of plaintext");
    line(
        "context "
            + h.encryptionContext().asMap().entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(", ")));
    for (KeySlot s : h.keySlots()) {
      line(
          "key slot "
              + s.providerId()
              + " "
              + s.keyArn()
              + " (data key wrapped in "
              + s.wrappedKeyLength()
              + " bytes)");
    }
    line("KMS requests made: " + requests);
    expect(requests == 0, "inspect made " + requests + " KMS requests");
    expect(
        h.encryptionContext().equals(context("snapshot-1")),
        "unexpected context " + h.encryptionContext());
    expect(slotArns(h).equals(List.of(oldKey)), "the key slot should name " + oldKey);
  }

  private void disable() throws IOException, InterruptedException {
    monitor.watch(alias).addListener(events);
    monitor.probeNow(alias); // learns the ARN behind the alias and makes its canary
    expect(
        monitor.state(alias) == KeyMonitorState.ACTIVE && oldKey.equals(monitor.keyArn(alias)),
        "the first probe saw " + monitor.state(alias) + " " + monitor.keyArn(alias));
    monitor.start();
    line("monitor watches " + kms.keyId() + " (-> " + oldKey + "): " + monitor.state(alias));

    events.clear();
    String disabled = kms.disable(oldKey);
    long t0 = System.nanoTime();
    List<Seen> seen =
        events.await(e -> e.type() == KeyEvent.Type.LOCKED, "the monitor's LOCKED event");
    Seen locked = seen.get(seen.size() - 1);
    String suspect =
        seen.stream()
            .filter(
                s ->
                    s.event().type() == KeyEvent.Type.STATE_CHANGED
                        && s.event().to() == KeyMonitorState.SUSPECT)
            .findFirst()
            .map(s -> "SUSPECT after " + s.millisSince(t0) + " ms (" + s.event().reason() + "), ")
            .orElse("");
    line(disabled + "; monitor: " + suspect + "LOCKED after " + locked.millisSince(t0) + " ms");
    line(
        "the host now locks the repository: it is told, it does not have to find out from failed reads");

    long callsBefore = dataPathCalls();
    Path blob = repo.resolve("snapshot-1/index-0");
    try (InputStream in =
        byok.newDecryptingStream(Files.newInputStream(blob), context("snapshot-1"))) {
      in.readAllBytes();
      throw new Unexpected(
          "reading " + repo.relativize(blob) + " worked although the key is disabled");
    } catch (KeyUnusableException e) {
      expect(
          e.reason() == KeyUnusableException.Reason.LOCKED,
          "the read failed with " + e.reason() + ", not LOCKED");
      long calls = dataPathCalls() - callsBefore;
      line("read refused: " + Failures.describe(e));
      line(
          "(byok decrypt would exit "
              + Failures.exitCode(e)
              + "; refused in-process, KMS requests: "
              + calls
              + ")");
      expect(calls == 0, "the locked key still reached the KMS " + calls + " times");
    }
  }

  private void enable() throws IOException, InterruptedException {
    events.clear();
    String enabled = kms.enable(oldKey);
    long t0 = System.nanoTime();
    List<Seen> seen =
        events.await(e -> e.type() == KeyEvent.Type.UNLOCKED, "the monitor's UNLOCKED event");
    line(
        enabled
            + "; monitor: UNLOCKED after "
            + seen.get(seen.size() - 1).millisSince(t0)
            + " ms (its canary decrypts again); the host unlocks");
    List<Path> blobs = blobs(repo.resolve("snapshot-1"));
    for (Path blob : blobs) {
      checkDecrypts(byok, blob);
    }
    line("reads work again: " + blobs.size() + " blobs decrypt to the original bytes");
  }

  private void retarget() throws IOException, InterruptedException {
    kms.prepareRotation();
    events.clear();
    DemoKms.Rotated rotated = kms.rotate(oldKey);
    newKey = rotated.newKey();
    long t0 = System.nanoTime();
    List<Seen> seen =
        events.await(e -> e.type() == KeyEvent.Type.KEY_RETARGETED, "the KEY_RETARGETED event");
    Seen r = seen.get(seen.size() - 1);
    line(rotated.line());
    line(
        "monitor: KEY_RETARGETED after "
            + r.millisSince(t0)
            + " ms: "
            + r.event().previousArn()
            + " -> "
            + r.event().keyArn());
    expect(
        oldKey.equals(r.event().previousArn()) && newKey.equals(r.event().keyArn()),
        "expected " + kms.keyId() + " to move from " + oldKey + " to " + newKey);

    Path source = Snapshot.writeIndex(plain.resolve("snapshot-2"), List.of());
    Path blob = repo.resolve(plain.relativize(source));
    Files.createDirectories(blob.getParent());
    byok.encryptFile(source, blob, context("snapshot-2"));
    List<String> arns = slotArns(BlobPaths.header(blob));
    line("new blob " + repo.relativize(blob) + " names " + String.join(", ", arns));
    expect(arns.equals(List.of(newKey)), "the new blob should name " + newKey);
    checkDecrypts(byok, repo.resolve("snapshot-1/index-0"));
    line("old blobs still name the old key and still decrypt; the monitor keeps watching it");
  }

  private void rewrap() throws IOException {
    long copied = 0;
    long reencrypted = 0;
    List<Path> old = blobs(repo.resolve("snapshot-1"));
    for (Path blob : old) {
      byte[] before = payloadDigest(blob);
      RewrapResult r =
          byok.rewrap(
              blob,
              blob,
              ReadPolicy.of(
                  List.of(KeyRef.of(provider.providerId(), oldKey)), context("snapshot-1")));
      expect(Arrays.equals(before, payloadDigest(blob)), "the payload of " + blob + " changed");
      expect(
          r.newSlots().stream().map(KeySlot::keyArn).toList().equals(List.of(newKey)),
          repo.relativize(blob) + " was rewrapped under " + r.newSlots() + ", not " + newKey);
      copied += r.payloadBytesCopied();
      reencrypted += r.payloadBytesReencrypted();
    }
    line(
        old.size()
            + " blobs rewrapped (only their headers were rewritten): "
            + size(copied)
            + " of payload copied, unchanged (SHA-256 before = after); payload bytes re-encrypted: "
            + reencrypted);
    expect(reencrypted == 0, reencrypted + " payload bytes were re-encrypted");

    List<Path> all = blobs(repo);
    try (Byok onlyNew =
        Byok.builder()
            .provider(provider)
            .encryptUnder(KeyRef.of(provider.providerId(), newKey))
            .build()) {
      for (Path blob : all) {
        checkDecrypts(onlyNew, blob);
      }
    }
    line(
        "a reader trusting only "
            + newKey
            + " decrypts all "
            + all.size()
            + " blobs to the original bytes: the old key is no longer needed");
  }

  private void scheduleDeletion() throws IOException, InterruptedException {
    events.clear();
    DemoKms.Deletion r = kms.scheduleDeletion(oldKey);
    long t0 = System.nanoTime();
    long left = 0;
    for (Path blob : blobs(repo)) {
      if (slotArns(BlobPaths.header(blob)).contains(oldKey)) {
        left++;
      }
    }
    Instant scheduled = r.date();
    if (scheduled == null) {
      r.lines().forEach(this::line);
      line(
          "blobs still under the old version: "
              + left
              + (left == 0 ? " (all rewrapped)" : "")
              + "; the monitor never deletes anything");
      expect(left == 0, left + " blobs still depend on the old key");
      return;
    }
    List<Seen> seen =
        events.await(
            e -> e.type() == KeyEvent.Type.DELETION_SCHEDULED && oldKey.equals(e.keyArn()),
            "the DELETION_SCHEDULED event for the old key");
    Seen d = seen.get(seen.size() - 1);
    Instant date = d.event().deletionDate();
    expect(
        date != null
            && Duration.between(date, scheduled).abs().compareTo(Duration.ofSeconds(1)) < 0,
        "the event's deletion date " + date + " is not the scheduled " + scheduled);
    line(r.action() + "; monitor: DELETION_SCHEDULED after " + d.millisSince(t0) + " ms");
    line(
        "WARNING: "
            + r.what()
            + " "
            + oldKey
            + " will be "
            + r.verb()
            + " on "
            + scheduled.atOffset(ZoneOffset.UTC).toLocalDate()
            + " (UTC); blobs still under it would become unreadable: "
            + left
            + " left"
            + (left == 0 ? " (all rewrapped)" : ""));
    line(
        "until then the customer can still cancel the deletion; the monitor never deletes anything");
    expect(left == 0, left + " blobs still depend on the old key");
  }

  private void summary() {
    line("every step behaved as expected, in " + millisSince(started) + " ms");
    line("the local KMS answered " + requests(allCalls.get()));
    line("stopping the monitor and the local KMS");
  }

  // ------------------------------------------------------------------ helpers

  /** One step's work; it throws {@link Unexpected} when its outcome is not the one it announced. */
  @FunctionalInterface
  private interface Step {
    void run() throws IOException, InterruptedException;
  }

  /** A step's outcome was not the expected one. */
  private static final class Unexpected extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unexpected(String message) {
      super(message);
    }
  }

  private void step(int n, String title, Step body) throws InterruptedException {
    title = kms.title(n, title);
    out.println("[" + n + "/" + STEPS + "] " + title);
    out.flush();
    long t = System.nanoTime();
    try {
      body.run();
    } catch (InterruptedException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      String why = e instanceof Unexpected ? e.getMessage() : Failures.describe(e);
      line("FAILED: " + why);
      out.flush();
      throw new CliException(
          ExitCodes.FAILURE,
          "demo step " + n + "/" + STEPS + " (" + title + ") did not go as expected: " + why,
          e);
    }
    line("done in " + millisSince(t) + " ms");
    out.flush();
  }

  private void line(String s) {
    out.println(INDENT + s);
  }

  private static void expect(boolean condition, String otherwise) {
    if (!condition) {
      throw new Unexpected(otherwise);
    }
  }

  private static long millisSince(long nanoTime) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanoTime);
  }

  private static EncryptionContext context(String snapshot) {
    return EncryptionContext.of("repository", "demo", "snapshot", snapshot);
  }

  private long dataPathCalls() {
    return byok.keys().stats().kmsCalls().values().stream().mapToLong(Long::longValue).sum();
  }

  /**
   * Decrypts a blob with the context its snapshot was written with and compares it with its
   * plaintext.
   */
  private void checkDecrypts(Byok reader, Path blob) throws IOException {
    Path rel = repo.relativize(blob);
    byte[] got;
    try (InputStream in =
        reader.newDecryptingStream(
            Files.newInputStream(blob), context(rel.getName(0).toString()))) {
      got = digest(in);
    }
    byte[] want;
    try (InputStream in = Files.newInputStream(plain.resolve(rel))) {
      want = digest(in);
    }
    expect(Arrays.equals(got, want), rel + " did not decrypt to its original bytes");
  }

  /**
   * @return every blob under {@code dir}, in sorted order
   */
  private static List<Path> blobs(Path dir) throws IOException {
    return BlobPaths.expand(List.of(dir)).stream().map(BlobPaths.Entry::file).toList();
  }

  private static List<String> slotArns(EnvelopeHeader h) {
    return h.keySlots().stream().map(KeySlot::keyArn).toList();
  }

  /**
   * @return SHA-256 of the blob's payload: everything after the header's key slots
   */
  private static byte[] payloadDigest(Path blob) throws IOException {
    int offset = BlobPaths.header(blob).payloadOffset();
    try (FileChannel ch = FileChannel.open(blob, StandardOpenOption.READ)) {
      ch.position(offset);
      return digest(Channels.newInputStream(ch));
    }
  }

  private static byte[] digest(InputStream in) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    try (DigestInputStream d = new DigestInputStream(in, md)) {
      d.transferTo(OutputStream.nullOutputStream());
    }
    return md.digest();
  }

  /**
   * @return e.g. {@code 3 (GenerateDataKey 1, Decrypt 2)}
   */
  private static String requests(Map<String, Long> byOp) {
    long total = byOp.values().stream().mapToLong(Long::longValue).sum();
    String ops =
        byOp.entrySet().stream()
            .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
            .map(e -> e.getKey() + " " + e.getValue())
            .collect(Collectors.joining(", "));
    return total
        + (total == 1 ? " request" : " requests")
        + (ops.isEmpty() ? "" : " (" + ops + ")");
  }

  private static String size(long bytes) {
    if (bytes < 1024) {
      return bytes + " bytes";
    }
    return String.format(
        Locale.ROOT,
        "%,d bytes (%.1f %s)",
        bytes,
        bytes < 1048576 ? bytes / 1024.0 : bytes / 1048576.0,
        bytes < 1048576 ? "KiB" : "MiB");
  }

  // ------------------------------------------------------------------ monitor events

  /** One event and when it arrived. */
  private record Seen(KeyEvent event, long nanoTime) {
    long millisSince(long t0) {
      return Math.max(0, TimeUnit.NANOSECONDS.toMillis(nanoTime - t0));
    }
  }

  /** Queues the monitor's events; the steps wait for the one they expect. */
  private static final class Events implements KeyStateListener {
    private final LinkedBlockingQueue<Seen> queue = new LinkedBlockingQueue<>();

    @Override
    public void onEvent(KeyEvent event) {
      queue.add(new Seen(event, System.nanoTime()));
    }

    void clear() {
      queue.clear();
    }

    /**
     * @return the events up to and including the first one that matches
     * @throws Unexpected if none arrives within {@link #DEADLINE}
     */
    List<Seen> await(Predicate<KeyEvent> match, String what) throws InterruptedException {
      long deadline = System.nanoTime() + DEADLINE.toNanos();
      List<Seen> seen = new ArrayList<>();
      while (true) {
        long left = deadline - System.nanoTime();
        Seen s = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : null;
        if (s == null) {
          throw new Unexpected(
              "no "
                  + what
                  + " within "
                  + DEADLINE.toSeconds()
                  + " s (saw: "
                  + seen.stream()
                      .map(x -> x.event().type().toString())
                      .collect(Collectors.joining(", "))
                  + ")");
        }
        seen.add(s);
        if (match.test(s.event())) {
          return seen;
        }
      }
    }
  }

  // ------------------------------------------------------------------ the snapshot

  /**
   * Writes snapshot-like plaintext: deterministic content, varied sizes (one spans many segments).
   */
  static final class Snapshot {
    /** Data files and their sizes: a multi-segment one, mid-sized ones, a tiny and an empty one. */
    private static final Map<String, Integer> DATA = new LinkedHashMap<>();

    static {
      DATA.put("data/seg-0001.dat", 4 * 1024 * 1024 + 12_345);
      DATA.put("data/seg-0002.dat", 300_000);
      DATA.put("data/seg-0003.dat", 65_536);
      DATA.put("data/seg-0004.dat", 17);
      DATA.put("data/seg-0005.dat", 0);
    }

    private Snapshot() {}

    /**
     * @return the files written under {@code dir}, sorted
     */
    static List<Path> write(Path dir) throws IOException {
      List<Path> files = new ArrayList<>();
      long seed = 1;
      for (Map.Entry<String, Integer> e : DATA.entrySet()) {
        byte[] data = new byte[e.getValue()];
        new Random(seed++).nextBytes(data);
        Path f = dir.resolve(e.getKey());
        Files.createDirectories(f.getParent());
        files.add(Files.write(f, data));
      }
      files.add(writeIndex(dir, files));
      files.sort(null);
      return files;
    }

    /** Writes {@code dir/index-0}, a small JSON list of the snapshot's files. */
    static Path writeIndex(Path dir, List<Path> files) throws IOException {
      StringBuilder b =
          new StringBuilder("{\"snapshot\":\"").append(dir.getFileName()).append("\",\"files\":[");
      for (int i = 0; i < files.size(); i++) {
        Path f = files.get(i);
        b.append(i == 0 ? "" : ",")
            .append("{\"name\":\"")
            .append(dir.relativize(f).toString().replace('\\', '/'))
            .append("\",\"length\":")
            .append(Files.size(f))
            .append('}');
      }
      b.append("]}\n");
      Files.createDirectories(dir);
      return Files.writeString(dir.resolve("index-0"), b);
    }
  }
}
