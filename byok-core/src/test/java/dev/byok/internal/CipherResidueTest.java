package dev.byok.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, finding 7 (residue): no JCA cipher keeps a blob key's schedule once the stream that
 * used it is closed or done, without waiting for a purge ({@code scrubIdle}). Before, every segment
 * returned its cipher to the shared pool still initialised under the blob key and the segment's
 * nonce, able to decrypt that segment again.
 */
class CipherResidueTest {
  private static final int S = 4096;
  private final SegmentLayout layout = new SegmentLayout(S);
  private final byte[] key = new byte[32];
  private final byte[] prefix = {9, 8, 7, 6, 5, 4, 3};
  private final byte[] plain = new byte[3 * S];

  CipherResidueTest() {
    Random r = new Random(42);
    r.nextBytes(key);
    r.nextBytes(plain);
  }

  private byte[] payload() throws IOException {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (OutputStream out =
        new EncryptingOutputStream(
            sink, new SegmentCipher(key, prefix), layout, new byte[0], n -> {})) {
      out.write(plain);
    }
    return sink.toByteArray();
  }

  /** No idle pooled cipher decrypts the payload's final segment (it would, were it left keyed). */
  private void assertNoPooledCipherHoldsTheKey(byte[] payload) {
    long last = layout.segmentCount(plain.length) - 1;
    int from = (int) (layout.ciphertextOffset(last) - SegmentLayout.PAYLOAD_HEADER_LENGTH);
    byte[] finalSegment = Arrays.copyOfRange(payload, from, payload.length);
    List<Cipher> idle = SegmentCipher.pooledCiphers();
    assertThat(idle).isNotEmpty();
    for (Cipher pooled : idle) {
      byte[] residue;
      try {
        residue = pooled.doFinal(finalSegment);
      } catch (GeneralSecurityException | IllegalStateException refused) {
        continue; // not keyed for this blob
      }
      assertThat(residue)
          .as("a pooled cipher still decrypts the closed stream's last segment")
          .isNotEqualTo(Arrays.copyOfRange(plain, plain.length - residue.length, plain.length));
    }
  }

  @Test
  void aDecryptingStreamLeavesNoKeyedCipherInThePool() throws IOException {
    byte[] payload = payload();
    try (InputStream in =
        DecryptingInputStream.whole(
            new ByteArrayInputStream(payload),
            new SegmentDecrypter(new SegmentCipher(key, prefix)),
            layout)) {
      assertThat(in.readAllBytes()).isEqualTo(plain);
      // done: the final segment authenticated, the cipher is back and re-keyed before close()
      assertNoPooledCipherHoldsTheKey(payload);
    }
    assertNoPooledCipherHoldsTheKey(payload);
  }

  @Test
  void aDecryptingChannelLeavesNoKeyedCipherInThePoolOnClose(@TempDir Path dir) throws IOException {
    byte[] payload = payload();
    byte[] withHeader = new byte[SegmentLayout.PAYLOAD_HEADER_LENGTH + payload.length];
    System.arraycopy(payload, 0, withHeader, SegmentLayout.PAYLOAD_HEADER_LENGTH, payload.length);
    Path file = Files.write(dir.resolve("blob"), withHeader);
    SeekableByteChannel ch =
        new DecryptingChannel(
            FileChannel.open(file, StandardOpenOption.READ),
            new SegmentDecrypter(new SegmentCipher(key, prefix)),
            layout,
            0);
    ByteBuffer out = ByteBuffer.allocate(plain.length);
    while (out.hasRemaining() && ch.read(out) >= 0) {
      // read on
    }
    assertThat(out.array()).isEqualTo(plain);
    ch.close();
    assertNoPooledCipherHoldsTheKey(payload);
  }

  @Test
  void closingReturnsTheCipherReKeyed() throws Exception {
    SegmentCipher c = new SegmentCipher(key, prefix);
    byte[] sealed = new byte[116];
    c.encrypt(0, true, plain, 0, 100, sealed, 0);
    byte[] back = new byte[100];
    c.decrypt(0, true, sealed, 0, 116, back, 0);
    c.close();
    c.close(); // idempotent
    for (Cipher pooled : SegmentCipher.pooledCiphers()) {
      try {
        assertThat(pooled.doFinal(sealed)).isNotEqualTo(Arrays.copyOf(plain, 100));
      } catch (GeneralSecurityException | IllegalStateException refused) {
        // not keyed for this blob
      }
    }
  }

  /**
   * Review finding 7: close() zeroes the derived key and the instance refuses further segments;
   * before, it kept its SecretKeySpec and took a cipher afresh.
   */
  @Test
  void closedSegmentCipherZeroesItsKeyAndRefusesSegments() throws Exception {
    SegmentCipher c = new SegmentCipher(key, prefix);
    byte[] sealed = new byte[116];
    c.encrypt(0, true, plain, 0, 100, sealed, 0);
    c.close();
    assertThat(c.keyDestroyed()).isTrue();
    byte[] back = new byte[100];
    assertThatThrownBy(() -> c.decrypt(0, true, sealed, 0, 116, back, 0))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> c.encrypt(0, true, plain, 0, 100, sealed, 0))
        .isInstanceOf(IllegalStateException.class);
  }

  /**
   * Review finding 1: the JDK's GCM cipher keeps a copy of the last encryption key (to refuse IV
   * reuse) until the next encrypt-mode init, so a scrub in decrypt mode left the blob key in every
   * pooled cipher. Probe: encrypt-mode init with the blob key and the last segment's nonce throws
   * "Cannot reuse iv" exactly when the cipher still remembers that key.
   */
  @Test
  void scrubLeavesNoLastEncryptionKeyInPooledCiphers() throws Exception {
    SegmentCipher.scrubIdle();
    byte[] payload = payload(); // an encrypting stream, closed
    assertThat(payload).isNotEmpty();
    long last = layout.segmentCount(plain.length) - 1;
    byte[] nonce = Arrays.copyOf(prefix, 12);
    nonce[7] = (byte) (last >>> 24);
    nonce[8] = (byte) (last >>> 16);
    nonce[9] = (byte) (last >>> 8);
    nonce[10] = (byte) last;
    nonce[11] = 1;
    List<Cipher> idle = SegmentCipher.pooledCiphers();
    assertThat(idle).isNotEmpty();
    try {
      for (Cipher pooled : idle) {
        assertThatCode(
                () ->
                    pooled.init(
                        Cipher.ENCRYPT_MODE,
                        new SecretKeySpec(key, "AES"),
                        new GCMParameterSpec(128, nonce)))
            .as("a pooled cipher still remembers the closed stream's key and IV")
            .doesNotThrowAnyException();
      }
    } finally {
      SegmentCipher.scrubIdle(); // the probe keyed them: re-key them again
    }
  }

  /**
   * Review finding 4: close() was a read-then-null, so racing closes could pool one cipher twice
   * (two streams would then share it). Closes race from a barrier; the pool must never hold the
   * same cipher twice.
   */
  @Test
  void racingClosesNeverPoolOneCipherTwice() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 200; round++) {
        SegmentCipher c = new SegmentCipher(key, prefix);
        byte[] sealed = new byte[116];
        c.encrypt(0, true, plain, 0, 100, sealed, 0);
        CyclicBarrier start = new CyclicBarrier(2);
        Callable<Void> close =
            () -> {
              start.await();
              c.close();
              return null;
            };
        Future<Void> a = pool.submit(close);
        Future<Void> b = pool.submit(close);
        a.get();
        b.get();
        List<Cipher> idle = SegmentCipher.pooledCiphers();
        Set<Cipher> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
        distinct.addAll(idle);
        assertThat(distinct).as("round %d", round).hasSize(idle.size());
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
