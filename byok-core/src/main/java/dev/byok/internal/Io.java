package dev.byok.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;

/** Small I/O helpers. */
public final class Io {
  /**
   * Reads that return no byte in a row before a source is taken as stuck (it breaks the read
   * contract).
   */
  static final int MAX_ZERO_READS = 1024;

  private Io() {}

  /**
   * Reads until {@code len} bytes are in {@code b} or the stream ends.
   *
   * @return bytes read; less than {@code len} only at end of stream
   * @throws IOException if reading fails, or the stream returns no byte {@value #MAX_ZERO_READS}
   *     times in a row (a non-blocking source would otherwise spin for ever)
   */
  public static int readUpTo(InputStream in, byte[] b, int off, int len) throws IOException {
    int n = 0;
    int zeros = 0;
    while (n < len) {
      int r = in.read(b, off + n, len - n);
      if (r < 0) {
        break;
      }
      if (r == 0 && ++zeros > MAX_ZERO_READS) {
        throw new IOException("source returned no bytes " + MAX_ZERO_READS + " times in a row");
      }
      if (r > 0) {
        zeros = 0;
      }
      n += r;
    }
    return n;
  }

  /**
   * Reads from {@code source} at {@code position} until {@code dst} is full or the source ends.
   *
   * @return whether {@code dst} was filled (false: the source ended first)
   * @throws IOException if reading fails, or the channel returns no byte more than {@value
   *     #MAX_ZERO_READS} times while filling {@code dst}
   */
  public static boolean readFully(SeekableByteChannel source, long position, ByteBuffer dst)
      throws IOException {
    int zeros = 0;
    long start = position - dst.position();
    while (dst.hasRemaining()) {
      source.position(start + dst.position());
      int r = source.read(dst);
      if (r < 0) {
        return false;
      }
      if (r == 0 && ++zeros > MAX_ZERO_READS) {
        throw new IOException(
            "source returned no bytes " + MAX_ZERO_READS + " times while filling one buffer");
      }
    }
    return true;
  }
}
