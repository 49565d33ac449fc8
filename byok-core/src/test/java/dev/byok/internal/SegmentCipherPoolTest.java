package dev.byok.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import org.junit.jupiter.api.Test;

/** The JCA ciphers are pooled with a bound, not kept per thread. */
class SegmentCipherPoolTest {
  @Test
  void manyThreadsLeaveAtMostTheBoundOfIdleCiphersBehind() throws Exception {
    int threads = 3 * SegmentCipher.POOL_MAX;
    CyclicBarrier start = new CyclicBarrier(threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> all = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        byte seed = (byte) t;
        all.add(
            pool.submit(
                () -> {
                  byte[] key = new byte[32];
                  Arrays.fill(key, seed);
                  SegmentCipher c = new SegmentCipher(key, new byte[7]);
                  byte[] plain = new byte[100];
                  Arrays.fill(plain, seed);
                  byte[] sealed = new byte[116];
                  byte[] back = new byte[100];
                  start.await();
                  for (int i = 0; i < 50; i++) {
                    c.encrypt(i, false, plain, 0, 100, sealed, 0);
                    c.decrypt(i, false, sealed, 0, 116, back, 0);
                    assertThat(back).isEqualTo(plain);
                  }
                  sealed[0] ^= 1;
                  try {
                    c.decrypt(49, false, sealed, 0, 116, back, 0);
                    throw new AssertionError("a flipped bit authenticated");
                  } catch (AEADBadTagException expected) {
                    // and the cipher goes back to the pool all the same
                  }
                  c.close(); // as every stream does
                  return null;
                }));
      }
      for (Future<?> f : all) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(SegmentCipher.pooled()).isBetween(1, SegmentCipher.POOL_MAX);
  }

  /**
   * L4: once data keys are purged ({@code scrubIdle}, which invalidate, lock and close call), no
   * pooled cipher keeps the last blob's key schedule (nor is usable with it).
   */
  @Test
  void aPooledCipherNoLongerDecryptsWithTheLastBlobsKeyAfterAPurge() throws Exception {
    byte[] key = new byte[32];
    Arrays.fill(key, (byte) 0x5a);
    SegmentCipher c = new SegmentCipher(key, new byte[] {1, 2, 3, 4, 5, 6, 7});
    byte[] plain = new byte[64];
    Arrays.fill(plain, (byte) 'p');
    byte[] sealed = new byte[80];
    c.encrypt(3, true, plain, 0, 64, sealed, 0);
    byte[] back = new byte[64];
    c.decrypt(3, true, sealed, 0, 80, back, 0);
    assertThat(back).isEqualTo(plain);

    c.close(); // a stream owns its cipher until it ends; then the cipher is idle in the pool
    SegmentCipher.scrubIdle();
    List<Cipher> idle = SegmentCipher.pooledCiphers();
    assertThat(idle).isNotEmpty();
    for (Cipher pooled : idle) {
      // before the fix the last one is still in decrypt mode under the blob's key and nonce
      byte[] residue;
      try {
        residue = pooled.doFinal(sealed, 0, 80);
      } catch (GeneralSecurityException | IllegalStateException refused) {
        continue; // not usable with the blob's key
      }
      assertThat(residue).isNotEqualTo(plain);
    }
  }
}
