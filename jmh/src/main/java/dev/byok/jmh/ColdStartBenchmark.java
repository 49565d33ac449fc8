package dev.byok.jmh;

import dev.byok.Byok;
import java.io.IOException;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A tenant's cold start: 64 threads read the same blob through a fresh reader at once (one
 * invocation per thread per iteration; JMH starts the threads together). Reports the time of one
 * cold read under that contention, and checks after every iteration that the 64 reads cost exactly
 * one KMS {@code Decrypt} for the data key (single flight; the AWS Encryption SDK's caching CMM
 * makes one per thread that misses).
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 10)
@Measurement(iterations = 30)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Threads(64)
public class ColdStartBenchmark {
  /** One tenant's blob, and a reader that is new (cold) every iteration. */
  @State(Scope.Benchmark)
  public static class Cold {
    LocalAesKeyProvider kms;
    byte[] envelope;
    Byok reader;
    Byok tenant;
    long unwrapsBefore;

    @Setup(Level.Trial)
    public void write() throws IOException {
      kms = new LocalAesKeyProvider();
      Byok writer = Byok.builder().provider(kms).build();
      envelope = TenantsBenchmark.encryptEmpty(writer.forKeys(TenantsBenchmark.tenantRef(0)));
      writer.close();
    }

    @Setup(Level.Iteration)
    public void coldReader() {
      reader = Byok.builder().provider(kms).build();
      tenant = reader.forKeys(TenantsBenchmark.tenantRef(0));
      unwrapsBefore = kms.unwrapped();
    }

    @TearDown(Level.Iteration)
    public void oneDecryptPerDataKey() {
      long calls = kms.unwrapped() - unwrapsBefore;
      reader.close();
      if (calls != 1) {
        throw new IllegalStateException("64 cold reads made " + calls + " KMS Decrypts, not 1");
      }
    }
  }

  @Benchmark
  public int coldRead(Cold c) throws IOException {
    return TenantsBenchmark.open(c.tenant, c.envelope);
  }
}
