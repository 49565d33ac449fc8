package dev.byok;

import static dev.byok.RobustTestSupport.PLAIN;
import static dev.byok.RobustTestSupport.SEGMENT;
import static dev.byok.RobustTestSupport.plaintext;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 15, finding 3 (sticky failure): after any exception, every further call on every encrypting
 * and decrypting stream and channel fails, so a caller that catches and reads (or writes) on never
 * gets output that looks complete, never the previous segment's ciphertext again, and never
 * plaintext past a failure. One test per stream type, named after the finding.
 */
class StickyFailureTest {
  private final DataKey key = DataKey.generate();

  private EnvelopeEncryptor encryptor(int segmentSize) {
    return EnvelopeEncryptor.builder()
        .dataKey(key)
        .keySlot(RobustTestSupport.SLOT)
        .encryptionContext(RobustTestSupport.CONTEXT)
        .segmentSize(segmentSize)
        .build();
  }

  private EnvelopeDecryptor decryptor() {
    return EnvelopeDecryptor.create(DataKeyResolver.of(key));
  }

  /**
   * A source that yields {@code failAfter} bytes of {@code data}, throws once, then goes on as if
   * nothing happened (first the rest of the data, or end of stream): the worst case for a stream
   * that is not sticky.
   */
  static final class FailOnceSource extends InputStream {
    private final byte[] data;
    private final int failAfter;
    private final boolean endAfterFailure;
    private int pos;
    boolean failed;

    FailOnceSource(byte[] data, int failAfter, boolean endAfterFailure) {
      this.data = data;
      this.failAfter = failAfter;
      this.endAfterFailure = endAfterFailure;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (!failed && pos >= failAfter) {
        failed = true;
        throw new IOException("source failed after " + pos + " bytes");
      }
      if (failed && endAfterFailure) {
        return -1;
      }
      int limit = failed ? data.length : failAfter;
      if (pos >= limit) {
        return -1;
      }
      int n = Math.min(len, limit - pos);
      System.arraycopy(data, pos, b, off, n);
      pos += n;
      return n;
    }
  }

  /** Reads on after failures as a careless caller would; returns every byte it got. */
  private static byte[] readCarelessly(InputStream in, int chunk, int failuresSeen)
      throws IOException {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[chunk];
    int failures = 0;
    for (int calls = 0; calls < 100_000; calls++) {
      int n;
      try {
        n = in.read(buf, 0, buf.length);
      } catch (IOException e) {
        failures++;
        if (failures >= failuresSeen) {
          return got.toByteArray();
        }
        continue;
      }
      if (n < 0) {
        break;
      }
      got.write(buf, 0, n);
    }
    return got.toByteArray();
  }

  private boolean decrypts(byte[] envelope) {
    try (InputStream in = decryptor().newDecryptingStream(new ByteArrayInputStream(envelope))) {
      in.readAllBytes();
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  @ParameterizedTest(name = "segment {0}")
  @ValueSource(ints = {SEGMENT, 65536})
  void pullModeSourceFailureAfter5000BytesWith64KiBReadsNeverYieldsAValidEnvelope(int segment)
      throws IOException {
    byte[] data = plaintext(3 * segment);
    for (boolean endAfterFailure : new boolean[] {true, false}) {
      InputStream enc =
          encryptor(segment)
              .newEncryptingInputStream(new FailOnceSource(data, 5_000, endAfterFailure));
      byte[] got = readCarelessly(enc, 64 * 1024, 20);
      assertThat(decrypts(got)).as("output after a source failure authenticates").isFalse();
      assertStickyInput(enc);
    }
  }

  @ParameterizedTest(name = "read size {0}")
  @ValueSource(ints = {1, 100, 1000, 4095})
  void pullModeSmallReadsAfterSourceFailureNeverReplayThePreviousSegment(int readSize)
      throws IOException {
    byte[] data = plaintext(4 * SEGMENT);
    for (boolean endAfterFailure : new boolean[] {true, false}) {
      InputStream enc =
          encryptor(SEGMENT)
              .newEncryptingInputStream(new FailOnceSource(data, 5_000, endAfterFailure));
      ByteArrayOutputStream before = new ByteArrayOutputStream();
      byte[] buf = new byte[readSize];
      IOException first = null;
      while (first == null) {
        try {
          int n = enc.read(buf, 0, buf.length);
          assertThat(n).as("the stream ended before the source failed").isPositive();
          before.write(buf, 0, n);
        } catch (IOException e) {
          first = e;
        }
      }
      // segment 0 (the header and 4,040 bytes of plaintext) came out before the failure, and
      // nothing after it: no second copy of segment 0's ciphertext, no final segment
      byte[] out = before.toByteArray();
      assertThat(decrypts(out)).isFalse();
      assertStickyInput(enc);
      byte[] after = readCarelessly(enc, readSize, 20);
      assertThat(after).as("bytes after the failure").isEmpty();
    }
  }

  private static void assertStickyInput(InputStream in) {
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> in.read(new byte[64 * 1024])).isInstanceOf(IOException.class);
      assertThatThrownBy(() -> in.read(new byte[1], 0, 1)).isInstanceOf(IOException.class);
      assertThatThrownBy(in::read).isInstanceOf(IOException.class);
      assertThatThrownBy(in::readAllBytes).isInstanceOf(IOException.class);
      assertThatThrownBy(() -> in.transferTo(OutputStream.nullOutputStream()))
          .isInstanceOf(IOException.class);
    }
  }

  /** A sink whose {@code flush} fails once, then works again. */
  static final class FlushFailsOnce extends OutputStream {
    final ByteArrayOutputStream received = new ByteArrayOutputStream();
    boolean failed;

    @Override
    public void write(int b) {
      received.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      received.write(b, off, len);
    }

    @Override
    public void flush() throws IOException {
      if (!failed) {
        failed = true;
        throw new IOException("flush failed");
      }
    }
  }

  @Test
  void pushModeFlushFailureIsStickyAndCloseWritesNoFinalSegment() throws IOException {
    FlushFailsOnce sink = new FlushFailsOnce();
    OutputStream enc = encryptor(SEGMENT).newEncryptingStream(sink);
    enc.write(plaintext(2 * PLAIN));
    assertThatThrownBy(enc::flush).isInstanceOf(IOException.class).hasMessage("flush failed");
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> enc.write(1)).isInstanceOf(IOException.class);
      assertThatThrownBy(() -> enc.write(new byte[10])).isInstanceOf(IOException.class);
      assertThatThrownBy(enc::flush).isInstanceOf(IOException.class);
    }
    assertThatThrownBy(enc::close).isInstanceOf(IOException.class);
    assertThat(decrypts(sink.received.toByteArray())).isFalse();
  }

  @Test
  void pushModeWriteFailureIsStickyAndCloseWritesNoFinalSegment() throws IOException {
    EncryptingStreamSemanticsTest.Sink sink = new EncryptingStreamSemanticsTest.Sink();
    sink.failAt = SEGMENT + 100;
    sink.failOnce = true;
    OutputStream enc = encryptor(SEGMENT).newEncryptingStream(sink);
    byte[] data = plaintext(4 * SEGMENT);
    assertThatThrownBy(() -> enc.write(data)).isInstanceOf(IOException.class);
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> enc.write(data, 0, 10)).isInstanceOf(IOException.class);
      assertThatThrownBy(() -> enc.write(7)).isInstanceOf(IOException.class);
      assertThatThrownBy(enc::flush).isInstanceOf(IOException.class);
    }
    assertThatThrownBy(enc::close).isInstanceOf(IOException.class);
    assertThat(decrypts(sink.received.toByteArray())).isFalse();
  }

  @ParameterizedTest(name = "read size {0}")
  @ValueSource(ints = {100, 64 * 1024})
  void decryptingStreamSourceFailureIsStickyAndReleasesNothingMore(int readSize)
      throws IOException {
    byte[] data = plaintext(4 * SEGMENT);
    byte[] envelope = RobustTestSupport.encrypt(encryptor(SEGMENT), data);
    for (boolean endAfterFailure : new boolean[] {true, false}) {
      FailOnceSource source = new FailOnceSource(envelope, 5_000, endAfterFailure);
      InputStream in = decryptor().newDecryptingStream(source);
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      byte[] buf = new byte[readSize];
      assertThatThrownBy(
              () -> {
                int n;
                while ((n = in.read(buf)) >= 0) {
                  got.write(buf, 0, n);
                }
              })
          .isInstanceOf(IOException.class);
      int released = got.size();
      assertThat(Arrays.equals(got.toByteArray(), Arrays.copyOf(data, released))).isTrue();
      assertStickyInput(in);
      assertThat(in.available()).isZero();
      assertThat(got.size()).as("nothing released after the failure").isEqualTo(released);
    }
  }

  @Test
  void decryptingStreamCiphertextFailureIsStickyAsInvalidCiphertext() throws IOException {
    byte[] envelope = RobustTestSupport.encrypt(encryptor(SEGMENT), plaintext(3 * SEGMENT));
    byte[] tampered = RobustTestSupport.flip(envelope, envelope.length - SEGMENT - 5);
    InputStream in = decryptor().newDecryptingStream(new ByteArrayInputStream(tampered));
    assertThatThrownBy(in::readAllBytes).isInstanceOf(InvalidCiphertextIOException.class);
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> in.read(new byte[100]))
          .isInstanceOf(InvalidCiphertextIOException.class);
      assertThatThrownBy(in::read).isInstanceOf(InvalidCiphertextIOException.class);
    }
  }

  /** A channel over an envelope whose reads fail once at {@code failAt}, then work again. */
  static final class FailOnceChannel extends RobustTestSupport.ByteArrayChannel {
    private final long failAt;
    boolean failed;

    FailOnceChannel(byte[] data, long failAt) {
      super(data);
      this.failAt = failAt;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      if (!failed && position() + dst.remaining() > failAt) {
        failed = true;
        throw new IOException("channel read failed");
      }
      return super.read(dst);
    }
  }

  @Test
  void decryptingChannelSourceFailureIsSticky() throws IOException {
    byte[] data = plaintext(4 * SEGMENT);
    byte[] envelope = RobustTestSupport.encrypt(encryptor(SEGMENT), data);
    FailOnceChannel source = new FailOnceChannel(envelope, envelope.length - 2 * SEGMENT);
    SeekableByteChannel ch = decryptor().newDecryptingChannel(source);
    ByteBuffer buf = ByteBuffer.allocate(data.length);
    assertThatThrownBy(
            () -> {
              while (buf.hasRemaining() && ch.read(buf) >= 0) {
                // read on
              }
            })
        .isInstanceOf(IOException.class)
        .hasMessage("channel read failed");
    assertThat(source.failed).isTrue();
    assertStickyChannel(ch, IOException.class);
    ch.close();
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void decryptingChannelCiphertextFailureIsStickyAsInvalidCiphertext() throws IOException {
    byte[] data = plaintext(4 * SEGMENT);
    byte[] envelope = RobustTestSupport.encrypt(encryptor(SEGMENT), data);
    byte[] tampered = RobustTestSupport.flip(envelope, envelope.length - 2 * SEGMENT);
    SeekableByteChannel ch =
        decryptor().newDecryptingChannel(new RobustTestSupport.ByteArrayChannel(tampered));
    ByteBuffer buf = ByteBuffer.allocate(data.length);
    assertThatThrownBy(
            () -> {
              while (buf.hasRemaining() && ch.read(buf) >= 0) {
                // read on
              }
            })
        .isInstanceOf(InvalidCiphertextIOException.class);
    assertStickyChannel(ch, InvalidCiphertextIOException.class);
  }

  private static void assertStickyChannel(
      SeekableByteChannel ch, Class<? extends IOException> type) {
    for (int i = 0; i < 3; i++) {
      // even a read of segment 0, which is intact, fails now
      assertThatThrownBy(() -> ch.position(0)).isInstanceOf(type);
      assertThatThrownBy(() -> ch.read(ByteBuffer.allocate(10))).isInstanceOf(type);
      assertThatThrownBy(ch::size).isInstanceOf(type);
      assertThatThrownBy(ch::position).isInstanceOf(type);
    }
  }
}
