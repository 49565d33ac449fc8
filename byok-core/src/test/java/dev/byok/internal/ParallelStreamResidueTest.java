package dev.byok.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;

/**
 * The parallel streams close every slot's cipher: once a stream is closed (done, failed or with
 * tasks abandoned) no pooled JCA cipher is left keyed to decrypt any of the blob's segments.
 */
@Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
class ParallelStreamResidueTest {
  private static final int S = 4096;
  private final SegmentLayout layout = new SegmentLayout(S);
  private final byte[] key = new byte[32];
  private final byte[] prefix = {1, 2, 3, 4, 5, 6, 7};
  private final byte[] plain = new byte[7 * S + 100];
  private final ExecutorService pool = Executors.newFixedThreadPool(3);

  ParallelStreamResidueTest() {
    Random r = new Random(4242);
    r.nextBytes(key);
    r.nextBytes(plain);
  }

  @AfterEach
  void stop() throws InterruptedException {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  private byte[] payload(Executor executor, int k) throws IOException {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    ParallelEncryptingOutputStream out =
        new ParallelEncryptingOutputStream(
            sink, new SegmentCipher(key, prefix), layout, new byte[0], executor, k, n -> {});
    out.write(plain);
    out.close();
    assertClosed(out.slotCiphers(), k);
    return sink.toByteArray();
  }

  /** Each slot's cipher (the blob's own and its siblings) has zeroed its key and refuses work. */
  private static void assertClosed(List<SegmentCipher> ciphers, int k) {
    assertThat(ciphers).hasSizeBetween(1, k);
    for (SegmentCipher c : ciphers) {
      assertThatThrownBy(() -> c.encrypt(0, true, new byte[1], 0, 1, new byte[17], 0))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("closed");
    }
  }

  private static void assertDecryptersClosed(List<SegmentDecrypter> decrypters, int k) {
    assertThat(decrypters).hasSizeBetween(1, k);
    for (SegmentDecrypter d : decrypters) {
      assertThatThrownBy(() -> d.decrypt(0, true, new byte[17], 0, 17, new byte[1], 0))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("closed");
    }
  }

  /** No idle pooled cipher decrypts any segment of the payload (it would, were it left keyed). */
  private void assertNoPooledCipherHoldsTheKey(byte[] payload) {
    long n = layout.segmentCount(plain.length);
    List<byte[]> segments = new ArrayList<>();
    for (long i = 0; i < n; i++) {
      int from = (int) (layout.ciphertextOffset(i) - SegmentLayout.PAYLOAD_HEADER_LENGTH);
      int to =
          i == n - 1
              ? payload.length
              : (int) (layout.ciphertextOffset(i + 1) - SegmentLayout.PAYLOAD_HEADER_LENGTH);
      segments.add(Arrays.copyOfRange(payload, from, to));
    }
    List<Cipher> idle = SegmentCipher.pooledCiphers();
    assertThat(idle).isNotEmpty();
    for (Cipher pooled : idle) {
      for (byte[] segment : segments) {
        byte[] residue;
        try {
          residue = pooled.doFinal(segment);
        } catch (GeneralSecurityException | IllegalStateException refused) {
          continue; // not keyed for this segment
        }
        assertThat(Arrays.equals(residue, 0, residue.length, plain, 0, residue.length))
            .as("a pooled cipher still decrypts a segment of the closed stream")
            .isFalse();
      }
    }
  }

  @Test
  void bothStreamsLeaveNoKeyedCipherInThePool() throws IOException {
    byte[] payload = payload(pool, 3);
    assertNoPooledCipherHoldsTheKey(payload);
    ParallelDecryptingInputStream in =
        new ParallelDecryptingInputStream(
            new ByteArrayInputStream(payload),
            new SegmentDecrypter(new SegmentCipher(key, prefix)),
            layout,
            pool,
            3);
    assertThat(in.readAllBytes()).isEqualTo(plain);
    assertThat(in.slotDecrypters()).hasSize(3);
    assertDecryptersClosed(in.slotDecrypters(), 3); // done: closed before close()
    assertNoPooledCipherHoldsTheKey(payload);
    in.close();
    assertNoPooledCipherHoldsTheKey(payload);
  }

  @Test
  void thePullEncrypterClosesEverySlotsCipher() throws IOException {
    byte[] payload = payload(pool, 2);
    ParallelEncryptingInputStream done =
        new ParallelEncryptingInputStream(
            new ByteArrayInputStream(plain),
            new SegmentCipher(key, prefix),
            layout,
            new byte[0],
            pool,
            3,
            n -> {});
    assertThat(done.readAllBytes()).isEqualTo(payload);
    assertClosed(done.slotCiphers(), 3); // at the end, before close()
    done.close();
    ParallelEncryptingInputStream halfWay =
        new ParallelEncryptingInputStream(
            new ByteArrayInputStream(plain),
            new SegmentCipher(key, prefix),
            layout,
            new byte[0],
            pool,
            4,
            n -> {});
    assertThat(halfWay.readNBytes(S)).isEqualTo(Arrays.copyOf(payload, S));
    halfWay.close();
    assertClosed(halfWay.slotCiphers(), 4);
  }

  @Test
  void aReaderClosedHalfWayLeavesNoKeyedCipher() throws Exception {
    byte[] payload = payload(pool, 2);
    ParallelDecryptingInputStream in =
        new ParallelDecryptingInputStream(
            new ByteArrayInputStream(payload),
            new SegmentDecrypter(new SegmentCipher(key, prefix)),
            layout,
            pool,
            4);
    assertThat(in.readNBytes(S)).isEqualTo(Arrays.copyOf(plain, S));
    in.close();
    assertDecryptersClosed(in.slotDecrypters(), 4);
    assertThatThrownBy(in::read).isInstanceOf(IOException.class).hasMessage("stream closed");
    pool.shutdown(); // tasks read ahead and still running end before the check
    assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    assertNoPooledCipherHoldsTheKey(payload);
  }

  @Test
  void tasksAbandonedByAFailedWriterRunLaterAndLeaveNoKeyedCipher() throws IOException {
    List<Runnable> held = new ArrayList<>();
    Executor holdTwoThenReject =
        r -> {
          if (held.size() == 2) {
            throw new RejectedExecutionException("full");
          }
          held.add(r);
        };
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    ParallelEncryptingOutputStream out =
        new ParallelEncryptingOutputStream(
            sink,
            new SegmentCipher(key, prefix),
            layout,
            new byte[0],
            holdTwoThenReject,
            3,
            n -> {});
    assertThatThrownBy(() -> out.write(plain)).hasMessageContaining("rejected");
    assertThatThrownBy(out::close).hasMessageContaining("no final segment");
    assertClosed(out.slotCiphers(), 3);
    for (Runnable r : held) {
      r.run(); // abandoned before they started: they seal nothing and fail nothing
    }
    assertThat(sink.size()).isZero();
    assertNoPooledCipherHoldsTheKey(payload(pool, 1));
  }
}
