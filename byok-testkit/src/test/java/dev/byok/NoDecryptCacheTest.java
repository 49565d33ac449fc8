package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.testkit.FakeKms;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code decryptCache(0, ...)} means "no caching": every blob unwraps through the KMS, and nothing
 * lingers.
 */
class NoDecryptCacheTest {
  private final FakeKms kms = FakeKms.create();
  private final Byok byok;

  NoDecryptCacheTest() {
    kms.api().createAlias("alias/app", kms.api().createKey().arn());
    byok =
        Byok.builder()
            .provider(kms)
            .encryptUnder("fake-kms://alias/app")
            .decryptCache(0, Duration.ofMinutes(10))
            .build();
  }

  private byte[] encrypt(byte[] plaintext) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream o = byok.newEncryptingStream(out, EncryptionContext.of("t", "1"))) {
      o.write(plaintext);
    }
    return out.toByteArray();
  }

  @Test
  void everyDecryptAsksTheKmsAndNoKeyIsCached() throws IOException {
    byte[] blob = encrypt(new byte[] {1, 2, 3});
    for (int i = 1; i <= 3; i++) {
      try (InputStream in = byok.newDecryptingStream(new ByteArrayInputStream(blob))) {
        assertThat(in.readAllBytes()).containsExactly(1, 2, 3);
      }
      assertThat(kms.api().calls("Decrypt")).isEqualTo(i);
    }
    assertThat(byok.keys().cachedKeys()).isZero();
  }

  @Test
  void theUncachedKeyIsZeroedOnceTheStreamHasItsBlobKey() throws IOException {
    byte[] blob = encrypt(new byte[] {4});
    EnvelopeHeader header = EnvelopeHeader.parse(blob);
    DataKey key = byok.keys().resolve(header);
    assertThat(key.singleUse()).isTrue();
    assertThat(key.isDestroyed()).isFalse();
    try (InputStream in =
        EnvelopeDecryptor.create(h -> key).newDecryptingStream(new ByteArrayInputStream(blob))) {
      assertThat(key.isDestroyed()).isTrue();
      assertThat(key.materialIsZero()).isTrue();
      assertThat(in.readAllBytes()).containsExactly(4);
    }
  }

  @Test
  void rewrapWorksWithoutACache(@TempDir Path dir) throws IOException {
    Path src = Files.write(dir.resolve("blob"), encrypt(new byte[] {5, 6}));
    Path dst = dir.resolve("rewrapped");
    byok.rewrap(
        src,
        dst,
        ReadPolicy.of(
            List.of(KeyRef.parse("fake-kms://alias/app")), EncryptionContext.of("t", "1")));
    try (InputStream in = byok.newDecryptingStream(Files.newInputStream(dst))) {
      assertThat(in.readAllBytes()).containsExactly(5, 6);
    }
  }
}
