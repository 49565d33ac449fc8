package dev.byok.jmh;

import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;

/** A read-only {@link SeekableByteChannel} over a byte array. Not thread-safe. */
final class ByteArrayChannel implements SeekableByteChannel {
  private final byte[] data;
  private int position;
  private boolean open = true;

  ByteArrayChannel(byte[] data) {
    this.data = data;
  }

  @Override
  public int read(ByteBuffer dst) throws ClosedChannelException {
    ensureOpen();
    if (position >= data.length) {
      return -1;
    }
    int n = Math.min(dst.remaining(), data.length - position);
    dst.put(data, position, n);
    position += n;
    return n;
  }

  @Override
  public long position() throws ClosedChannelException {
    ensureOpen();
    return position;
  }

  @Override
  public SeekableByteChannel position(long newPosition) throws ClosedChannelException {
    ensureOpen();
    if (newPosition < 0) {
      throw new IllegalArgumentException("position must be >= 0, was " + newPosition);
    }
    position = (int) Math.min(newPosition, data.length);
    return this;
  }

  @Override
  public long size() throws ClosedChannelException {
    ensureOpen();
    return data.length;
  }

  @Override
  public int write(ByteBuffer src) {
    throw new NonWritableChannelException();
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
    open = false;
  }

  private void ensureOpen() throws ClosedChannelException {
    if (!open) {
      throw new ClosedChannelException();
    }
  }
}
