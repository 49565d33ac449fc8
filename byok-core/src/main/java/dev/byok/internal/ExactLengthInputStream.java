package dev.byok.internal;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** Yields exactly {@code length} bytes of its source, or fails: never fewer, never more. */
public final class ExactLengthInputStream extends FilterInputStream {
  private long remaining;
  private final long length;

  public ExactLengthInputStream(InputStream in, long length) {
    super(in);
    this.length = length;
    this.remaining = length;
  }

  @Override
  public int read() throws IOException {
    byte[] b = new byte[1];
    int n = read(b, 0, 1);
    return n < 0 ? -1 : b[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    if (remaining == 0) {
      if (in.read() >= 0) {
        throw new IOException("source has more than the declared " + length + " bytes");
      }
      return -1;
    }
    int n = in.read(b, off, (int) Math.min(len, remaining));
    if (n < 0) {
      throw new IOException(
          "source ended after " + (length - remaining) + " of the declared " + length + " bytes");
    }
    remaining -= n;
    return n;
  }

  @Override
  public long skip(long n) {
    throw new UnsupportedOperationException("skip");
  }
}
