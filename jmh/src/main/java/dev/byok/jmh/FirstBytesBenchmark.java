package dev.byok.jmh;

import dev.byok.DataKey;
import dev.byok.DataKeyResolver;
import dev.byok.EncryptionContext;
import dev.byok.EnvelopeDecryptor;
import dev.byok.EnvelopeEncryptor;
import dev.byok.KeySlot;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The first 64 MiB a fresh JVM encrypts, and the first 64 MiB a fresh JVM decrypts: one single-shot
 * measurement per fork, no warm-up, many forks — the cost a CLI run or a freshly started service
 * pays before the JIT has compiled the AES-GCM path (docs/benchmarks.md, "CLI cold start"). In 1
 * MiB writes/reads, 64 KiB segments, in memory (no disk, no KMS: a fixed data key).
 *
 * <p>Each operation comes twice: with the JVM's default flags, and with the {@code byok} launcher's
 * flags ({@code -XX:+UseSerialGC} and {@code CompileThresholdScaling} 0.1 for {@code
 * com.sun.crypto.provider}; keep them in step with byok-cli/src/main/launcher/byok). The blob the
 * decrypt benchmarks read is written by a separate JVM ({@link MakeBlob}) on first use, so the
 * measuring JVM has encrypted nothing before it decrypts.
 *
 * <p>{@code java -jar jmh/target/benchmarks.jar FirstBytesBenchmark -f 20}
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Fork(10)
public class FirstBytesBenchmark {
  static final int MIB = 1 << 20;
  static final int TOTAL = 64 * MIB;

  /** A fixed, public data key: this benchmark measures the cipher path, not key management. */
  static DataKey key() {
    byte[] id = new byte[DataKey.ID_LENGTH];
    byte[] material = new byte[DataKey.KEY_LENGTH];
    for (int i = 0; i < material.length; i++) {
      material[i] = (byte) (i * 7 + 1);
    }
    return DataKey.of(id, material);
  }

  static EnvelopeEncryptor encryptor() {
    return EnvelopeEncryptor.builder()
        .dataKey(key())
        .keySlot(
            KeySlot.of("aws-kms", "arn:aws:kms:eu-west-1:111122223333:key/bench", new byte[184]))
        .encryptionContext(EncryptionContext.of("repository", "bench"))
        .build();
  }

  static byte[] chunk() {
    byte[] b = new byte[MIB];
    new Random(1).nextBytes(b);
    return b;
  }

  /** The plaintext chunk, written 64 times. */
  @State(Scope.Benchmark)
  public static class Plain {
    byte[] chunk;
    EnvelopeEncryptor encryptor;

    @Setup(Level.Trial)
    public void setUp() {
      chunk = chunk();
      encryptor = encryptor();
    }
  }

  /** The 64 MiB blob, written by another JVM. */
  @State(Scope.Benchmark)
  public static class Blob {
    byte[] blob;
    EnvelopeDecryptor decryptor;
    byte[] buffer = new byte[MIB];

    @Setup(Level.Trial)
    public void setUp() throws IOException, InterruptedException {
      Path file = Path.of(System.getProperty("java.io.tmpdir"), "byok-first-bytes-64MiB.byok");
      if (!Files.exists(file)) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(MakeBlob.class.getName());
        cmd.add(file.toString());
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        if (p.waitFor() != 0 || !Files.exists(file)) {
          throw new IllegalStateException("could not write " + file + ": " + cmd);
        }
      }
      blob = Files.readAllBytes(file);
      decryptor = EnvelopeDecryptor.create(DataKeyResolver.of(key()));
    }
  }

  /** Writes the blob the decrypt benchmarks read, in its own JVM. */
  public static final class MakeBlob {
    private MakeBlob() {}

    /**
     * Writes the 64 MiB blob.
     *
     * @param args the output file
     */
    public static void main(String[] args) throws IOException {
      Path target = Path.of(args[0]);
      Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
      byte[] chunk = chunk();
      try (OutputStream out = encryptor().newEncryptingStream(Files.newOutputStream(tmp))) {
        for (int n = 0; n < TOTAL; n += MIB) {
          out.write(chunk);
        }
      }
      Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
  }

  /** Counts and drops what it is given. */
  static final class Counting extends OutputStream {
    long count;

    @Override
    public void write(int b) {
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      count += len;
    }
  }

  static long encrypt(Plain p) throws IOException {
    Counting sink = new Counting();
    try (OutputStream out = p.encryptor.newEncryptingStream(sink)) {
      for (int n = 0; n < TOTAL; n += MIB) {
        out.write(p.chunk);
      }
    }
    if (sink.count <= TOTAL) {
      throw new IllegalStateException("encrypted to " + sink.count + " bytes");
    }
    return sink.count;
  }

  static long decrypt(Blob b) throws IOException {
    long total = 0;
    try (InputStream in = b.decryptor.newDecryptingStream(new ByteArrayInputStream(b.blob))) {
      for (int n; (n = in.read(b.buffer)) > 0; ) {
        total += n;
      }
    }
    if (total != TOTAL) {
      throw new IllegalStateException("decrypted " + total + " bytes, not " + TOTAL);
    }
    return total;
  }

  /** The first 64 MiB encrypted by a JVM with default flags. */
  @Benchmark
  public long encryptFirst64MiB(Plain p) throws IOException {
    return encrypt(p);
  }

  /** The first 64 MiB encrypted by a JVM with the launcher's flags. */
  @Benchmark
  @Fork(
      value = 10,
      jvmArgsAppend = {
        "-XX:+UseSerialGC",
        "-XX:CompileCommand=quiet",
        "-XX:CompileCommand=CompileThresholdScaling,com.sun.crypto.provider.*::*,0.1"
      })
  public long encryptFirst64MiBLauncherFlags(Plain p) throws IOException {
    return encrypt(p);
  }

  /** The first 64 MiB decrypted by a JVM with default flags. */
  @Benchmark
  public long decryptFirst64MiB(Blob b) throws IOException {
    return decrypt(b);
  }

  /** The first 64 MiB decrypted by a JVM with the launcher's flags. */
  @Benchmark
  @Fork(
      value = 10,
      jvmArgsAppend = {
        "-XX:+UseSerialGC",
        "-XX:CompileCommand=quiet",
        "-XX:CompileCommand=CompileThresholdScaling,com.sun.crypto.provider.*::*,0.1"
      })
  public long decryptFirst64MiBLauncherFlags(Blob b) throws IOException {
    return decrypt(b);
  }
}
