package dev.byok;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Plaintext-side wrappers for blobs of unknown length: they report the bytes as they go to the
 * blob's {@link ActiveDataKey.Admission}, so the data key's byte budget is reserved while the blob
 * is written (sealing the key as soon as it is spent), not only once the blob completes.
 */
final class Metered {
  private Metered() {}

  /** Counts plaintext written into an encrypting stream. */
  static final class Output extends FilterOutputStream {
    private final ActiveDataKey.Admission admission;
    private long total;

    Output(OutputStream encrypting, ActiveDataKey.Admission admission) {
      super(encrypting);
      this.admission = admission;
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      admission.wrote(++total);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      total += len;
      admission.wrote(total);
    }

    @Override
    public void flush() throws IOException {
      out.flush();
    }

    /** Closes the encrypting stream exactly as if it were not wrapped (no extra flush first). */
    @Override
    public void close() throws IOException {
      out.close();
    }
  }

  /** Counts plaintext read from the source of an encrypting input stream. */
  static final class Input extends FilterInputStream {
    private final ActiveDataKey.Admission admission;
    private long total;

    Input(InputStream plaintext, ActiveDataKey.Admission admission) {
      super(plaintext);
      this.admission = admission;
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        admission.wrote(++total);
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, len);
      if (n > 0) {
        total += n;
        admission.wrote(total);
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long skipped = in.skip(n);
      if (skipped > 0) {
        total += skipped;
        admission.wrote(total);
      }
      return skipped;
    }
  }
}
