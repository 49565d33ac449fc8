package dev.byok;

import static dev.byok.KeyLayerFixture.byok;
import static dev.byok.KeyLayerFixture.decrypt;
import static dev.byok.KeyLayerFixture.encrypt;
import static dev.byok.KeyLayerFixture.plaintext;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hole 3: a reader configured with an alias resolves it once for all concurrent first reads, and a
 * failure to resolve is a retryable outage — never "not on the allow-list" — retried as soon as the
 * KMS answers again.
 */
@Timeout(30)
class AliasResolutionTest {
  private final TestKms kms = new TestKms();
  private final String arn = kms.createKey();
  private final byte[] plain = plaintext(300, 5);
  private final byte[] blob = encrypt(byok(kms, arn).build(), plain);

  {
    kms.alias("alias/tenant", arn);
  }

  @Test
  void anOutageWhileResolvingTheAliasIsRetryableAndRecoversAtOnce() {
    Byok reader = byok(kms, "alias/tenant").build();
    kms.down("describeKey");
    assertThatThrownBy(() -> decrypt(reader, blob))
        .isInstanceOf(KmsUnavailableException.class)
        .hasMessageContaining("alias")
        .satisfies(e -> assertThat(((ByokException) e).retryable()).isTrue());
    assertThat(kms.calls("decrypt")).isZero(); // not sent to the KMS unchecked

    kms.up("describeKey"); // no time passes: the failure was not remembered
    assertThat(decrypt(reader, blob)).isEqualTo(plain);
    assertThat(kms.calls("describeKey")).isEqualTo(2);
  }

  @Test
  void concurrentFirstReadsShareOneResolutionAndAllSucceed() throws Exception {
    Byok reader = byok(kms, "alias/tenant").build();
    int threads = 16;
    CountDownLatch allStarted = new CountDownLatch(threads);
    kms.hook(
        (op, key) -> {
          if (op.equals("describeKey")) {
            allStarted.await(); // every reader is in before the resolution answers
          }
        });
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<byte[]>> reads = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        reads.add(
            pool.submit(
                () -> {
                  allStarted.countDown();
                  return decrypt(reader, blob);
                }));
      }
      for (Future<byte[]> r : reads) {
        assertThat(r.get(20, TimeUnit.SECONDS)).isEqualTo(plain);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(kms.calls("describeKey")).isEqualTo(1);
    assertThat(kms.calls("decrypt")).isEqualTo(1);
  }

  @Test
  void aKeyThatIsNotTheAliasIsStillRefusedAndCostsOneResolutionPerMinute() {
    Byok reader = byok(kms, "alias/tenant").build();
    String other = kms.createKey();
    byte[] foreign = encrypt(byok(kms, other).build(), plain);
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> decrypt(reader, foreign))
          .isInstanceOf(ByokConfigurationException.class)
          .hasMessageContaining("allow-list");
    }
    assertThat(kms.calls("describeKey")).isEqualTo(1);
    assertThat(kms.calls("decrypt")).isZero();
  }
}
