package dev.byok.jmh;

import java.io.IOException;
import java.util.Arrays;
import java.util.SplittableRandom;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Small blobs with a warm data-key cache: byok against the AWS Encryption SDK's caching materials
 * manager, both wrapping data keys locally with AES-256-GCM (no KMS), in one and two threads.
 *
 * <p>One operation encrypts one blob of {@code payloadBytes} (written in one call) into an
 * in-memory buffer and decrypts it again, reading 8 KiB at a time. The contender — one client and
 * one cache — is shared by all threads, as in an application; each thread has its own buffers. A
 * trial starts with three round trips that must reproduce the plaintext and must have wrapped and
 * unwrapped exactly one data key, so every measured blob is a cache hit on both sides (byok: {@link
 * ByokBlobContender}; ESDK: {@link EsdkBlobContender}). Scores are round trips per second, summed
 * over the threads.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class SmallBlobBenchmark {

  /** The contender and plaintext, shared by every thread of a trial. */
  @State(Scope.Benchmark)
  public static class Shared {
    @Param({"byok", "esdk-caching", "esdk-keyring"})
    public String competitor;

    @Param({"1024", "65536"})
    public int payloadBytes;

    BlobContender contender;
    byte[] plaintext;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
      plaintext = new byte[payloadBytes];
      new SplittableRandom(payloadBytes).nextBytes(plaintext);
      contender = BlobContender.named(competitor);
      Buffers b = new Buffers();
      b.setUp(this);
      for (int i = 0; i < 3; i++) {
        int n = roundTrip(this, b);
        if (n != plaintext.length || !Arrays.equals(b.plaintext, 0, n, plaintext, 0, n)) {
          throw new IllegalStateException(
              competitor + " does not round-trip " + payloadBytes + " bytes");
        }
      }
      contender.checkWarm();
    }
  }

  /** One thread's ciphertext buffer and plaintext destination, reused for every blob. */
  @State(Scope.Thread)
  public static class Buffers {
    BlobBuffer ciphertext;
    byte[] plaintext;

    @Setup(Level.Trial)
    public void setUp(Shared s) {
      ciphertext = new BlobBuffer(s.payloadBytes + 4096);
      plaintext = new byte[s.payloadBytes + BlobContender.READ_CHUNK];
    }
  }

  static int roundTrip(Shared s, Buffers b) throws IOException {
    b.ciphertext.reset();
    s.contender.encrypt(s.plaintext, b.ciphertext);
    return s.contender.decrypt(b.ciphertext.reader(), b.plaintext);
  }

  @Benchmark
  @Threads(1)
  public int oneThread(Shared s, Buffers b) throws IOException {
    return roundTrip(s, b);
  }

  @Benchmark
  @Threads(2)
  public int twoThreads(Shared s, Buffers b) throws IOException {
    return roundTrip(s, b);
  }
}
