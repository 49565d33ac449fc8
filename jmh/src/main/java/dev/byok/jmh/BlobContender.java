package dev.byok.jmh;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * One library encrypting and decrypting small blobs with a warm data-key cache. Unlike {@link
 * Contender}, an instance is shared by every benchmark thread, as one application instance would
 * share its encryption client and cache: implementations must be thread-safe.
 */
interface BlobContender {
  /**
   * The application reads plaintext in calls of this size (JDK 17's {@code transferTo} and {@code
   * readAllBytes} chunk).
   */
  int READ_CHUNK = 8192;

  /**
   * Encrypts {@code plaintext}, written in one call, to {@code sink} and closes the encrypting
   * stream.
   */
  void encrypt(byte[] plaintext, OutputStream sink) throws IOException;

  /**
   * Opens a decrypting stream over {@code envelope} and reads it to the end into {@code dst}, at
   * most {@link #READ_CHUNK} bytes per call.
   *
   * @return the plaintext length
   */
  int decrypt(InputStream envelope, byte[] dst) throws IOException;

  /**
   * Checks that the cache is warm: after a few round trips, the wrapping key was used once to wrap
   * and once to unwrap.
   *
   * @throws IllegalStateException naming the counts otherwise
   */
  void checkWarm();

  /** Reads {@code in} to its end into {@code dst}; for {@link #decrypt}. */
  static int readFully(InputStream in, byte[] dst) throws IOException {
    int n = 0;
    int r;
    while ((r = in.read(dst, n, Math.min(READ_CHUNK, dst.length - n))) > 0) {
      n += r;
    }
    if (r == 0 && in.read() >= 0) {
      throw new IllegalStateException("plaintext longer than " + dst.length + " bytes");
    }
    return n;
  }

  /**
   * The contender a benchmark parameter names.
   *
   * @param name one of byok, esdk-caching, esdk-keyring
   */
  static BlobContender named(String name) {
    switch (name) {
      case "byok":
        return new ByokBlobContender();
      case "esdk-caching":
        return new EsdkBlobContender(true);
      case "esdk-keyring":
        return new EsdkBlobContender(false);
      default:
        throw new IllegalArgumentException("unknown contender " + name);
    }
  }
}
