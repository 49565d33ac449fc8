package dev.byok;

import static dev.byok.Blobs.CTX;
import static dev.byok.Blobs.SEGMENT;
import static dev.byok.Blobs.byok;
import static dev.byok.Blobs.decrypt;
import static dev.byok.Blobs.encrypt;
import static dev.byok.Blobs.header;
import static dev.byok.Blobs.plaintext;
import static dev.byok.Blobs.withSlots;
import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.spi.GeneratedDataKey;
import dev.byok.testkit.FakeKmsExtension;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * No data key byte appears in any toString, log line or exception message. A workload that goes
 * through every path, failures included, logs at debug level to the file surefire configures
 * ({@code org.slf4j.simpleLogger.logFile}); then the log, every exception's full trace and every
 * object's toString are scanned for each data key in hex, Base64, decimal and raw form.
 */
class SecretLeakTest {
  private static final String LOG_FILE = "org.slf4j.simpleLogger.logFile";

  @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();
  @TempDir Path dir;

  private final List<byte[]> deks = new ArrayList<>();
  private final List<String> shown =
      new ArrayList<>(); // toString at the time, before any key is zeroed
  private final List<Throwable> thrown = new ArrayList<>();

  @Test
  void noDataKeyByteInLogsExceptionsOrToString() throws IOException {
    String logFile = System.getProperty(LOG_FILE);
    assertThat(logFile)
        .as("run through Maven: surefire sets %s and debug logging", LOG_FILE)
        .isNotNull();

    String k1 = fake.api().createKey().arn();
    String k2 = fake.api().createKey().arn();
    fake.api().createAlias("alias/app", k1);
    Byok byok = byok(fake, "alias/app", k2).decryptCache(2, Duration.ofMinutes(10)).build();
    byok.keys()
        .addObserver(
            (op, key, arn, e) -> {
              throw new IllegalStateException("observer bug"); // logged at warn with a stack trace
            });

    // encrypt: push, pull with and without length, file
    byte[] plain = plaintext(3 * SEGMENT + 7, 1);
    byte[] pushed = encrypt(byok, plain);
    byte[] pulled;
    try (EncryptedInputStream in =
        byok.newEncryptingInputStream(
            new ByteArrayInputStream(plain), plain.length, EncryptionContext.of("tenant", "t2"))) {
      pulled = in.readAllBytes();
    }
    byte[] unknown =
        byok.newEncryptingInputStream(
                new ByteArrayInputStream(plain), EncryptionContext.of("tenant", "t3"))
            .readAllBytes();
    Path src = Files.write(dir.resolve("plain"), plain);
    Path enc = dir.resolve("enc");
    byok.encryptFile(src, enc, CTX);
    Byok once = byok(fake, k1).dataKeyPolicy(DataKeyPolicy.noReuse()).build();
    byte[] a = encrypt(once, plaintext(10, 2));
    byte[] b = encrypt(once, plaintext(10, 3));
    for (byte[] blob : List.of(pushed, pulled, unknown, a, b)) {
      DataKey k = byok.keys().resolve(header(blob));
      deks.add(k.copyKeyMaterial());
      show(k);
      show(header(blob));
    }
    GeneratedDataKey g = fake.kms().generateDataKey(k1, CTX);
    deks.add(g.copyPlaintextKey());
    show(g);

    // decrypt: stream, channel, range, file
    decrypt(byok, pushed);
    try (SeekableByteChannel ch = byok.newDecryptingChannel(FileChannel.open(enc), CTX)) {
      show(ch.size());
    }
    EnvelopeHeader h = Byok.inspect(new ByteArrayInputStream(pushed));
    RangePlan plan = h.planRange(pushed.length, 10, 5000);
    try (InputStream r =
        byok.decryptRange(
            h,
            plan,
            new ByteArrayInputStream(
                pushed, (int) plan.ciphertextOffset(), (int) plan.ciphertextLength()),
            null)) {
      r.readAllBytes();
    }
    byok.decryptFile(enc, dir.resolve("out"), CTX);
    show(plan);

    // rewrap with ReEncrypt
    Byok migrated = byok(fake, k2).allowDecryptWith(k1).build();
    show(migrated.rewrap(enc, dir.resolve("rewrapped"), Blobs.from(fake, k1)));

    // failures
    byte[] tampered = pushed.clone();
    tampered[tampered.length - 5] ^= 1;
    attempt(() -> decrypt(byok, tampered));
    attempt(() -> decrypt(byok, Arrays.copyOf(pushed, pushed.length - 1)));
    attempt(
        () ->
            decrypt(
                byok,
                withSlots(a, header(b).keySlots()))); // unwraps to b's key: commitment mismatch
    attempt(
        () ->
            byok.newDecryptingStream(
                new ByteArrayInputStream(pushed), EncryptionContext.of("x", "y")));
    attempt(() -> decrypt(byok, withSlots(a, List.of(KeySlot.of("evil", k1, new byte[] {1})))));
    attempt(
        () ->
            byok.newEncryptingInputStream(new ByteArrayInputStream(plain), plain.length + 1, CTX)
                .readAllBytes());
    attempt(
        () -> migrated.rewrap(dir.resolve("nothing-here"), dir.resolve("x"), Blobs.from(fake, k1)));
    fake.api().startOutage();
    attempt(() -> decrypt(byok(fake, k1).build(), unknown)); // a cold reader needs KMS
    fake.api().endOutage();
    fake.api().failNext("Decrypt", "ThrottlingException");
    attempt(() -> decrypt(byok(fake, k1).build(), a));
    byok.keys().resolve(header(pushed)).destroy();
    DataKey doomed = java.util.Objects.requireNonNull(byok.keys().cachedKey(header(pushed)));
    fake.api().disableKey(k1);
    attempt(() -> decrypt(byok(fake, k1).build(), b));
    attempt(() -> encrypt(byok, plain, EncryptionContext.of("tenant", "new")));
    byok.keys().invalidate(k1);
    attempt(doomed::copyKeyMaterial);
    byok.keys().lock(k2);
    attempt(() -> decrypt(byok, pushed));

    show(
        byok,
        byok.keys(),
        byok.keys().stats(),
        migrated,
        once,
        fake.kms(),
        CTX,
        h.keySlots(),
        doomed);

    List<String> leaks = new ArrayList<>();
    for (String o : shown) {
      leaks.addAll(leaks("toString", o));
    }
    for (Throwable t : thrown) {
      StringWriter trace = new StringWriter();
      t.printStackTrace(new PrintWriter(trace));
      leaks.addAll(leaks(t.getClass().getSimpleName(), trace.toString()));
    }
    String log = new String(Files.readAllBytes(Path.of(logFile)), StandardCharsets.ISO_8859_1);
    leaks.addAll(leaks("log " + logFile, log));
    assertThat(leaks).isEmpty();

    // the scan saw what it should: every failure path threw, the log holds this workload's lines
    assertThat(thrown).hasSize(13);
    assertThat(log)
        .contains(
            "new data key " + header(pushed).dekIdHex(),
            "purged",
            "observer bug",
            "kms decrypt " + k1 + " -> transient");
    // and it can fail: a key written in any of the forms is found
    byte[] dek = deks.get(0);
    assertThat(leaks("control", "x" + HexFormat.of().withUpperCase().formatHex(dek, 3, 11) + "y"))
        .hasSize(1);
    assertThat(leaks("control", Base64.getUrlEncoder().withoutPadding().encodeToString(dek)))
        .hasSize(1);
    assertThat(leaks("control", new String(dek, StandardCharsets.ISO_8859_1))).hasSize(1);
    assertThat(leaks("control", Arrays.toString(dek))).hasSize(1);
  }

  private void show(Object... objects) {
    for (Object o : objects) {
      shown.add(o.getClass().getSimpleName() + ": " + o);
    }
  }

  /** Runs a step that must fail, and keeps what it threw. */
  private void attempt(ThrowingRunnable r) {
    try {
      r.run();
    } catch (Exception e) {
      thrown.add(e);
      return;
    }
    throw new AssertionError(
        "step " + (thrown.size() + 1) + " of the failure workload did not fail");
  }

  @FunctionalInterface
  private interface ThrowingRunnable {
    void run() throws Exception;
  }

  /** Each data key found in {@code text}, named by where and in which form. */
  private List<String> leaks(String where, String text) {
    List<String> found = new ArrayList<>();
    String lower = text.toLowerCase(java.util.Locale.ROOT);
    for (int i = 0; i < deks.size(); i++) {
      byte[] k = deks.get(i);
      for (String form : forms(k)) {
        if (text.contains(form) || lower.contains(form)) {
          found.add(where + " contains data key " + i + " as " + form);
          break;
        }
      }
    }
    return found;
  }

  /**
   * Hex of every 8-byte window (lower case; the text is searched lower-cased too), Base64, decimal,
   * raw.
   */
  private static Set<String> forms(byte[] k) {
    Set<String> f = new LinkedHashSet<>();
    for (int i = 0; i + 8 <= k.length; i++) {
      f.add(HexFormat.of().formatHex(k, i, i + 8));
    }
    for (Base64.Encoder e : List.of(Base64.getEncoder(), Base64.getUrlEncoder())) {
      f.add(e.withoutPadding().encodeToString(k));
      f.add(e.withoutPadding().encodeToString(Arrays.copyOf(k, 12)));
    }
    String decimal = Arrays.toString(Arrays.copyOf(k, 6));
    f.add(decimal.substring(1, decimal.length() - 1));
    f.add(new String(k, StandardCharsets.ISO_8859_1));
    return f;
  }
}
