package dev.byok.cli;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;

/**
 * A {@link PrintStream} over a standard stream that remembers why a write failed. A plain
 * PrintStream (such as {@code System.out}) swallows the {@link IOException} of a full disk, a
 * closed descriptor or a broken pipe and keeps only a flag; this one keeps the first exception so
 * the CLI can say what went wrong ({@link Streams#check}). Unbuffered: every print reaches the
 * descriptor at once. Thread-safe as {@link PrintStream} is.
 */
@NullMarked
final class CheckedPrintStream extends PrintStream {
  private final Recorder recorder;
  private final @Nullable String unusable;

  private CheckedPrintStream(Recorder recorder, Charset charset, @Nullable String unusable) {
    super(recorder, false, charset);
    this.recorder = recorder;
    this.unusable = unusable;
  }

  /**
   * @param out the descriptor's stream
   * @param charset the encoding of text
   * @return a print stream that records the first write failure of {@code out}
   */
  static CheckedPrintStream of(OutputStream out, Charset charset) {
    return new CheckedPrintStream(new Recorder(out), charset, null);
  }

  /**
   * @param reason why the stream must not be written, e.g. "is closed (...)"
   * @param charset the encoding of text
   * @return a print stream whose every write fails with {@code reason}, writing nothing
   */
  static CheckedPrintStream unusable(String reason, Charset charset) {
    OutputStream refusing =
        new OutputStream() {
          @Override
          public void write(int b) throws IOException {
            throw new IOException(reason);
          }

          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            throw new IOException(reason);
          }
        };
    return new CheckedPrintStream(new Recorder(refusing), charset, reason);
  }

  /**
   * @return the first write or flush failure, or {@code null} if none
   */
  @Nullable IOException failure() {
    return recorder.failure();
  }

  /**
   * @return why this stream was refused from the start (closed by the caller), or {@code null}
   */
  @Nullable String unusable() {
    return unusable;
  }

  /** Passes bytes through and keeps the first {@link IOException}. */
  private static final class Recorder extends FilterOutputStream {
    private volatile @Nullable IOException failure;

    Recorder(OutputStream out) {
      super(out);
    }

    @Nullable IOException failure() {
      return failure;
    }

    private IOException record(IOException e) {
      if (failure == null) {
        failure = e;
      }
      return e;
    }

    @Override
    public void write(int b) throws IOException {
      try {
        out.write(b);
      } catch (IOException e) {
        throw record(e);
      }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      try {
        out.write(b, off, len);
      } catch (IOException e) {
        throw record(e);
      }
    }

    @Override
    public void flush() throws IOException {
      try {
        out.flush();
      } catch (IOException e) {
        throw record(e);
      }
    }
  }
}
