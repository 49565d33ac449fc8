package dev.byok;

import static dev.byok.KeyLayerFixture.byok;
import static dev.byok.KeyLayerFixture.decrypt;
import static dev.byok.KeyLayerFixture.encrypt;
import static dev.byok.KeyLayerFixture.plaintext;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A tenant's cold start: many threads read the same blob through a fresh reader at once, and the
 * data key costs exactly one KMS Decrypt, including for a thread that missed the cache just before
 * the load published and was elected just after it finished (found by ColdStartBenchmark: 2
 * Decrypts in one of 40 rounds on JDK 17). Real threads released together by a barrier, many
 * rounds; every round must cost one Decrypt.
 */
class ColdStartSingleFlightTest {
  private static final int THREADS = 32;
  private static final int ROUNDS = 150;

  @Test
  void concurrentFirstReadsOfOneDataKeyCostOneDecryptEveryRound() throws Exception {
    TestKms kms = new TestKms();
    String kek = kms.createKey();
    byte[] data = plaintext(64, 3);
    byte[] envelope;
    try (Byok writer = byok(kms, kek).build()) {
      envelope = encrypt(writer, data);
    }
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      for (int round = 0; round < ROUNDS; round++) {
        int before = kms.calls("decrypt");
        try (Byok reader = byok(kms, kek).build()) {
          CyclicBarrier start = new CyclicBarrier(THREADS);
          List<Future<byte[]>> reads = new ArrayList<>();
          for (int t = 0; t < THREADS; t++) {
            reads.add(
                pool.submit(
                    () -> {
                      start.await(10, TimeUnit.SECONDS);
                      return decrypt(reader, envelope);
                    }));
          }
          for (Future<byte[]> r : reads) {
            assertThat(r.get(30, TimeUnit.SECONDS)).isEqualTo(data);
          }
        }
        assertThat(kms.calls("decrypt") - before).as("Decrypts in round %d", round).isEqualTo(1);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
