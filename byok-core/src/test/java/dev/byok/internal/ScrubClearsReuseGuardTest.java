package dev.byok.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A closed cipher no longer remembers the blob key: the JDK keeps a copy of the last encryption key
 * and IV for its IV-reuse guard, which a decrypt-mode scrub left in place (the same key and nonce
 * were then refused by the next stream that drew that pooled cipher).
 */
class ScrubClearsReuseGuardTest {
  @Test
  void theSameKeyAndNonceEncryptAgainAfterClose() {
    byte[] key = new byte[32];
    new Random(5).nextBytes(key);
    byte[] prefix = {1, 2, 3, 4, 5, 6, 7};
    byte[] plain = new byte[100];
    byte[] first = new byte[116];
    byte[] second = new byte[116];
    for (int round = 0; round < 2 * SegmentCipher.POOL_MAX; round++) { // every pooled cipher
      SegmentCipher c = new SegmentCipher(key, prefix);
      c.encrypt(0, true, plain, 0, plain.length, round == 0 ? first : second, 0);
      c.close();
    }
    assertThat(second).isEqualTo(first);
  }
}
