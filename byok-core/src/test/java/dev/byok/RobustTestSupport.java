package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.BufferOverflowException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;
import java.util.Arrays;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/**
 * Shared fixtures of the robustness tests: small envelopes, in-memory sources, typed-failure
 * checks.
 */
final class RobustTestSupport {
  static final KeySlot SLOT = KeySlot.of("test", "arn:test:key/1", new byte[] {1, 2, 3});
  static final EncryptionContext CONTEXT = EncryptionContext.of("a", "1", "b", "2");
  static final int SEGMENT = 4096;

  /**
   * Plaintext bytes of the first segment at {@link #SEGMENT}: S - 40 (payload header) - 16 (tag).
   */
  static final int FIRST_PLAIN = SEGMENT - 40 - 16;

  /** Plaintext bytes of every later full segment at {@link #SEGMENT}. */
  static final int PLAIN = SEGMENT - 16;

  private RobustTestSupport() {}

  static EnvelopeEncryptor encryptor(DataKey key) {
    return EnvelopeEncryptor.builder()
        .dataKey(key)
        .keySlot(SLOT)
        .encryptionContext(CONTEXT)
        .segmentSize(SEGMENT)
        .build();
  }

  static byte[] plaintext(int n) {
    byte[] p = new byte[n];
    new Random(n * 31L + 7).nextBytes(p);
    return p;
  }

  static byte[] encrypt(EnvelopeEncryptor enc, byte[] plaintext) throws IOException {
    ByteArrayOutputStream bout = new ByteArrayOutputStream();
    try (OutputStream out = enc.newEncryptingStream(bout)) {
      out.write(plaintext);
    }
    return bout.toByteArray();
  }

  /**
   * {@link #encrypt} under {@link #encryptor}, for field initialisers: in memory, I/O cannot fail.
   */
  static byte[] envelopeOf(DataKey key, byte[] plaintext) {
    try {
      return encrypt(encryptor(key), plaintext);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static byte[] decryptStream(DataKey key, byte[] envelope) throws IOException {
    try (InputStream in =
        EnvelopeDecryptor.create(DataKeyResolver.of(key))
            .newDecryptingStream(new ByteArrayInputStream(envelope))) {
      return in.readAllBytes();
    }
  }

  static byte[] decryptChannel(DataKey key, byte[] envelope) throws IOException {
    try (SeekableByteChannel ch =
        EnvelopeDecryptor.create(DataKeyResolver.of(key))
            .newDecryptingChannel(new ByteArrayChannel(envelope))) {
      ByteBuffer out = ByteBuffer.allocate((int) ch.size());
      while (out.hasRemaining() && ch.read(out) >= 0) {
        // read on
      }
      assertThat(ch.read(ByteBuffer.allocate(1))).isEqualTo(-1);
      return out.array();
    }
  }

  /**
   * Writes {@code value} big-endian in {@code width} bytes at {@code offset} of a copy of {@code
   * b}.
   */
  static byte[] withField(byte[] b, int offset, int width, long value) {
    byte[] out = b.clone();
    for (int i = 0; i < width; i++) {
      out[offset + i] = (byte) (value >>> (8 * (width - 1 - i)));
    }
    return out;
  }

  static byte[] flip(byte[] b, int at) {
    byte[] out = b.clone();
    out[at] ^= 0x01;
    return out;
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  /**
   * Runs {@code call} and checks that it threw exactly one {@link InvalidCiphertextException} with
   * {@code reason}, and that no runtime parsing exception hides in its causes.
   */
  static InvalidCiphertextException assertInvalid(
      InvalidCiphertextException.Reason reason, ThrowingCallable call) {
    InvalidCiphertextException e = assertInvalid(call);
    assertThat(e.reason()).as("reason of: %s", e.getMessage()).isEqualTo(reason);
    return e;
  }

  /**
   * Like {@link #assertInvalid(InvalidCiphertextException.Reason, ThrowingCallable)}, any reason.
   */
  static InvalidCiphertextException assertInvalid(ThrowingCallable call) {
    Throwable t = catchThrowable(call);
    assertThat(t).as("the call must throw").isNotNull();
    if (t instanceof InvalidCiphertextIOException io) {
      // streams and channels report through java.io: the rejection is the cause, same reason
      assertThat(io.getCause()).isInstanceOf(InvalidCiphertextException.class);
      assertThat(io.reason()).isEqualTo(io.getCause().reason());
      t = io.getCause();
    }
    if (!(t instanceof InvalidCiphertextException)) {
      throw new AssertionError("expected InvalidCiphertextException, got " + t, t);
    }
    for (Throwable c = t.getCause(); c != null; c = c.getCause()) {
      assertThat(c)
          .isNotInstanceOfAny(
              IndexOutOfBoundsException.class,
              BufferUnderflowException.class,
              BufferOverflowException.class,
              NegativeArraySizeException.class,
              OutOfMemoryError.class,
              ArithmeticException.class);
    }
    return (InvalidCiphertextException) t;
  }

  /** An input stream of zeros that never ends. */
  static final class EndlessZeros extends InputStream {
    long delivered;

    @Override
    public int read() {
      delivered++;
      return 0;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      Arrays.fill(b, off, off + len, (byte) 0);
      delivered += len;
      return len;
    }
  }

  /** Counts bytes read and close calls. */
  static final class CountingInputStream extends FilterInputStream {
    long count;
    int closes;

    CountingInputStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int r = super.read();
      if (r >= 0) {
        count++;
      }
      return r;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int r = super.read(b, off, len);
      if (r > 0) {
        count += r;
      }
      return r;
    }

    @Override
    public long skip(long n) throws IOException {
      long r = super.skip(n);
      count += r;
      return r;
    }

    @Override
    public void close() throws IOException {
      closes++;
      super.close();
    }
  }

  /** A read-only in-memory {@link SeekableByteChannel} that counts close calls. */
  static class ByteArrayChannel implements SeekableByteChannel {
    private final byte[] data;
    private long position;
    private boolean open = true;
    int closes;

    /** One past the furthest byte any read returned. */
    long readEnd;

    ByteArrayChannel(byte[] data) {
      this.data = data;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      ensureOpen();
      if (position >= data.length) {
        return -1;
      }
      int n = (int) Math.min(dst.remaining(), data.length - position);
      dst.put(data, (int) position, n);
      position += n;
      readEnd = Math.max(readEnd, position);
      return n;
    }

    @Override
    public int write(ByteBuffer src) {
      throw new NonWritableChannelException();
    }

    @Override
    public long position() throws IOException {
      ensureOpen();
      return position;
    }

    @Override
    public SeekableByteChannel position(long p) throws IOException {
      ensureOpen();
      position = p;
      return this;
    }

    @Override
    public long size() throws IOException {
      ensureOpen();
      return data.length;
    }

    @Override
    public SeekableByteChannel truncate(long size) {
      throw new NonWritableChannelException();
    }

    @Override
    public boolean isOpen() {
      return open;
    }

    @Override
    public void close() {
      closes++;
      open = false;
    }

    private void ensureOpen() throws IOException {
      if (!open) {
        throw new ClosedChannelException();
      }
    }
  }
}
