package dev.byok.jmh;

import dev.byok.DataKey;
import dev.byok.DataKeyResolver;
import dev.byok.EncryptionContext;
import dev.byok.EnvelopeDecryptor;
import dev.byok.EnvelopeEncryptor;
import dev.byok.KeySlot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One blob on every core (issue 13's 1 GiB-file target): one blob of {@code payloadMiB} MiB in a
 * direct buffer encrypted to a {@link FileChannel} on {@code /dev/null} by positional writes, and
 * decrypted from a page-cache-resident envelope file into a direct buffer by positional reads, with
 * {@code parallelism} segments in flight on a fixed pool ({@code 1}: the calling thread alone).
 * Scores are blobs per second; multiply by {@code payloadMiB} for MiB/s. The ratio of the {@code
 * parallelism=2} and {@code 1} rows at the same segment size is the one-blob-on-two-cores speed-up
 * ({@code run.sh} prints it).
 *
 * <p>Why 64 MiB and not the 1 GiB file the issue names: the parallel path works segment by segment
 * (at most {@code parallelism} segments in flight, each an independent {@code init + doFinal} and
 * one positional write or read), so its cost per byte does not depend on the blob's length once the
 * blob holds many segments per worker (64 MiB is 1024 segments of 64 KiB, 64 of 1 MiB). A 1 GiB
 * file would add what this benchmark keeps out on purpose: disk or page-cache write-back (which
 * measures the storage, not byok) and 3 GiB of direct buffers per fork. The proxy keeps the same
 * system calls (a real {@link FileChannel}, positional I/O) without the disk. To run the literal
 * size anyway: {@code -p payloadMiB=1024 -jvmArgsAppend -XX:MaxDirectMemorySize=4g} on a machine
 * with 6 GiB free. Buffer-to-buffer decryption without a channel is {@code
 * StreamingThroughputBenchmark}'s {@code byok-nio-direct} row.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 4, time = 4)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:MaxDirectMemorySize=1g"})
@Threads(1)
@State(Scope.Thread)
public class ParallelThroughputBenchmark {
  @Param({"65536", "1048576"})
  public int segmentSize;

  @Param({"64"})
  public int payloadMiB;

  @Param({"1", "2"})
  public int parallelism;

  private ByteBuffer plaintext;
  private ByteBuffer envelope;
  private ByteBuffer decrypted;
  private EnvelopeEncryptor encryptor;
  private EnvelopeDecryptor decryptor;
  private FileChannel sink;
  private FileChannel source;
  private Path envelopeFile;
  private ExecutorService pool;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    int n = payloadMiB << 20;
    plaintext = ByteBuffer.allocateDirect(n);
    SplittableRandom random = new SplittableRandom(payloadMiB);
    while (plaintext.remaining() >= 8) {
      plaintext.putLong(random.nextLong());
    }
    plaintext.clear();
    DataKey key = DataKey.generate();
    encryptor =
        EnvelopeEncryptor.builder()
            .dataKey(key)
            .keySlot(
                KeySlot.of(
                    "aws-kms", "arn:aws:kms:eu-west-1:111122223333:key/bench", new byte[184]))
            .encryptionContext(EncryptionContext.of("repository", "bench"))
            .segmentSize(segmentSize)
            .build();
    decryptor = EnvelopeDecryptor.create(DataKeyResolver.of(key));
    envelope = ByteBuffer.allocateDirect((int) encryptor.ciphertextLength(n));
    encryptor.encrypt(plaintext.duplicate(), envelope);
    envelope.flip();
    decrypted = ByteBuffer.allocateDirect(n);
    if (decryptor.decrypt(envelope.duplicate(), decrypted, null) != n
        || !decrypted.flip().equals(plaintext)) {
      throw new IllegalStateException("round trip failed");
    }
    sink = FileChannel.open(Path.of("/dev/null"), StandardOpenOption.WRITE);
    envelopeFile = Files.createTempFile("byok-bench", ".byok");
    try (FileChannel out = FileChannel.open(envelopeFile, StandardOpenOption.WRITE)) {
      ByteBuffer all = envelope.duplicate();
      while (all.hasRemaining()) {
        out.write(all, all.position());
      }
    }
    source = FileChannel.open(envelopeFile, StandardOpenOption.READ); // page-cache resident
    pool = Executors.newFixedThreadPool(parallelism);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    pool.shutdown();
    sink.close();
    source.close();
    Files.deleteIfExists(envelopeFile);
  }

  @Benchmark
  public long encryptToChannel() throws IOException {
    return encryptor.encrypt(plaintext.duplicate(), sink, 0, pool, parallelism);
  }

  @Benchmark
  public int decryptFromChannel() throws IOException {
    ByteBuffer out = decrypted.duplicate();
    out.clear();
    return decryptor.decrypt(source, out, null, pool, parallelism);
  }
}
