package dev.byok;

import static dev.byok.Blobs.CTX;
import static dev.byok.Blobs.byok;
import static dev.byok.Blobs.decrypt;
import static dev.byok.Blobs.encrypt;
import static dev.byok.Blobs.plaintext;
import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.kms.local.InMemoryKms;
import dev.byok.testkit.FakeKmsExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Encrypt-side data key reuse and rollover; decrypt-side caching and single-flight. */
class DataKeyReuseTest {
  @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();

  private String arn;

  private InMemoryKms api() {
    return fake.api();
  }

  private String newKey() {
    arn = api().createKey().arn();
    return arn;
  }

  @Test
  void tenThousandBlobsUseOneDataKeyAndOneDecrypt() {
    Byok writer = byok(fake, newKey()).build();
    List<byte[]> blobs = new ArrayList<>(10_000);
    for (int i = 0; i < 10_000; i++) {
      blobs.add(encrypt(writer, plaintext(16, i)));
    }
    assertThat(api().calls("GenerateDataKey")).isEqualTo(1);
    assertThat(writer.keys().stats().dataKeysGenerated()).isEqualTo(1);

    Byok reader = byok(fake, arn).build();
    for (int i = 0; i < blobs.size(); i++) {
      assertThat(decrypt(reader, blobs.get(i))).isEqualTo(plaintext(16, i));
    }
    assertThat(api().calls("Decrypt")).isEqualTo(1);
    assertThat(api().calls("GenerateDataKey")).isEqualTo(1);
    KeyCacheStats s = reader.keys().stats();
    assertThat(s.misses()).isEqualTo(1);
    assertThat(s.hits()).isEqualTo(9_999);
  }

  @Test
  void sixtyFourThreadsDecryptingOneColdBlobMakeOneDecrypt() throws Exception {
    byte[] plain = plaintext(3 * 4096, 7);
    byte[] blob = encrypt(byok(fake, newKey()).build(), plain);
    Byok reader = byok(fake, arn).build();
    int n = 64;
    List<Thread> workers = new ArrayList<>();
    // hold the one Decrypt in flight until every other worker is blocked waiting for its result,
    // so the test sees real contention instead of threads that happen to run one after another
    api().injectLatency(Duration.ofMillis(1), d -> awaitOthersBlocked(workers));
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool =
        Executors.newFixedThreadPool(
            n,
            r -> {
              Thread t = new Thread(r);
              synchronized (workers) {
                workers.add(t);
              }
              return t;
            });
    try {
      List<Future<byte[]>> results = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  return decrypt(reader, blob);
                }));
      }
      start.countDown();
      for (Future<byte[]> f : results) {
        assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(plain);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(api().calls("Decrypt")).isEqualTo(1);
    assertThat(reader.keys().stats().kmsCalls()).containsEntry("decrypt/ok", 1L);
  }

  /**
   * Spins (never sleeps) until every worker but this one is BLOCKED or done; gives up after 5 s.
   */
  private static void awaitOthersBlocked(List<Thread> workers) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < deadline) {
      boolean all;
      synchronized (workers) {
        all =
            workers.size() == 64
                && workers.stream()
                    .allMatch(
                        t ->
                            t == Thread.currentThread()
                                || t.getState() == Thread.State.BLOCKED
                                || t.getState() == Thread.State.TERMINATED);
      }
      if (all) {
        return;
      }
      Thread.yield();
    }
  }

  @Test
  void maxAgeRollsOverOnTheClock() {
    Byok byok =
        byok(fake, newKey())
            .dataKeyPolicy(DataKeyPolicy.builder().maxAge(Duration.ofMinutes(1)).build())
            .build();
    List<byte[]> blobs = new ArrayList<>();
    blobs.add(encrypt(byok, plaintext(10, 0)));
    assertThat(api().calls("GenerateDataKey")).isEqualTo(1);
    fake.clock().advance(Duration.ofSeconds(59));
    blobs.add(encrypt(byok, plaintext(10, 1)));
    assertThat(api().calls("GenerateDataKey")).isEqualTo(1);
    fake.clock().advance(Duration.ofSeconds(1)); // exactly max age: retired
    blobs.add(encrypt(byok, plaintext(10, 2)));
    assertThat(api().calls("GenerateDataKey")).isEqualTo(2);
    fake.clock().advance(Duration.ofSeconds(30));
    blobs.add(encrypt(byok, plaintext(10, 3)));
    assertThat(api().calls("GenerateDataKey")).isEqualTo(2);
    fake.clock().advance(Duration.ofMinutes(10));
    blobs.add(encrypt(byok, plaintext(10, 4)));
    assertThat(api().calls("GenerateDataKey")).isEqualTo(3);

    assertThat(dekIds(blobs)).containsExactly(0, 0, 1, 1, 2);
    assertDecryptAll(byok, blobs, 10);
  }

  @Test
  void maxBlobsRollsOverAfterExactlyThatMany() {
    Byok byok =
        byok(fake, newKey()).dataKeyPolicy(DataKeyPolicy.builder().maxBlobs(3).build()).build();
    List<byte[]> blobs = new ArrayList<>();
    List<Integer> generatedAfterEach = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      blobs.add(encrypt(byok, plaintext(10, i)));
      generatedAfterEach.add(api().calls("GenerateDataKey"));
    }
    assertThat(generatedAfterEach).containsExactly(1, 1, 1, 2, 2, 2, 3);
    assertThat(dekIds(blobs)).containsExactly(0, 0, 0, 1, 1, 1, 2);
    assertDecryptAll(byok, blobs, 10);
  }

  @Test
  void maxBytesRollsOverOnceTheBudgetIsSpent() {
    Byok byok =
        byok(fake, newKey())
            .dataKeyPolicy(DataKeyPolicy.builder().maxBytes(10_000).build())
            .build();
    List<byte[]> blobs = new ArrayList<>();
    List<Integer> generatedAfterEach = new ArrayList<>();
    int[] sizes = {6_000, 6_000, 50_000, 1, 9_999, 1, 1};
    for (int i = 0; i < sizes.length; i++) {
      blobs.add(encrypt(byok, plaintext(sizes[i], i)));
      generatedAfterEach.add(api().calls("GenerateDataKey"));
    }
    // 6000 (<10000, reuse) 12000 -> new key; one blob larger than the budget is allowed; then a new
    // key
    // for 1 + 9999 = 10000 bytes, after which the next blob needs another
    assertThat(generatedAfterEach).containsExactly(1, 1, 2, 3, 3, 4, 4);
    for (int i = 0; i < sizes.length; i++) {
      assertThat(decrypt(byok, blobs.get(i))).isEqualTo(plaintext(sizes[i], i));
    }
  }

  @Test
  void noReuseMakesOneGenerateDataKeyPerBlob() {
    Byok byok = byok(fake, newKey()).dataKeyPolicy(DataKeyPolicy.noReuse()).build();
    List<byte[]> blobs = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      blobs.add(encrypt(byok, plaintext(10, i)));
      assertThat(api().calls("GenerateDataKey")).isEqualTo(i + 1);
    }
    assertThat(dekIds(blobs)).containsExactly(0, 1, 2, 3, 4);
    assertDecryptAll(byok, blobs, 10);
    assertThat(api().calls("Decrypt")).isEqualTo(5);
  }

  @Test
  void eachContextHasItsOwnDataKeyAndEachExtraKekOneEncrypt() {
    String second = api().createKey().arn();
    Byok byok = byok(fake, newKey(), second).build();
    byte[] a1 = encrypt(byok, plaintext(10, 1), CTX);
    byte[] a2 = encrypt(byok, plaintext(10, 2), CTX);
    byte[] b1 = encrypt(byok, plaintext(10, 3), EncryptionContext.of("tenant", "t2"));
    assertThat(api().calls("GenerateDataKey")).isEqualTo(2);
    assertThat(Blobs.keysCalled(api(), "GenerateDataKey")).containsExactly(arn, arn);
    assertThat(Blobs.keysCalled(api(), "Encrypt")).containsExactly(second, second);
    assertThat(dekIds(List.of(a1, a2, b1))).containsExactly(0, 0, 1);
    assertThat(Blobs.header(a1).keySlots())
        .extracting(KeySlot::keyArn)
        .containsExactly(arn, second);
  }

  /** Numbers each blob's DEK id by first appearance: equal numbers share a data key. */
  private static List<Integer> dekIds(List<byte[]> blobs) {
    List<String> seen = new ArrayList<>();
    List<Integer> out = new ArrayList<>();
    for (byte[] b : blobs) {
      String id = Blobs.header(b).dekIdHex();
      if (!seen.contains(id)) {
        seen.add(id);
      }
      out.add(seen.indexOf(id));
    }
    return out;
  }

  private static void assertDecryptAll(Byok byok, List<byte[]> blobs, int size) {
    for (int i = 0; i < blobs.size(); i++) {
      assertThat(decrypt(byok, blobs.get(i))).isEqualTo(plaintext(size, i));
    }
  }
}
