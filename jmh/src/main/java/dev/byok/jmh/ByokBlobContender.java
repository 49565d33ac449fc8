package dev.byok.jmh;

import dev.byok.Byok;
import dev.byok.DataKeyPolicy;
import dev.byok.EncryptionContext;
import dev.byok.KeyCacheStats;
import dev.byok.KeyRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;

/**
 * byok's public entry point: {@link Byok#newEncryptingStream} and {@link Byok#newDecryptingStream},
 * data keys from a {@link LocalAesKeyProvider} (the work of a raw AES keyring), cached on both
 * sides with the same bounds the ESDK's caching CMM gets.
 */
final class ByokBlobContender implements BlobContender {
  /** Both caches: a data key lives this long and encrypts at most this many blobs. */
  static final Duration MAX_AGE = Duration.ofMinutes(5);

  static final long MAX_BLOBS = 1L << 20;
  private static final EncryptionContext CONTEXT = EncryptionContext.of("repository", "bench");

  private final LocalAesKeyProvider provider = new LocalAesKeyProvider();
  final Byok byok =
      Byok.builder()
          .provider(provider)
          .encryptUnder(KeyRef.of(LocalAesKeyProvider.ID, LocalAesKeyProvider.KEY_ARN))
          .dataKeyPolicy(DataKeyPolicy.builder().maxAge(MAX_AGE).maxBlobs(MAX_BLOBS).build())
          .decryptCache(1000, MAX_AGE)
          .build();

  @Override
  public void encrypt(byte[] plaintext, OutputStream sink) throws IOException {
    try (OutputStream out = byok.newEncryptingStream(sink, CONTEXT)) {
      out.write(plaintext);
    }
  }

  @Override
  public int decrypt(InputStream envelope, byte[] dst) throws IOException {
    try (InputStream in = byok.newDecryptingStream(envelope)) {
      return BlobContender.readFully(in, dst);
    }
  }

  @Override
  public void checkWarm() {
    KeyCacheStats stats = byok.keys().stats();
    if (provider.generated() != 1 || provider.unwrapped() != 1 || stats.hits() < 2) {
      throw new IllegalStateException(
          "byok cache is not warm: generated "
              + provider.generated()
              + ", unwrapped "
              + provider.unwrapped()
              + ", "
              + stats);
    }
  }
}
