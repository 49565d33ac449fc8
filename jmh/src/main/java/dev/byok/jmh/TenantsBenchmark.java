package dev.byok.jmh;

import dev.byok.Byok;
import dev.byok.DataKey;
import dev.byok.DataKeyResolver;
import dev.byok.EncryptionContext;
import dev.byok.EnvelopeHeader;
import dev.byok.KeyRef;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
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
 * Many tenants (one KEK each) in one process, through one {@link Byok} and per-tenant views ({@link
 * Byok#forKeys}), with {@link LocalAesKeyProvider} standing in for the KMS:
 *
 * <ul>
 *   <li>{@code warmHitAcrossTenants}: the whole decrypt side of an empty-plaintext blob (parse,
 *       cache hit, key commitment, HKDF, final segment), each invocation a different tenant, in
 *       microseconds per blob — compare {@code CacheHitBenchmark.openEmptyBlob} (one tenant);
 *   <li>{@code lookupAcrossTenants}: the decrypt-cache hit alone through each tenant's view
 *       (compare {@code CacheHitBenchmark.lookup});
 *   <li>setup prints, and checks, the heap each tenant costs the reader (its cached data key, index
 *       entry and counters, after a full GC) and the KMS calls per tenant: exactly one {@code
 *       GenerateDataKey} to write and one {@code Decrypt} to read, whatever the number of tenants.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@Threads(1)
public class TenantsBenchmark {
  private static final EncryptionContext CONTEXT = EncryptionContext.of("repository", "bench");

  static String tenantArn(int i) {
    return "arn:aws:kms:eu-west-1:111122223333:key/tenant-" + i;
  }

  static String tenantRef(int i) {
    return LocalAesKeyProvider.ID + "://" + tenantArn(i);
  }

  static byte[] encryptEmpty(Byok tenant) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    tenant.newEncryptingStream(out, CONTEXT).close();
    return out.toByteArray();
  }

  static int open(Byok tenant, byte[] envelope) throws IOException {
    try (InputStream in = tenant.newDecryptingStream(new ByteArrayInputStream(envelope))) {
      return in.read();
    }
  }

  private static long usedHeap() {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return rt.totalMemory() - rt.freeMemory();
  }

  /** A reader holding every tenant's data key, and one envelope per tenant. */
  @State(Scope.Benchmark)
  public static class Tenants {
    @Param({"10000"})
    public int tenants;

    LocalAesKeyProvider kms;
    Byok reader;
    Byok[] views;
    byte[][] envelopes;
    EnvelopeHeader[] headers;
    DataKeyResolver[] resolvers;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
      kms = new LocalAesKeyProvider();
      Byok writer = Byok.builder().provider(kms).build();
      envelopes = new byte[tenants][];
      for (int i = 0; i < tenants; i++) {
        envelopes[i] = encryptEmpty(writer.forKeys(tenantRef(i)));
      }
      writer.close();
      if (kms.generated() != tenants) {
        throw new IllegalStateException(
            "expected one GenerateDataKey per tenant, got " + kms.generated());
      }
      views = new Byok[tenants];
      long before = usedHeap();
      reader =
          Byok.builder()
              .provider(kms)
              .decryptCache(2L * tenants, Duration.ofHours(1))
              .decryptCachePerKek(4)
              .build();
      for (int i = 0; i < tenants; i++) {
        views[i] = reader.forKeys(tenantRef(i));
        if (open(views[i], envelopes[i]) != -1) {
          throw new IllegalStateException("empty envelope decrypted to something");
        }
      }
      long after = usedHeap();
      headers = new EnvelopeHeader[tenants];
      resolvers = new DataKeyResolver[tenants];
      for (int i = 0; i < tenants; i++) {
        headers[i] = EnvelopeHeader.parse(envelopes[i]);
        resolvers[i] = reader.keys().restrictedTo(List.of(KeyRef.parse(tenantRef(i))));
      }
      if (kms.unwrapped() != tenants || reader.keys().cachedKeys() != tenants) {
        throw new IllegalStateException(
            "expected one Decrypt and one cached key per tenant, got "
                + kms.unwrapped()
                + " and "
                + reader.keys().cachedKeys());
      }
      System.out.printf(
          "%n[tenants] %d tenants: reader heap %.0f bytes per tenant (views included);"
              + " KMS calls per tenant: %.2f GenerateDataKey, %.2f Decrypt%n",
          tenants,
          (after - before) / (double) tenants,
          kms.generated() / (double) tenants,
          kms.unwrapped() / (double) tenants);
    }

    @TearDown(Level.Trial)
    public void check() {
      if (kms.unwrapped() != tenants) {
        throw new IllegalStateException(
            "warm reads called the KMS: " + (kms.unwrapped() - tenants) + " extra Decrypts");
      }
      reader.close();
    }
  }

  /** Which tenant this thread reads next. */
  @State(Scope.Thread)
  public static class Cursor {
    int next;
  }

  private static int next(Tenants t, Cursor c) {
    int i = c.next;
    c.next = i + 1 == t.tenants ? 0 : i + 1;
    return i;
  }

  @Benchmark
  public int warmHitAcrossTenants(Tenants t, Cursor c) throws IOException {
    int i = next(t, c);
    return open(t.views[i], t.envelopes[i]);
  }

  /**
   * The decrypt-cache hit alone, what {@code CacheHitBenchmark.lookup} measures for one tenant:
   * each invocation resolves a different tenant's parsed header through that tenant's view.
   */
  @Benchmark
  public DataKey lookupAcrossTenants(Tenants t, Cursor c) {
    int i = next(t, c);
    DataKey k = t.resolvers[i].resolve(t.headers[i]);
    k.destroy(); // resolve hands out a private copy; its user zeroes it
    return k;
  }
}
