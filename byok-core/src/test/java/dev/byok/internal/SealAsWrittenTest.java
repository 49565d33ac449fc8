package dev.byok.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.byok.BlobTooLargeException;
import dev.byok.InvalidCiphertextIOException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Segments above 64 KiB are encrypted as they are written, under the not-last nonce: the segment
 * cap, failures while a segment is being sealed, sinks that throw undeclared checked exceptions or
 * call back into {@code close()}, and the cipher held by a half-sealed segment.
 */
class SealAsWrittenTest {
  private static final int S = 128 * 1024;
  private static final int CHUNK = 64 * 1024;
  private final byte[] key = new byte[32];
  private final byte[] prefix = new byte[SegmentLayout.NONCE_PREFIX_LENGTH];

  SealAsWrittenTest() {
    new Random(3).nextBytes(key);
    new Random(4).nextBytes(prefix);
  }

  private static byte[] plaintext(SegmentLayout layout, long segments, int extra) {
    byte[] p =
        new byte
            [(int) (layout.plaintextCapacity(0) + (segments - 1) * layout.plaintextCapacity(1))
                + extra];
    new Random(p.length).nextBytes(p);
    return p;
  }

  private static void writeInChunks(OutputStream out, byte[] p) throws IOException {
    for (int off = 0; off < p.length; off += CHUNK) {
      out.write(p, off, Math.min(CHUNK, p.length - off));
    }
  }

  private byte[] decrypt(byte[] payload, SegmentLayout layout) throws IOException {
    try (InputStream in =
        DecryptingInputStream.whole(
            new ByteArrayInputStream(payload),
            new SegmentDecrypter(new SegmentCipher(key, prefix)),
            layout)) {
      return in.readAllBytes();
    }
  }

  @Test
  void exactlyTheCapSealedAsWrittenIsAValidBlobAndOneByteMoreIsTooLarge() throws IOException {
    SegmentLayout capped = new SegmentLayout(S, 3);
    byte[] exactly = plaintext(capped, 3, 0);
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (OutputStream out =
        new EncryptingOutputStream(
            sink, new SegmentCipher(key, prefix), capped, new byte[0], n -> {})) {
      writeInChunks(out, exactly); // the third segment is sealed as not-last, then redone
    }
    assertThat(decrypt(sink.toByteArray(), capped)).isEqualTo(exactly);

    ByteArrayOutputStream sink2 = new ByteArrayOutputStream();
    SegmentCipher cipher = new SegmentCipher(key, prefix);
    OutputStream out = new EncryptingOutputStream(sink2, cipher, capped, new byte[0], n -> {});
    writeInChunks(out, exactly);
    int before = sink2.size();
    assertThat(cipher.sealingHeld()).as("the last allowed segment is being sealed").isTrue();
    assertThat(catchThrowableOfType(() -> out.write(new byte[CHUNK]), BlobTooLargeException.class))
        .hasMessageContaining("at most 3 segments");
    assertThat(sink2.size()).as("nothing past the cap written").isEqualTo(before);
    assertThatThrownBy(out::close).isInstanceOf(IOException.class);
    assertThat(cipher.sealingHeld()).as("close scrubs the half-sealed segment's cipher").isFalse();
    assertThat(cipher.keyDestroyed()).isTrue();
    assertThatThrownBy(() -> decrypt(sink2.toByteArray(), capped))
        .isInstanceOf(InvalidCiphertextIOException.class);
  }

  @SuppressWarnings("unchecked")
  private static <T extends Throwable> void sneakyThrow(Throwable t) throws T {
    throw (T) t;
  }

  /** A checked exception the sink's signature does not declare (Lombok, Kotlin, Groovy). */
  static final class Undeclared extends Exception {
    private static final long serialVersionUID = 1L;
  }

  @Test
  void aSinkThrowingAnUndeclaredCheckedExceptionPoisonsTheStream() throws IOException {
    SegmentLayout layout = new SegmentLayout(S);
    ByteArrayOutputStream kept = new ByteArrayOutputStream();
    OutputStream sink =
        new OutputStream() {
          int writes;

          @Override
          public void write(int b) {
            throw new UnsupportedOperationException();
          }

          @Override
          public void write(byte[] b, int off, int len) {
            if (++writes == 3) { // header, segment 0, then segment 1 (sealed as written)
              sneakyThrow(new Undeclared());
            }
            kept.write(b, off, len);
          }
        };
    OutputStream out =
        new EncryptingOutputStream(
            sink, new SegmentCipher(key, prefix), layout, new byte[0], n -> {});
    byte[] p = plaintext(layout, 4, 100);
    Throwable thrown = catchThrowable(() -> writeInChunks(out, p));
    assertThat(thrown).isInstanceOf(Undeclared.class);
    assertThatThrownBy(() -> out.write(1)).isInstanceOf(IOException.class);
    assertThatThrownBy(out::close)
        .isInstanceOf(IOException.class)
        .hasCauseInstanceOf(Undeclared.class);
    assertThatThrownBy(() -> decrypt(kept.toByteArray(), layout))
        .isInstanceOf(InvalidCiphertextIOException.class);
  }

  @Test
  void aSinkCallingCloseFromInsideAWriteLeavesNoCompleteEnvelope() throws IOException {
    SegmentLayout layout = new SegmentLayout(S);
    ByteArrayOutputStream kept = new ByteArrayOutputStream();
    AtomicReference<OutputStream> self = new AtomicReference<>();
    AtomicReference<IOException> innerClose = new AtomicReference<>();
    OutputStream sink =
        new OutputStream() {
          int writes;

          @Override
          public void write(int b) {
            throw new UnsupportedOperationException();
          }

          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            kept.write(b, off, len);
            if (++writes == 3) {
              try {
                self.get().close(); // an error handler that closes what it writes for
              } catch (IOException expected) {
                innerClose.set(expected); // the stream says the output is incomplete
              }
            }
          }
        };
    OutputStream out =
        new EncryptingOutputStream(
            sink, new SegmentCipher(key, prefix), layout, new byte[0], n -> {});
    self.set(out);
    byte[] p = plaintext(layout, 4, 100);
    assertThat(catchThrowable(() -> writeInChunks(out, p))).isNotNull();
    out.close(); // already closed from inside the write: idempotent
    assertThat(innerClose.get()).hasStackTraceContaining("while a write was in progress");
    assertThatThrownBy(() -> decrypt(kept.toByteArray(), layout))
        .isInstanceOf(InvalidCiphertextIOException.class);
  }

  @Test
  void noEarlierPlaintextStaysInTheBufferOnceSegmentsAreSealedAsWritten() throws Exception {
    SegmentLayout layout = new SegmentLayout(S);
    byte[] p = plaintext(layout, 4, 100);
    java.util.Arrays.fill(p, 0, layout.plaintextCapacity(0), (byte) 0x5a); // segment 0, copied
    EncryptingOutputStream out =
        new EncryptingOutputStream(
            new ByteArrayOutputStream(),
            new SegmentCipher(key, prefix),
            layout,
            new byte[0],
            n -> {});
    writeInChunks(out, java.util.Arrays.copyOf(p, layout.plaintextCapacity(0) + 2 * CHUNK));
    java.lang.reflect.Field f = EncryptingOutputStream.class.getDeclaredField("plain");
    f.setAccessible(true);
    for (byte b : (byte[]) f.get(out)) {
      assertThat(b).isNotEqualTo((byte) 0x5a);
    }
    out.close();
  }
}
