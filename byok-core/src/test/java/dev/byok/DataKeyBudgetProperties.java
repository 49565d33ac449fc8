package dev.byok;

import static dev.byok.KeyLayerFixture.plaintext;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/**
 * Hole 5: a data key's budget is reserved when a blob is admitted, so no data key exceeds {@code
 * maxBlobs}, nor — for blobs of known length — {@code maxBytes} (a fresh key admits one blob of any
 * length), under 32 writer threads released together.
 */
class DataKeyBudgetProperties {
  private static final int THREADS = 32;

  /** Per data key (by id): blobs and plaintext bytes it encrypted. */
  private record Usage(long blobs, long bytes) {}

  private static Map<String, Usage> writeConcurrently(
      DataKeyPolicy policy, int blobsPerThread, int maxBlobSize, long seed, boolean knownLength)
      throws Exception {
    TestKms kms = new TestKms();
    String arn = kms.createKey();
    Byok byok = KeyLayerFixture.byok(kms, arn).dataKeyPolicy(policy).build();
    Map<String, Usage> usage = new ConcurrentHashMap<>();
    CyclicBarrier start = new CyclicBarrier(THREADS);
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      List<Future<?>> all = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        Random r = new Random(seed * 31 + t);
        all.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < blobsPerThread; i++) {
                    byte[] plain = plaintext(1 + r.nextInt(maxBlobSize), r.nextLong());
                    byte[] envelope;
                    if (knownLength) {
                      try (InputStream in =
                          byok.newEncryptingInputStream(
                              new ByteArrayInputStream(plain), plain.length, KeyLayerFixture.CTX)) {
                        envelope = in.readAllBytes();
                      }
                    } else {
                      ByteArrayOutputStream sink = new ByteArrayOutputStream();
                      try (OutputStream out = byok.newEncryptingStream(sink, KeyLayerFixture.CTX)) {
                        out.write(plain);
                      }
                      envelope = sink.toByteArray();
                    }
                    assertThat(KeyLayerFixture.decrypt(byok, envelope)).isEqualTo(plain);
                    usage.merge(
                        EnvelopeHeader.parse(envelope).dekIdHex(),
                        new Usage(1, plain.length),
                        (a, b) -> new Usage(a.blobs() + b.blobs(), a.bytes() + b.bytes()));
                  }
                  return null;
                }));
      }
      for (Future<?> f : all) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(kms.calls("generateDataKey")).isEqualTo(usage.size());
    return usage;
  }

  @Property(tries = 8)
  void noDataKeyExceedsItsBoundsForBlobsOfKnownLength(
      @ForAll @IntRange(min = 1, max = 8) int maxBlobs,
      @ForAll @IntRange(min = 500, max = 20_000) int maxBytes,
      @ForAll @IntRange(min = 1, max = 4_000) int maxBlobSize,
      @ForAll @LongRange long seed)
      throws Exception {
    DataKeyPolicy policy = DataKeyPolicy.builder().maxBlobs(maxBlobs).maxBytes(maxBytes).build();
    Map<String, Usage> usage = writeConcurrently(policy, 4, maxBlobSize, seed, true);
    assertThat(usage.values())
        .allSatisfy(
            u -> {
              assertThat(u.blobs()).isLessThanOrEqualTo(maxBlobs);
              if (u.blobs() > 1) {
                assertThat(u.bytes()).isLessThanOrEqualTo(maxBytes);
              }
            });
  }

  @Property(tries = 4)
  void noDataKeyExceedsItsBlobCountForBlobsOfUnknownLength(
      @ForAll @IntRange(min = 1, max = 8) int maxBlobs, @ForAll @LongRange long seed)
      throws Exception {
    DataKeyPolicy policy = DataKeyPolicy.builder().maxBlobs(maxBlobs).build();
    Map<String, Usage> usage = writeConcurrently(policy, 4, 2_000, seed, false);
    assertThat(usage.values()).allSatisfy(u -> assertThat(u.blobs()).isLessThanOrEqualTo(maxBlobs));
  }

  /** The measured case: 10,000-byte budget, 32 threads writing 1,000-byte blobs. */
  @Example
  void tenThousandByteBudgetThirtyTwoWritersOfOneThousandBytes() throws Exception {
    DataKeyPolicy policy = DataKeyPolicy.builder().maxBytes(10_000).build();
    TestKms kms = new TestKms();
    String arn = kms.createKey();
    Byok byok = KeyLayerFixture.byok(kms, arn).dataKeyPolicy(policy).build();
    Map<String, Long> bytesPerKey = new ConcurrentHashMap<>();
    CyclicBarrier start = new CyclicBarrier(THREADS);
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      List<Future<?>> all = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        all.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < 8; i++) {
                    byte[] plain = new byte[1000];
                    byte[] env;
                    try (InputStream in =
                        byok.newEncryptingInputStream(
                            new ByteArrayInputStream(plain), 1000, KeyLayerFixture.CTX)) {
                      env = in.readAllBytes();
                    }
                    bytesPerKey.merge(EnvelopeHeader.parse(env).dekIdHex(), 1000L, Long::sum);
                  }
                  return null;
                }));
      }
      for (Future<?> f : all) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(bytesPerKey.values()).allSatisfy(b -> assertThat(b).isLessThanOrEqualTo(10_000L));
    assertThat(bytesPerKey.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(256_000L);
  }
}
