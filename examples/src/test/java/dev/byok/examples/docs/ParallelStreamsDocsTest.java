package dev.byok.examples.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.Byok;
import dev.byok.EncryptionContext;
import dev.byok.testkit.FakeKms;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The parallel push and pull streams of docs/streaming.md, over a bounded pool. */
class ParallelStreamsDocsTest {
  @Test
  void aStreamIsSealedAndOpenedOverABoundedPool(@TempDir Path dir) throws Exception {
    FakeKms kms = FakeKms.create();
    kms.api().createAlias("alias/store", kms.api().createKey().arn());
    Path file = dir.resolve("blob.byok");
    byte[] bytes = new byte[1024 * 1024 + 7];
    new Random(2).nextBytes(bytes);
    InputStream source = new ByteArrayInputStream(bytes);
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    EncryptionContext context = EncryptionContext.of("store", "pages");
    try (Byok byok = Byok.builder().provider(kms).encryptUnder("fake-kms://alias/store").build()) {
      // docs:begin parallel-streams
      ExecutorService pool = Executors.newFixedThreadPool(2); // bounded; the application's own
      try (OutputStream out =
          byok.newEncryptingStream(Files.newOutputStream(file), context, pool, 4)) {
        source.transferTo(out); // at most 4 segments sealed at once, written in order here
      }
      try (InputStream in = byok.newDecryptingStream(Files.newInputStream(file), context, pool, 4)) {
        in.transferTo(sink); // 4 segments read ahead; each released only once authenticated
      }
      pool.shutdown();
      // docs:end parallel-streams
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
      assertThat(sink.toByteArray()).isEqualTo(bytes);
      try (InputStream in = byok.newDecryptingStream(Files.newInputStream(file), context)) {
        assertThat(in.readAllBytes()).isEqualTo(bytes); // the sequential reader reads it too
      }
    }
  }
}
