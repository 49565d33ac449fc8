package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.util.Arrays;
import java.util.Random;

/** Shared helpers for round-trip tests: encrypt/decrypt with a given chunking, compare bytes. */
final class RoundTrips {
  static final KeySlot SLOT = KeySlot.of("test", "arn:test:key/matrix", new byte[] {7, 7, 7});

  private RoundTrips() {}

  static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  static EnvelopeEncryptor encryptor(DataKey key, int segmentSize, EncryptionContext context) {
    return EnvelopeEncryptor.builder()
        .dataKey(key)
        .keySlot(SLOT)
        .encryptionContext(context)
        .segmentSize(segmentSize)
        .build();
  }

  /** Push mode: writes {@code pt[0, len)} in writes of at most {@code chunk} bytes. */
  static byte[] encryptPush(EnvelopeEncryptor enc, byte[] pt, int len, int chunk)
      throws IOException {
    ByteArrayOutputStream sink =
        new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 8, enc.ciphertextLength(len)));
    try (OutputStream out = enc.newEncryptingStream(sink)) {
      for (int off = 0; off < len; off += chunk) {
        out.write(pt, off, Math.min(chunk, len - off));
      }
    }
    return sink.toByteArray();
  }

  /** Reads a stream to its end with reads of at most {@code chunk} bytes. */
  static byte[] readAll(InputStream in, int chunk) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] buf = new byte[chunk];
    int n;
    while ((n = in.read(buf, 0, chunk)) >= 0) {
      assertThat(n).as("a read of %d bytes must not return 0", chunk).isPositive();
      all.write(buf, 0, n);
    }
    return all.toByteArray();
  }

  /**
   * Reads a channel from its current position to its end through a buffer of {@code chunk} bytes.
   */
  static byte[] readAll(SeekableByteChannel ch, int chunk) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    ByteBuffer buf = ByteBuffer.allocate(chunk);
    int n;
    while ((n = ch.read(buf.clear())) >= 0) {
      assertThat(n).as("a read into %d bytes must not return 0", chunk).isPositive();
      all.write(buf.array(), 0, n);
    }
    return all.toByteArray();
  }

  /** A stream that returns at most {@code max} bytes per read, like a slow socket. */
  static InputStream trickle(InputStream in, int max) {
    return new FilterInputStream(in) {
      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        return super.read(b, off, Math.min(len, max));
      }
    };
  }

  /**
   * Asserts {@code actual} is exactly {@code expected[off, off + len)}, naming the first
   * difference.
   */
  static void assertSameBytes(byte[] expected, int off, int len, byte[] actual) {
    assertThat(actual.length).as("length").isEqualTo(len);
    int at = Arrays.mismatch(expected, off, off + len, actual, 0, actual.length);
    assertThat(at).as("first differing byte").isEqualTo(-1);
  }
}
