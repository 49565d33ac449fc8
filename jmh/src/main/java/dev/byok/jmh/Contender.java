package dev.byok.jmh;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.GeneralSecurityException;

/**
 * One library under test at one segment size: encrypts a plaintext held in memory to a sink, and
 * decrypts ciphertext it made itself to a sink. Not thread-safe: one per benchmark state.
 */
interface Contender {
  /**
   * Plaintext is written, and decrypted plaintext read, in chunks of this size: 64 KiB, the
   * application I/O size of issue 13's independent harness (a 1 MiB-segment stream then has to
   * gather 16 writes per segment, which is the case to measure).
   */
  int CHUNK = 64 << 10;

  /** Encrypts {@code plaintext} and writes the ciphertext to {@code sink}. */
  void encrypt(byte[] plaintext, OutputStream sink) throws IOException, GeneralSecurityException;

  /**
   * Decrypts {@code ciphertext} (made by {@link #encrypt}) and writes the plaintext to {@code
   * sink}.
   */
  void decrypt(byte[] ciphertext, OutputStream sink) throws IOException, GeneralSecurityException;

  /** Writes {@code data} to {@code out} in {@link #CHUNK}-byte calls, as an application would. */
  static void writeChunked(byte[] data, OutputStream out) throws IOException {
    for (int off = 0; off < data.length; off += CHUNK) {
      out.write(data, off, Math.min(CHUNK, data.length - off));
    }
  }

  /**
   * Reads {@code in} to its end through {@code buf} (the caller's, so the harness allocates nothing
   * per operation), passing each read to {@code sink}.
   */
  static void drain(InputStream in, byte[] buf, OutputStream sink) throws IOException {
    int n;
    while ((n = in.read(buf)) >= 0) {
      sink.write(buf, 0, n);
    }
  }

  /**
   * The contender a benchmark parameter names.
   *
   * @param name one of byok-push, byok-pull, byok-stream, byok-channel, byok-nio-heap,
   *     byok-nio-direct, jca, jca-dram, tink, esdk
   */
  static Contender named(String name, int segmentSize) throws GeneralSecurityException {
    switch (name) {
      case "byok-push":
      case "byok-stream":
        return new ByokContender(ByokContender.Api.PUSH, segmentSize);
      case "byok-pull":
        return new ByokContender(ByokContender.Api.PULL, segmentSize);
      case "byok-channel":
        return new ByokContender(ByokContender.Api.CHANNEL, segmentSize);
      case "byok-nio-heap":
        return new NioContender(false, segmentSize);
      case "byok-nio-direct":
        return new NioContender(true, segmentSize);
      case "jca":
        return new JcaContender(segmentSize, false);
      case "jca-dram":
        return new JcaContender(segmentSize, true);
      case "tink":
        return new TinkContender(segmentSize);
      case "esdk":
        return new EsdkContender(segmentSize);
      default:
        throw new IllegalArgumentException("unknown contender " + name);
    }
  }
}
