package dev.byok;

import static dev.byok.RobustTestSupport.FIRST_PLAIN;
import static dev.byok.RobustTestSupport.PLAIN;
import static dev.byok.RobustTestSupport.encryptor;
import static dev.byok.RobustTestSupport.plaintext;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, finding 6: failures of stream and channel methods are {@link IOException}s, so code
 * written against java.io (which handles {@code IOException} and nothing else) never mistakes a bad
 * blob for a good one.
 */
class StreamsFollowJavaIoTest {
  private static final DataKey KEY = DataKey.generate();
  private static final byte[] PT = plaintext(FIRST_PLAIN + 2 * PLAIN + 10);
  private static final byte[] BLOB = RobustTestSupport.envelopeOf(KEY, PT);
  private static final EnvelopeDecryptor DECRYPTOR =
      EnvelopeDecryptor.create(DataKeyResolver.of(KEY));

  private static byte[] tampered() {
    byte[] b = BLOB.clone();
    b[b.length - 5] ^= 1; // in the final segment (10 plaintext bytes and a tag)
    return b;
  }

  /** What java.io code sees: an IOException, or nothing. */
  private static IOException ioFailureOf(IoCall call) {
    try {
      call.run();
    } catch (IOException e) {
      return e;
    }
    throw new AssertionError("no IOException");
  }

  interface IoCall {
    void run() throws IOException;
  }

  private static void assertCarriesTheRejection(
      IOException e, InvalidCiphertextException.Reason r) {
    assertThat(e).isInstanceOf(InvalidCiphertextIOException.class);
    InvalidCiphertextIOException io = (InvalidCiphertextIOException) e;
    assertThat(io.reason()).isEqualTo(r);
    assertThat(io.getCause()).isInstanceOf(InvalidCiphertextException.class);
    assertThat(io.getCause().reason()).isEqualTo(r);
    assertThat(io.getMessage()).isEqualTo(io.getCause().getMessage());
  }

  @Test
  void transferToAndFilesCopyFailWithAnIoExceptionAndLeaveNoCompleteLookingCopy(@TempDir Path dir)
      throws IOException {
    InputStream in = DECRYPTOR.newDecryptingStream(new ByteArrayInputStream(tampered()));
    IOException e = ioFailureOf(() -> in.transferTo(OutputStream.nullOutputStream()));
    assertCarriesTheRejection(e, InvalidCiphertextException.Reason.AUTHENTICATION_FAILED);
    // sticky: the next read fails the same way, with the same cause
    IOException again = ioFailureOf(() -> in.read());
    assertThat(again.getCause()).isSameAs(e.getCause());

    Path copy = dir.resolve("copy");
    IOException c =
        ioFailureOf(
            () ->
                Files.copy(
                    DECRYPTOR.newDecryptingStream(new ByteArrayInputStream(tampered())), copy));
    assertCarriesTheRejection(c, InvalidCiphertextException.Reason.AUTHENTICATION_FAILED);
  }

  @Test
  void aTruncatedStreamIsAnIoExceptionNotAnEarlyEnd() throws IOException {
    byte[] cut = java.util.Arrays.copyOf(BLOB, BLOB.length - 5);
    InputStream in = DECRYPTOR.newDecryptingStream(new ByteArrayInputStream(cut));
    assertCarriesTheRejection(
        ioFailureOf(in::readAllBytes), InvalidCiphertextException.Reason.AUTHENTICATION_FAILED);
    byte[] atBoundary =
        java.util.Arrays.copyOf(BLOB, EnvelopeHeader.parse(BLOB).payloadOffset() + 2 * 4096);
    InputStream in2 = DECRYPTOR.newDecryptingStream(new ByteArrayInputStream(atBoundary));
    assertCarriesTheRejection(
        ioFailureOf(in2::readAllBytes), InvalidCiphertextException.Reason.TRUNCATED);
  }

  @Test
  void channelReadAndSizeFailWithAnIoException() throws IOException {
    try (SeekableByteChannel ch =
        DECRYPTOR.newDecryptingChannel(new RobustTestSupport.ByteArrayChannel(tampered()))) {
      assertCarriesTheRejection(
          ioFailureOf(ch::size), InvalidCiphertextException.Reason.AUTHENTICATION_FAILED);
      // sticky (issue 15, finding 3): every later call fails with the same rejection
      assertCarriesTheRejection(
          ioFailureOf(() -> ch.position(PT.length - 3)),
          InvalidCiphertextException.Reason.AUTHENTICATION_FAILED);
      assertCarriesTheRejection(
          ioFailureOf(() -> ch.read(ByteBuffer.allocate(3))),
          InvalidCiphertextException.Reason.AUTHENTICATION_FAILED);
    }
  }

  @Test
  void openingStillThrowsTheRejectionItself() {
    byte[] notABlob = "hello".getBytes();
    assertThat(
            catchThrowable(() -> DECRYPTOR.newDecryptingStream(new ByteArrayInputStream(notABlob))))
        .isInstanceOf(InvalidCiphertextException.class);
  }

  @Test
  void thePullModeEncryptingStreamReportsEveryFailureAsAStickyIoException() throws IOException {
    InputStream failing =
        new InputStream() {
          int calls;

          @Override
          public int read() {
            throw new IllegalStateException("source broke");
          }

          @Override
          public int read(byte[] b, int off, int len) {
            if (calls++ == 0) {
              java.util.Arrays.fill(b, off, off + len, (byte) 7);
              return len;
            }
            throw new IllegalStateException("source broke");
          }
        };
    InputStream enc = encryptor(KEY).newEncryptingInputStream(failing);
    byte[] buf = new byte[64 * 1024];
    IOException e =
        ioFailureOf(
            () -> {
              while (enc.read(buf) >= 0) {
                // read until it fails
              }
            });
    assertThat(e).hasRootCauseInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> enc.read(buf)).isInstanceOf(IOException.class);
    assertThatThrownBy(enc::read).isInstanceOf(IOException.class);
  }

  @Test
  void decryptFileAndTheOldCheckedCallersStillSeeTheRejection(@TempDir Path dir)
      throws IOException {
    Path source = dir.resolve("blob");
    Files.write(source, tampered());
    Path target = dir.resolve("out");
    assertThatThrownBy(() -> DECRYPTOR.decryptFile(source, target))
        .isInstanceOfSatisfying(
            InvalidCiphertextException.class,
            x ->
                assertThat(x.reason())
                    .isEqualTo(InvalidCiphertextException.Reason.AUTHENTICATION_FAILED));
    assertThat(target).doesNotExist();
  }
}
