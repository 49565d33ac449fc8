package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The push and pull encrypting streams avoid copies (a write that completes a segment is encrypted
 * from the caller's array; segments above 64 KiB are encrypted as they are written, on the bet that
 * more follows, and redone as the last one if the bet loses; the pull stream encrypts in place).
 * Whatever the write or read pattern, the envelope must be byte-for-byte the one the one-call NIO
 * writer produces for the same salt and nonce prefix.
 */
class DirectEncryptionPathsTest {
  static final DataKey KEY = DataKey.generate();
  static final byte[] SALT = RoundTrips.randomBytes(32, 11);
  static final byte[] PREFIX = RoundTrips.randomBytes(7, 12);

  @TempDir Path dir;

  /** Segment sizes on both sides of the 64 KiB threshold, and plaintext lengths at the seams. */
  static Stream<Arguments> cases() {
    List<Arguments> cases = new ArrayList<>();
    for (int s : new int[] {4096, 100_003, 128 * 1024, 1 << 20}) {
      int first = s - 56;
      int later = s - 16;
      for (int n :
          new int[] {
            0,
            1,
            first - 1,
            first,
            first + 1,
            first + later, // the final segment is full: sealed as not-last, then redone as last
            first + later + 1,
            first + 3 * later - 7,
            first + 2 * later + 12_345
          }) {
        cases.add(Arguments.of(s, n));
      }
    }
    return cases.stream();
  }

  private static byte[] decrypt(byte[] envelope) throws IOException {
    try (InputStream in =
        EnvelopeDecryptor.create(DataKeyResolver.of(KEY))
            .newDecryptingStream(new ByteArrayInputStream(envelope))) {
      return in.readAllBytes();
    }
  }

  private byte[] reference(EnvelopeEncryptor enc, byte[] pt) throws IOException {
    Path file = dir.resolve("ref-" + pt.length);
    Files.deleteIfExists(file);
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      enc.encrypt(ByteBuffer.wrap(pt), ch, 0, null, 1, SALT, PREFIX);
    }
    return Files.readAllBytes(file);
  }

  @ParameterizedTest(name = "segment {0}, {1} bytes")
  @MethodSource("cases")
  void pushOutputIsTheSameForEveryWritePattern(int segmentSize, int length) throws IOException {
    EnvelopeEncryptor enc = RoundTrips.encryptor(KEY, segmentSize, EncryptionContext.empty());
    byte[] pt = RoundTrips.randomBytes(length, length + segmentSize);
    byte[] expected = reference(enc, pt);
    SplittableRandom random = new SplittableRandom(length);
    for (String pattern : List.of("one", "64k", "random", "bytes-then-large", "odd", "mixed")) {
      ByteArrayOutputStream sink = new ByteArrayOutputStream();
      try (OutputStream out = enc.newEncryptingStream(sink, SALT, PREFIX)) {
        int off = 0;
        while (off < pt.length) {
          int n =
              switch (pattern) {
                case "one" -> pt.length;
                case "64k" -> 65_536;
                case "random" -> 1 + random.nextInt(2 * segmentSize);
                case "bytes-then-large" -> off < 300 ? 1 : 3 * segmentSize;
                case "odd" -> 1 + 2 * random.nextInt(9_000); // odd sizes: partial AES blocks
                // writes that start sealing a segment, then small ones and single bytes into it
                default ->
                    random.nextInt(3) == 0
                        ? 16_384 + random.nextInt(30_000)
                        : 1 + random.nextInt(3);
              };
          n = Math.min(n, pt.length - off);
          if (n == 1 && (pattern.equals("mixed") || random.nextBoolean())) {
            out.write(pt[off]);
          } else {
            out.write(pt, off, n);
          }
          off += n;
        }
      }
      assertThat(sink.toByteArray()).as(pattern).isEqualTo(expected);
    }
    assertThat(decrypt(expected)).isEqualTo(pt);
  }

  @ParameterizedTest(name = "segment {0}, {1} bytes")
  @MethodSource("cases")
  void pullOutputIsTheSameForEveryReadSize(int segmentSize, int length) throws IOException {
    EnvelopeEncryptor enc = RoundTrips.encryptor(KEY, segmentSize, EncryptionContext.empty());
    byte[] pt = RoundTrips.randomBytes(length, length + segmentSize);
    byte[] expected = reference(enc, pt);
    int cap = segmentSize - 16;
    for (int chunk : new int[] {1, 4093, 65_536, cap + 15, cap + 16, 2 * segmentSize + 3}) {
      if (chunk == 1 && segmentSize > 65_536) {
        continue; // byte by byte over megabytes: slow, and the small-read path is covered above
      }
      InputStream source = RoundTrips.trickle(new ByteArrayInputStream(pt), 50_000);
      try (InputStream in = enc.newEncryptingInputStream(source, SALT, PREFIX)) {
        assertThat(readAllAtOffset(in, chunk)).as("reads of %d", chunk).isEqualTo(expected);
      }
    }
  }

  /**
   * Reads whose sizes change within a segment: a segment larger than a read of at least 4 KiB is
   * streamed into the caller's arrays, and then tiny reads (the spill path), single-byte {@code
   * read()}s, reads of a whole segment and odd sizes follow while it is half done.
   */
  @ParameterizedTest(name = "segment {0}, {1} bytes")
  @MethodSource("cases")
  void pullOutputIsTheSameForMixedReadSizes(int segmentSize, int length) throws IOException {
    EnvelopeEncryptor enc = RoundTrips.encryptor(KEY, segmentSize, EncryptionContext.empty());
    byte[] pt = RoundTrips.randomBytes(length, length + 3 * segmentSize);
    byte[] expected = reference(enc, pt);
    for (long seed = 1; seed <= 3; seed++) {
      SplittableRandom random = new SplittableRandom(seed * 31 + segmentSize);
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      byte[] buf = new byte[2 * segmentSize + 64];
      InputStream source = RoundTrips.trickle(new ByteArrayInputStream(pt), 70_000);
      try (InputStream in = enc.newEncryptingInputStream(source, SALT, PREFIX)) {
        while (true) {
          int kind = random.nextInt(6);
          if (kind == 0) {
            int b = in.read();
            if (b < 0) {
              break;
            }
            all.write(b);
            continue;
          }
          int n =
              switch (kind) {
                case 1 -> 1 + random.nextInt(20); // smaller than a tag: the spill
                case 2 -> 4096 + random.nextInt(60_000); // streams a larger segment
                case 3 -> segmentSize + random.nextInt(40); // a whole segment, in place
                case 4 -> 16 + random.nextInt(4080);
                default -> 1 + random.nextInt(2 * segmentSize);
              };
          int off = random.nextInt(64);
          n = Math.min(n, buf.length - off);
          int got = in.read(buf, off, n);
          if (got < 0) {
            break;
          }
          assertThat(got).isBetween(1, n);
          all.write(buf, off, got);
        }
      }
      assertThat(all.toByteArray()).as("seed %d", seed).isEqualTo(expected);
    }
  }

  /** Reads to the end into {@code buf[7, 7+chunk)}: segments built inside a caller's buffer. */
  private static byte[] readAllAtOffset(InputStream in, int chunk) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] buf = new byte[chunk + 11];
    int n;
    while ((n = in.read(buf, 7, chunk)) >= 0) {
      all.write(buf, 7, n);
    }
    return all.toByteArray();
  }

  /** A pull stream whose source fails leaves no plaintext in the caller's buffer. */
  @Test
  void aFailingSourceLeavesNoPlaintextInTheCallersBuffer() throws IOException {
    int s = 128 * 1024;
    EnvelopeEncryptor enc = RoundTrips.encryptor(KEY, s, EncryptionContext.empty());
    byte[] pt = new byte[3 * s];
    java.util.Arrays.fill(pt, (byte) 0x5a);
    IOException boom = new IOException("disk gone");
    InputStream failing =
        new InputStream() {
          int served;

          @Override
          public int read() {
            throw new UnsupportedOperationException();
          }

          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            if (served >= s + s / 2) {
              throw boom;
            }
            int n = Math.min(len, 10_000);
            System.arraycopy(pt, served, b, off, n);
            served += n;
            return n;
          }
        };
    InputStream in = enc.newEncryptingInputStream(failing);
    byte[] big = new byte[2 * s];
    int got = 0;
    IOException failure = null;
    while (failure == null) {
      try {
        int n = in.read(big, 0, big.length); // big enough that segments are built inside `big`
        assertThat(n).isPositive();
        got += n;
      } catch (IOException e) {
        failure = e;
      }
    }
    assertThat(failure).isSameAs(boom);
    assertThat(got).isPositive();
    for (byte b : big) {
      assertThat(b).isNotEqualTo((byte) 0x5a); // ciphertext or zeros, never the plaintext read
    }
    assertThatThrownBy(() -> in.read(big)).isInstanceOf(IOException.class);
  }

  /**
   * A sink failing while a segment is being sealed as written poisons the stream: close writes no
   * final segment, and the output is not a valid envelope.
   */
  @Test
  void aSinkFailingWhileSealingAsWrittenLeavesNoCompleteEnvelope() throws IOException {
    int s = 128 * 1024;
    EnvelopeEncryptor enc = RoundTrips.encryptor(KEY, s, EncryptionContext.empty());
    ByteArrayOutputStream kept = new ByteArrayOutputStream();
    IOException boom = new IOException("disk full");
    OutputStream sink =
        new OutputStream() {
          int writes;

          @Override
          public void write(int b) {
            throw new UnsupportedOperationException();
          }

          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            if (++writes == 3) { // header, segment 0, then segment 1 (sealed as written)
              throw boom;
            }
            kept.write(b, off, len);
          }
        };
    OutputStream out = enc.newEncryptingStream(sink);
    byte[] pt = RoundTrips.randomBytes(4 * s, 5);
    IOException failure = null;
    for (int off = 0; off < pt.length && failure == null; off += 65_536) {
      try {
        out.write(pt, off, 65_536);
      } catch (IOException e) {
        failure = e;
      }
    }
    assertThat(failure).isSameAs(boom);
    assertThatThrownBy(out::close).isInstanceOf(IOException.class).hasRootCause(boom);
    byte[] partial = kept.toByteArray();
    assertThatThrownBy(() -> decrypt(partial)).isInstanceOf(InvalidCiphertextIOException.class);
  }
}
