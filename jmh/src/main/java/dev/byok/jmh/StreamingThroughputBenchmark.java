package dev.byok.jmh;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * Single-threaded streaming AES-256-GCM throughput: byok's push, pull and channel APIs against raw
 * JCA, Tink's AES-GCM-HKDF streaming AEAD and the AWS Encryption SDK, at two segment sizes.
 *
 * <p>One operation encrypts (or decrypts) one whole blob of {@code payloadMiB} MiB held in memory;
 * output goes to a discarding sink, plaintext is written and read in 64 KiB chunks. Scores are
 * operations (blobs) per second: multiply by {@code payloadMiB} for MiB/s ({@code run.sh} prints
 * that table). Every contender's output is checked once per trial by a full round trip.
 *
 * <p>The two methods have separate parameter sets, so nothing runs that a contender cannot do:
 * decryption has one byok stream API ({@code byok-stream}, the reader of push and pull output
 * alike) plus the channel ({@code byok-channel}), which encrypts nothing of its own. The NIO
 * contenders ({@code byok-nio-heap}, {@code byok-nio-direct}) run in both: whole blob {@code
 * ByteBuffer} to {@code ByteBuffer}, no stream, no 64 KiB chunking (see {@link NioContender}). The
 * floor runs in both directions in two variants, {@code jca} (segment-sized output, the floor of
 * the stream rows) and {@code jca-dram} (blob-sized output, the floor of the NIO rows and issue
 * 13's definition; see {@link JcaContender}).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 4, time = 4)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@Threads(1)
public class StreamingThroughputBenchmark {

  /** Parameters and data every contender shares. */
  @State(Scope.Thread)
  public abstract static class Payload {
    @Param({"65536", "1048576"})
    public int segmentSize;

    /** Plaintext size; the smoke run lowers it with {@code -p payloadMiB=4}. */
    @Param({"64"})
    public int payloadMiB;

    byte[] plaintext;
    Contender contender;

    abstract String competitor();

    @Setup
    public void setUp() throws IOException, GeneralSecurityException {
      plaintext = new byte[payloadMiB << 20];
      SplittableRandom random = new SplittableRandom(payloadMiB);
      for (int i = 0; i < plaintext.length; i += 8) {
        long r = random.nextLong();
        for (int j = 0; j < 8; j++) {
          plaintext[i + j] = (byte) (r >>> (8 * j));
        }
      }
      contender = Contender.named(competitor(), segmentSize);
      byte[] ciphertext = roundTrip();
      prepare(ciphertext);
    }

    /** Encrypts and decrypts once, so a benchmark never measures a contender that is wrong. */
    private byte[] roundTrip() throws IOException, GeneralSecurityException {
      ByteArrayOutputStream ct =
          new ByteArrayOutputStream(plaintext.length + plaintext.length / 8 + 4096);
      contender.encrypt(plaintext, ct);
      byte[] ciphertext = ct.toByteArray();
      ByteArrayOutputStream pt = new ByteArrayOutputStream(plaintext.length);
      contender.decrypt(ciphertext, pt);
      if (!Arrays.equals(pt.toByteArray(), plaintext) || ciphertext.length <= plaintext.length) {
        throw new IllegalStateException(
            competitor() + " does not round-trip at segment size " + segmentSize);
      }
      return ciphertext;
    }

    void prepare(byte[] ciphertext) {}
  }

  /**
   * Encryption contenders: byok's push and pull streams, its NIO path over heap and direct buffers,
   * the two JCA floors, Tink and the AWS Encryption SDK.
   */
  @State(Scope.Thread)
  public static class EncryptState extends Payload {
    @Param({
      "byok-push",
      "byok-pull",
      "byok-nio-heap",
      "byok-nio-direct",
      "jca",
      "jca-dram",
      "tink",
      "esdk"
    })
    public String competitor;

    @Override
    String competitor() {
      return competitor;
    }
  }

  /** Decryption contenders; each decrypts a blob it encrypted during setup. */
  @State(Scope.Thread)
  public static class DecryptState extends Payload {
    @Param({
      "byok-stream",
      "byok-channel",
      "byok-nio-heap",
      "byok-nio-direct",
      "jca",
      "jca-dram",
      "tink",
      "esdk"
    })
    public String competitor;

    byte[] ciphertext;

    @Override
    String competitor() {
      return competitor;
    }

    @Override
    void prepare(byte[] madeBySetup) {
      this.ciphertext = madeBySetup;
    }
  }

  /**
   * Contenders of the two-thread rows: one blob per thread, byok against the multi-core floor (Tink
   * is left out to keep the quiet run under 25 minutes per JDK; {@code -p competitor=tink} adds
   * it).
   */
  @State(Scope.Thread)
  public static class TwoThreadEncryptState extends Payload {
    @Param({"byok-push", "jca"})
    public String competitor;

    @Override
    String competitor() {
      return competitor;
    }
  }

  /** Decryption contenders of the two-thread rows. */
  @State(Scope.Thread)
  public static class TwoThreadDecryptState extends Payload {
    @Param({"byok-stream", "jca"})
    public String competitor;

    byte[] ciphertext;

    @Override
    String competitor() {
      return competitor;
    }

    @Override
    void prepare(byte[] madeBySetup) {
      this.ciphertext = madeBySetup;
    }
  }

  /**
   * Two threads, each encrypting its own blob: the aggregate over both cores (the score is blobs
   * per second summed over the threads). This is independent blobs on two cores, not one blob
   * spread over two cores: that is {@link ParallelThroughputBenchmark}.
   */
  @Benchmark
  @Threads(2)
  public void encryptTwoThreads(TwoThreadEncryptState s)
      throws IOException, GeneralSecurityException {
    s.contender.encrypt(s.plaintext, Discard.INSTANCE);
  }

  /** Two threads, each decrypting its own blob; see {@link #encryptTwoThreads}. */
  @Benchmark
  @Threads(2)
  public void decryptTwoThreads(TwoThreadDecryptState s)
      throws IOException, GeneralSecurityException {
    s.contender.decrypt(s.ciphertext, Discard.INSTANCE);
  }

  @Benchmark
  public void encrypt(EncryptState s) throws IOException, GeneralSecurityException {
    s.contender.encrypt(s.plaintext, Discard.INSTANCE);
  }

  @Benchmark
  public void decrypt(DecryptState s) throws IOException, GeneralSecurityException {
    s.contender.decrypt(s.ciphertext, Discard.INSTANCE);
  }
}
