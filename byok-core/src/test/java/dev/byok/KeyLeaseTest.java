package dev.byok;

import static dev.byok.KeyLayerFixture.byok;
import static dev.byok.KeyLayerFixture.encrypt;
import static dev.byok.KeyLayerFixture.header;
import static dev.byok.KeyLayerFixture.plaintext;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hole 4: a data key handed out stays usable until its user is done with it, however the cache is
 * purged meanwhile; the cache's own copy is zeroed at once.
 */
@Timeout(60)
class KeyLeaseTest {
  private final TestKms kms = new TestKms();
  private final String arn = kms.createKey();
  private final byte[] plain = plaintext(5000, 3);
  private final byte[] blob = encrypt(byok(kms, arn).build(), plain);

  @Test
  void aKeyHandedOutSurvivesAPurgeUntilItsUserDestroysIt() {
    Byok reader = byok(kms, arn).build();
    DataKey lease = reader.keys().resolve(header(blob));
    DataKey cached = reader.keys().cachedKey(header(blob));
    assertThat(cached).isNotNull().isNotSameAs(lease);

    assertThat(reader.keys().invalidate(arn)).isEqualTo(1);
    assertThat(cached.materialIsZero()).isTrue(); // the cache's copy: zeroed at once
    assertThat(lease.isDestroyed()).isFalse(); // the user's: still whole
    byte[] m = lease.copyKeyMaterial();
    assertThat(m).hasSize(DataKey.KEY_LENGTH);
    lease.destroy(); // released by its user: zeroed
    assertThat(lease.materialIsZero()).isTrue();
  }

  @Test
  void aDecryptionWhoseKeyIsPurgedBetweenResolveAndUseStillDecrypts() throws Exception {
    Byok reader = byok(kms, arn).build();
    // the purge lands exactly between the resolver's answer and the decryptor's use of the key,
    // on every attempt: before leases this escaped as IllegalStateException "was destroyed"
    EnvelopeDecryptor racing =
        EnvelopeDecryptor.create(
            h -> {
              DataKey k = reader.keys().resolve(h);
              reader.keys().invalidate(arn);
              return k;
            });
    try (InputStream in = racing.newDecryptingStream(new ByteArrayInputStream(blob))) {
      assertThat(in.readAllBytes()).isEqualTo(plain);
    }
  }

  @Test
  void racingInvalidationNeverLetsARawExceptionEscapeDecryption() throws Exception {
    Byok reader = byok(kms, arn).build();
    int readers = 8;
    int rounds = 200;
    CyclicBarrier start = new CyclicBarrier(readers + 1);
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(readers + 1);
    try {
      List<Future<List<Throwable>>> results = new ArrayList<>();
      for (int t = 0; t < readers; t++) {
        results.add(
            pool.submit(
                () -> {
                  List<Throwable> bad = new ArrayList<>();
                  start.await();
                  for (int i = 0; i < rounds; i++) {
                    try {
                      assertThat(KeyLayerFixture.decrypt(reader, blob)).isEqualTo(plain);
                    } catch (RuntimeException | AssertionError e) {
                      bad.add(e);
                    }
                  }
                  return bad;
                }));
      }
      Future<?> purger =
          pool.submit(
              () -> {
                start.await();
                while (!stop.get()) {
                  reader.keys().invalidate(arn);
                }
                return null;
              });
      List<Throwable> bad = new ArrayList<>();
      for (Future<List<Throwable>> f : results) {
        bad.addAll(f.get(50, TimeUnit.SECONDS));
      }
      stop.set(true);
      purger.get(10, TimeUnit.SECONDS);
      // every failure, if any, is a typed, retryable byok failure (revoked while loading, again
      // and again); never IllegalStateException or another raw runtime exception
      assertThat(bad).allSatisfy(e -> assertThat(e).isInstanceOf(KmsUnavailableException.class));
    } finally {
      stop.set(true);
      pool.shutdownNow();
    }
  }
}
