package dev.byok.jmh;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;

/**
 * An in-memory ciphertext store reused by one thread for every blob: a {@link
 * ByteArrayOutputStream} whose content can be read back without copying. Not thread-safe.
 */
final class BlobBuffer extends ByteArrayOutputStream {
  BlobBuffer(int capacity) {
    super(capacity);
  }

  /**
   * @return a stream over the bytes written since the last {@link #reset()}, sharing the array
   */
  ByteArrayInputStream reader() {
    return new ByteArrayInputStream(buf, 0, count);
  }
}
