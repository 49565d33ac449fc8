package dev.byok.examples.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.Byok;
import dev.byok.EncryptionContext;
import dev.byok.testkit.FakeKms;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The samples of docs/streaming.md: buffers and channels, one blob over a bounded pool. */
class StreamingDocsTest {
  @Test
  void aBufferGoesToAFileOverAPoolAndBackIntoADirectBuffer(@TempDir Path dir) throws Exception {
    FakeKms kms = FakeKms.create();
    kms.api().createAlias("alias/store", kms.api().createKey().arn());
    Path file = dir.resolve("blob.byok");
    byte[] bytes = new byte[3 * 1024 * 1024 + 7];
    new Random(1).nextBytes(bytes);
    ByteBuffer data = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
    EncryptionContext context = EncryptionContext.of("store", "pages");
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (Byok byok = Byok.builder().provider(kms).encryptUnder("fake-kms://alias/store").build()) {
      // docs:begin nio-parallel-encrypt
      try (FileChannel out =
          FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        byok.encrypt(data, out, 0, context, pool, 2); // at most 2 segments in flight
        out.force(true);
      }
      // docs:end nio-parallel-encrypt
      int capacity = bytes.length;
      // docs:begin nio-decrypt
      ByteBuffer plain = ByteBuffer.allocateDirect(capacity);
      try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
        byok.decrypt(in, plain, context); // every byte authenticated, or none left in plain
      }
      plain.flip();
      // docs:end nio-decrypt
      byte[] back = new byte[plain.remaining()];
      plain.get(back);
      assertThat(back).isEqualTo(bytes);
      try (InputStream in = byok.newDecryptingStream(Files.newInputStream(file), context)) {
        assertThat(in.readAllBytes()).isEqualTo(bytes); // the streams read it too
      }
    } finally {
      pool.shutdown();
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
  }
}
