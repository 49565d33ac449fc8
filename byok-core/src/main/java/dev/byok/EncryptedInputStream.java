package dev.byok;

import java.io.FilterInputStream;
import java.io.InputStream;

/**
 * An envelope produced by reading (pull-mode encryption) whose exact length is known before the
 * first byte is read: hand {@link #length()} to an upload API as its Content-Length. The source
 * must yield exactly the declared plaintext length; if it yields more or fewer bytes, reading fails
 * with an {@link java.io.IOException} rather than producing an envelope of another length.
 *
 * <p>Not thread-safe.
 */
public final class EncryptedInputStream extends FilterInputStream {
  private final long length;

  EncryptedInputStream(InputStream envelope, long length) {
    super(envelope);
    this.length = length;
  }

  /** {@return the exact number of bytes this stream yields} */
  public long length() {
    return length;
  }
}
