package dev.byok;

import static dev.byok.InvalidCiphertextException.Reason.AUTHENTICATION_FAILED;
import static dev.byok.InvalidCiphertextException.Reason.TRUNCATED;
import static dev.byok.RobustTestSupport.FIRST_PLAIN;
import static dev.byok.RobustTestSupport.PLAIN;
import static dev.byok.RobustTestSupport.SEGMENT;
import static dev.byok.RobustTestSupport.assertInvalid;
import static dev.byok.RobustTestSupport.decryptStream;
import static dev.byok.RobustTestSupport.encrypt;
import static dev.byok.RobustTestSupport.plaintext;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.byok.RobustTestSupport.CountingInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Stream contracts: idempotent close that closes the delegate once and keeps the first exception, a
 * poisoned push stream after a failed write that never writes a final segment, flush, the
 * single-byte paths, the pull stream's close and {@code available()}, and a decrypting stream whose
 * failure is sticky and that never releases a byte of a failing segment.
 */
class EncryptingStreamSemanticsTest {
  private final DataKey key = DataKey.generate();
  private final EnvelopeEncryptor enc = RobustTestSupport.encryptor(key);

  /** Header bytes of every envelope of {@link #enc}, payload header included. */
  private final int headerLength = (int) enc.ciphertextLength(0) - 16;

  /** A real sink that records what it got and fails when told to. */
  static final class Sink extends OutputStream {
    final ByteArrayOutputStream received = new ByteArrayOutputStream();
    int closes;
    int flushes;

    /** A write that would take the total past this fails, after writing what fits. */
    long failAt = Long.MAX_VALUE;

    /** Fail only once, then accept writes again (so a later final segment would show). */
    boolean failOnce;

    IOException closeFailure;

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (received.size() + (long) len > failAt) {
        int fits = (int) (failAt - received.size());
        received.write(b, off, fits);
        if (failOnce) {
          failAt = Long.MAX_VALUE;
        }
        throw new IOException("sink full after " + received.size() + " bytes");
      }
      received.write(b, off, len);
    }

    @Override
    public void flush() {
      flushes++;
    }

    @Override
    public void close() throws IOException {
      closes++;
      if (closeFailure != null) {
        throw closeFailure;
      }
    }
  }

  @Test
  void closeIsIdempotentAndClosesTheDelegateOnce() throws IOException {
    Sink sink = new Sink();
    byte[] pt = plaintext(10_000);
    OutputStream out = enc.newEncryptingStream(sink);
    out.write(pt);
    out.close();
    byte[] afterFirstClose = sink.received.toByteArray();
    out.close();
    assertThat(sink.closes).isEqualTo(1);
    assertThat(sink.received.toByteArray()).isEqualTo(afterFirstClose);
    assertThat((long) afterFirstClose.length).isEqualTo(enc.ciphertextLength(pt.length));
    assertThat(decryptStream(key, afterFirstClose)).isEqualTo(pt);
    assertThatThrownBy(() -> out.write(1)).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> out.write(new byte[10])).isInstanceOf(IOException.class);
    assertThatThrownBy(out::flush).isInstanceOf(IOException.class);
  }

  /** failAt relative to the header: on the first segment, at a segment boundary, mid-segment. */
  @ParameterizedTest(name = "sink fails at header + {0}, only once: {1}")
  @CsvSource({"0,true", "0,false", "4056,true", "4056,false", "4156,true", "4156,false"})
  void aFailedWritePoisonsTheStreamAndCloseWritesNoFinalSegment(int failAfter, boolean once)
      throws IOException {
    Sink sink = new Sink();
    sink.failAt = headerLength + failAfter;
    sink.failOnce = once;
    OutputStream out = enc.newEncryptingStream(sink);
    IOException failure =
        catchThrowableOfType(IOException.class, () -> out.write(plaintext(3 * SEGMENT)));
    assertThat(failure).isNotNull();
    int receivedAtFailure = sink.received.size();
    assertThat(receivedAtFailure).isEqualTo(headerLength + failAfter);

    assertThat(catchThrowableOfType(IOException.class, () -> out.write(new byte[5])))
        .hasRootCause(failure);
    assertThat(catchThrowableOfType(IOException.class, () -> out.write(7))).hasRootCause(failure);
    assertThatThrownBy(out::flush).isInstanceOf(IOException.class);
    IOException onClose = catchThrowableOfType(IOException.class, out::close);
    assertThat(onClose).as("close reports the earlier failure").hasRootCause(failure);
    assertThat(sink.closes).isEqualTo(1);
    out.close();
    assertThat(sink.closes).isEqualTo(1);

    byte[] received = sink.received.toByteArray();
    assertThat(received.length)
        .as("nothing written after the failure")
        .isEqualTo(receivedAtFailure);
    InvalidCiphertextException e = assertInvalid(() -> decryptStream(key, received));
    if (failAfter == 0 || failAfter == SEGMENT - 40) {
      assertThat(e.reason()).isEqualTo(TRUNCATED); // whole segments, none of them final
    } else {
      assertThat(e.reason()).isIn(TRUNCATED, AUTHENTICATION_FAILED);
    }
  }

  @Test
  void aSinkThatFailsOnTheHeaderFailsTheFactory() {
    Sink sink = new Sink();
    sink.failAt = 10;
    assertThatThrownBy(() -> enc.newEncryptingStream(sink)).isInstanceOf(IOException.class);
  }

  @Test
  void aFailingDelegateCloseIsReportedAfterTheFinalSegment() throws IOException {
    Sink sink = new Sink();
    sink.closeFailure = new IOException("close failed");
    byte[] pt = plaintext(5000);
    OutputStream out = enc.newEncryptingStream(sink);
    out.write(pt);
    assertThat(catchThrowableOfType(IOException.class, out::close)).isSameAs(sink.closeFailure);
    assertThat(decryptStream(key, sink.received.toByteArray())).isEqualTo(pt);
    out.close(); // idempotent: already closed, nothing thrown again
    assertThat(sink.closes).isEqualTo(1);
  }

  @Test
  void theFirstExceptionWinsAndTheCloseFailureIsSuppressed() throws IOException {
    Sink sink = new Sink();
    sink.failAt = headerLength + 100;
    sink.closeFailure = new IOException("close failed");
    OutputStream out = enc.newEncryptingStream(sink);
    IOException writeFailure =
        catchThrowableOfType(IOException.class, () -> out.write(plaintext(2 * SEGMENT)));
    IOException onClose = catchThrowableOfType(IOException.class, out::close);
    assertThat(onClose).hasRootCause(writeFailure);
    assertThat(onClose.getSuppressed()).containsExactly(sink.closeFailure);
    assertThat(sink.closes).isEqualTo(1);
  }

  @Test
  void aFailingFinalSegmentStillClosesTheDelegate() throws IOException {
    Sink sink = new Sink();
    sink.closeFailure = new IOException("close failed");
    OutputStream out = enc.newEncryptingStream(sink);
    out.write(plaintext(100)); // buffered: the final segment is written by close()
    sink.failAt = headerLength;
    IOException onClose = catchThrowableOfType(IOException.class, out::close);
    assertThat(onClose).isNotSameAs(sink.closeFailure).hasMessageContaining("sink full");
    assertThat(onClose.getSuppressed()).containsExactly(sink.closeFailure);
    assertThat(sink.closes).isEqualTo(1);
    assertThat(sink.received.size()).isEqualTo(headerLength);
  }

  @Test
  void flushPassesThroughAndHoldsBackThePartialSegment() throws IOException {
    Sink sink = new Sink();
    byte[] pt = plaintext(FIRST_PLAIN + 10);
    OutputStream out = enc.newEncryptingStream(sink);
    out.write(pt, 0, 10);
    out.flush();
    assertThat(sink.flushes).isEqualTo(1);
    assertThat(sink.received.size())
        .as("a partial segment cannot be written yet")
        .isEqualTo(headerLength);
    out.write(pt, 10, pt.length - 10);
    out.flush();
    assertThat(sink.flushes).isEqualTo(2);
    assertThat(sink.received.size())
        .as("first segment complete and known not to be the last")
        .isEqualTo(headerLength + SEGMENT - 40);
    out.close();
    assertThat(decryptStream(key, sink.received.toByteArray())).isEqualTo(pt);
  }

  @ParameterizedTest
  @ValueSource(
      ints = {
        0,
        1,
        FIRST_PLAIN - 1,
        FIRST_PLAIN,
        FIRST_PLAIN + 1,
        FIRST_PLAIN + PLAIN,
        FIRST_PLAIN + 2 * PLAIN + 333
      })
  void singleByteWritesMakeTheSameEnvelopeAsBulkWrites(int size) throws IOException {
    byte[] pt = plaintext(size);
    ByteArrayOutputStream bout = new ByteArrayOutputStream();
    try (OutputStream out = enc.newEncryptingStream(bout)) {
      for (byte b : pt) {
        out.write(b);
      }
    }
    byte[] env = bout.toByteArray();
    assertThat((long) env.length).isEqualTo(enc.ciphertextLength(size));
    assertThat(decryptStream(key, env)).isEqualTo(pt);
    // mixed single bytes and arrays across segment boundaries
    ByteArrayOutputStream mixed = new ByteArrayOutputStream();
    try (OutputStream out = enc.newEncryptingStream(mixed)) {
      int i = 0;
      while (i < size) {
        if (i % 3 == 0) {
          out.write(pt[i++]);
        } else {
          int n = Math.min(size - i, 1 + (i % 5000));
          out.write(pt, i, n);
          i += n;
        }
      }
    }
    assertThat(decryptStream(key, mixed.toByteArray())).isEqualTo(pt);
  }

  @Test
  void pullStreamCloseClosesTheSourceOnce() throws IOException {
    CountingInputStream source = new CountingInputStream(new ByteArrayInputStream(plaintext(9000)));
    InputStream in = enc.newEncryptingInputStream(source);
    assertThat(in.read(new byte[100])).isEqualTo(100);
    in.close();
    in.close();
    assertThat(source.closes).isEqualTo(1);
    assertThatThrownBy(() -> in.read(new byte[10])).isInstanceOf(IOException.class);
    assertThatThrownBy(in::read).isInstanceOf(IOException.class);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 777, SEGMENT, 3 * SEGMENT})
  void pullStreamAvailableNeverOverstates(int chunk) throws IOException {
    byte[] pt = plaintext(FIRST_PLAIN + PLAIN + 500);
    long total = enc.ciphertextLength(pt.length);
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    try (InputStream in = enc.newEncryptingInputStream(new ByteArrayInputStream(pt))) {
      assertThat(in.available()).as("the header is ready at once").isPositive();
      byte[] buf = new byte[chunk];
      int n;
      while (true) {
        int available = in.available();
        assertThat((long) available).isBetween(0L, total - got.size());
        n = chunk == 1 ? singleRead(in, buf) : in.read(buf);
        if (n < 0) {
          break;
        }
        assertThat(n).isPositive();
        got.write(buf, 0, n);
      }
      assertThat(in.available()).isZero();
      assertThat(in.read()).isEqualTo(-1);
    }
    assertThat((long) got.size()).isEqualTo(total);
    assertThat(decryptStream(key, got.toByteArray())).isEqualTo(pt);
  }

  private static int singleRead(InputStream in, byte[] buf) throws IOException {
    int b = in.read();
    if (b < 0) {
      return -1;
    }
    buf[0] = (byte) b;
    return 1;
  }

  // ------------------------------------------------------------------ decrypting stream

  private byte[] threeSegmentEnvelopeFlippedIn(byte[] pt, int segment) throws IOException {
    byte[] env = encrypt(enc, pt);
    int payload = EnvelopeHeader.parse(env).payloadOffset();
    int segmentStart = segment == 0 ? 40 : segment * SEGMENT;
    return RobustTestSupport.flip(env, payload + segmentStart + 10);
  }

  @ParameterizedTest(name = "segment {0} flipped, read buffer {1}")
  @CsvSource({"0,1", "1,1", "2,1", "0,1000", "1,1000", "2,1000", "0,65536", "1,65536", "2,65536"})
  void aFailingSegmentReleasesNoByte(int flipped, int bufferSize) throws IOException {
    byte[] pt = plaintext(FIRST_PLAIN + PLAIN + 500);
    byte[] env = threeSegmentEnvelopeFlippedIn(pt, flipped);
    int good = flipped == 0 ? 0 : FIRST_PLAIN + (flipped - 1) * PLAIN;
    int failingStart = good;
    int failingLength = flipped == 2 ? 500 : flipped == 0 ? FIRST_PLAIN : PLAIN;
    ByteArrayOutputStream released = new ByteArrayOutputStream();
    byte[] buf = new byte[bufferSize];
    InvalidCiphertextException failure = null;
    InputStream in =
        EnvelopeDecryptor.create(DataKeyResolver.of(key))
            .newDecryptingStream(new ByteArrayInputStream(env));
    while (failure == null) {
      Arrays.fill(buf, (byte) 0x5A);
      try {
        int n = bufferSize == 1 ? singleRead(in, buf) : in.read(buf);
        assertThat(n).as("the stream must fail, not end").isNotNegative();
        released.write(buf, 0, n);
      } catch (InvalidCiphertextIOException e) {
        failure = e.getCause();
      }
    }
    assertThat(failure.reason()).isEqualTo(AUTHENTICATION_FAILED);
    assertThat(released.toByteArray()).isEqualTo(Arrays.copyOf(pt, good));
    // the failed read left nothing of the failing segment in the caller's buffer
    int same = 0;
    for (int i = 0; i < Math.min(bufferSize, failingLength); i++) {
      if (buf[i] == pt[failingStart + i]) {
        same++;
      }
    }
    assertThat(same)
        .as("plaintext bytes of the failing segment in the buffer")
        .isLessThanOrEqualTo(Math.max(2, bufferSize / 64));
    // sticky: every later read fails the same way and still releases nothing
    InvalidCiphertextException finalFailure = failure;
    assertThat(catchThrowableOfType(InvalidCiphertextIOException.class, in::read).getCause())
        .isSameAs(finalFailure);
    assertThat(
            catchThrowableOfType(
                    InvalidCiphertextIOException.class, () -> in.read(new byte[SEGMENT * 2]))
                .getCause())
        .isSameAs(finalFailure);
    assertThat(in.available()).isZero();
    in.close();
  }

  @Test
  void closeWipesBufferedPlaintextAndClosesTheSourceOnce() throws Exception {
    byte[] pt = plaintext(FIRST_PLAIN + PLAIN + 500);
    CountingInputStream source =
        new CountingInputStream(new ByteArrayInputStream(encrypt(enc, pt)));
    InputStream in = EnvelopeDecryptor.create(DataKeyResolver.of(key)).newDecryptingStream(source);
    assertThat(in.read()).isEqualTo(pt[0] & 0xff);
    assertThat(in.available())
        .as("rest of the first segment is buffered")
        .isEqualTo(FIRST_PLAIN - 1);
    Field f = in.getClass().getDeclaredField("plain");
    f.setAccessible(true);
    byte[] buffered = (byte[]) f.get(in);
    assertThat(Arrays.copyOf(buffered, FIRST_PLAIN)).isEqualTo(Arrays.copyOf(pt, FIRST_PLAIN));
    in.close();
    assertThat(buffered).containsOnly(0);
    assertThat(source.closes).isEqualTo(1);
    in.close();
    assertThat(source.closes).isEqualTo(1);
    assertThatThrownBy(in::read).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> in.read(new byte[5])).isInstanceOf(IOException.class);
  }
}
