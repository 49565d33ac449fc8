package dev.byok.examples;

import dev.byok.Byok;
import dev.byok.EncryptionContext;
import dev.byok.EnvelopeHeader;
import dev.byok.InvalidCiphertextIOException;
import dev.byok.KeyRef;
import dev.byok.KeyUnusableException;
import dev.byok.RangePlan;
import dev.byok.monitor.KeyStateMonitor;
import dev.byok.testkit.FakeKms;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The main job, end to end on the embedded local KMS (the testkit's {@link FakeKms}; no AWS
 * account): encrypt a directory of files like a snapshot repository would, inspect one blob,
 * decrypt and verify all, read a plaintext range, show that a tampered blob is refused, then revoke
 * the customer's key and watch reads stop, and restore it.
 *
 * <p>Run: {@code mvn -B -ntp -q -DskipTests -pl examples -am package exec:java} (optionally {@code
 * -Dexec.args=/some/dir}).
 */
public final class SnapshotDemo {
  private final PrintStream out;
  private final long started = System.nanoTime();

  SnapshotDemo(PrintStream out) {
    this.out = out;
  }

  public static void main(String[] args) throws IOException {
    Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("byok-demo");
    new SnapshotDemo(System.out).run(dir);
  }

  private void step(String text) {
    out.printf("[%6.3f s] %s%n", (System.nanoTime() - started) / 1e9, text);
  }

  /** Runs the story in {@code dir}; throws if any step does not behave as it says. */
  void run(Path dir) throws IOException {
    FakeKms kms = FakeKms.create();
    String keyArn = kms.api().createKey("customer key").arn();
    kms.api().createAlias("alias/snapshots", keyArn);
    step("created the customer's key " + keyArn + " behind alias/snapshots (local KMS)");

    EncryptionContext ctx = EncryptionContext.of("repository", "nightly", "tenant", "acme");
    try (Byok byok =
        Byok.builder().provider(kms).encryptUnder("fake-kms://alias/snapshots").build()) {
      Path plain = Files.createDirectories(dir.resolve("plain"));
      Path repo = Files.createDirectories(dir.resolve("repository"));
      List<Path> blobs = new ArrayList<>();
      Random random = new Random(42);
      for (int i = 0; i < 8; i++) {
        byte[] data = new byte[1 << (10 + i)]; // 1 KiB .. 128 KiB
        random.nextBytes(data);
        Path src = Files.write(plain.resolve("segment-" + i + ".dat"), data);
        Path blob = repo.resolve("segment-" + i + ".byok");
        byok.encryptFile(src, blob, ctx);
        blobs.add(blob);
      }
      step(
          "encrypted "
              + blobs.size()
              + " files into "
              + repo
              + " with "
              + byok.keys().stats().kmsCalls("generateDataKey")
              + " GenerateDataKey call(s)");

      EnvelopeHeader header;
      try (InputStream in = Files.newInputStream(blobs.get(7))) {
        header = Byok.inspect(in);
      }
      step("inspected " + blobs.get(7).getFileName() + " without any KMS call: " + header);

      for (int i = 0; i < blobs.size(); i++) {
        byte[] back;
        try (InputStream in = byok.newDecryptingStream(Files.newInputStream(blobs.get(i)), ctx)) {
          back = in.readAllBytes();
        }
        if (!Arrays.equals(back, Files.readAllBytes(plain.resolve("segment-" + i + ".dat")))) {
          throw new IllegalStateException("round trip failed for " + blobs.get(i));
        }
      }
      step(
          "decrypted and verified all "
              + blobs.size()
              + " blobs; KMS Decrypt calls: "
              + byok.keys().stats().kmsCalls("decrypt")
              + " (cached data key)");

      byte[] whole = Files.readAllBytes(blobs.get(7));
      RangePlan plan = header.planRange(whole.length, 100_000, 1_000);
      byte[] range;
      try (InputStream in =
          byok.decryptRange(
              header,
              plan,
              new java.io.ByteArrayInputStream(
                  whole, (int) plan.ciphertextOffset(), (int) plan.ciphertextLength()),
              ctx)) {
        range = in.readAllBytes();
      }
      byte[] expected =
          Arrays.copyOfRange(Files.readAllBytes(plain.resolve("segment-7.dat")), 100_000, 101_000);
      if (!Arrays.equals(range, expected)) {
        throw new IllegalStateException("range read failed");
      }
      step(
          "read plaintext bytes 100000..101000 by fetching only "
              + plan.httpRange()
              + " ("
              + plan.ciphertextLength()
              + " of "
              + whole.length
              + " bytes)");

      byte[] tampered = whole.clone();
      tampered[tampered.length - 100] ^= 1;
      Path bad = Files.write(repo.resolve("tampered.byok"), tampered);
      try (InputStream in = byok.newDecryptingStream(Files.newInputStream(bad), ctx)) {
        in.readAllBytes();
        throw new IllegalStateException("tampered blob was accepted");
      } catch (InvalidCiphertextIOException e) { // a stream reports a bad blob as an IOException
        step("a blob with one flipped bit is refused: " + e.reason());
      }

      KeyStateMonitor monitor =
          KeyStateMonitor.builder()
              .provider(kms)
              .dataKeyManager(byok.keys())
              .gracePeriod(Duration.ZERO)
              .eventExecutor(Runnable::run) // events print in the story's order, on this thread
              .build();
      KeyRef alias = KeyRef.parse("fake-kms://alias/snapshots");
      monitor
          .watch(alias)
          .addListener(e -> step("  monitor event: " + e.type() + " - " + e.reason()));
      monitor.probeNow(alias);
      step("monitor watches alias/snapshots: " + monitor.state(alias));

      kms.api().disableKey(keyArn);
      step("the customer disables the key");
      monitor.probeNow(alias);
      monitor.probeNow(alias);
      try (InputStream in = byok.newDecryptingStream(Files.newInputStream(blobs.get(0)), ctx)) {
        in.readAllBytes();
        throw new IllegalStateException("read succeeded on a revoked key");
      } catch (KeyUnusableException e) {
        step("reads are refused (" + e.reason() + "), the monitor says " + monitor.state(alias));
      }

      kms.api().enableKey(keyArn);
      step("the customer enables the key again");
      monitor.probeNow(alias);
      try (InputStream in = byok.newDecryptingStream(Files.newInputStream(blobs.get(0)), ctx)) {
        in.readAllBytes();
      }
      step("reads work again; the monitor says " + monitor.state(alias));
      monitor.close();
    }
    step("done. Blobs are in " + dir);
  }

  /** For tests and callers that want to write a blob by hand. */
  static void write(Byok byok, Path target, byte[] data, EncryptionContext ctx) throws IOException {
    try (OutputStream o = byok.newEncryptingStream(Files.newOutputStream(target), ctx)) {
      o.write(data);
    }
  }
}
