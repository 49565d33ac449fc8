package dev.byok.internal;

import java.io.IOException;
import java.io.InputStream;

/** Small I/O helpers. */
public final class Io {
  private Io() {}

  /**
   * Reads until {@code len} bytes are in {@code b} or the stream ends.
   *
   * @return bytes read; less than {@code len} only at end of stream
   */
  public static int readUpTo(InputStream in, byte[] b, int off, int len) throws IOException {
    int n = 0;
    while (n < len) {
      int r = in.read(b, off + n, len - n);
      if (r < 0) {
        break;
      }
      n += r;
    }
    return n;
  }
}
