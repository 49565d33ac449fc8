package dev.byok;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/** A real {@link FileChannel} whose positional writes go through a test hook. */
final class ProbeChannel extends FileChannel {
  /** Replaces one positional write. */
  @FunctionalInterface
  interface WriteHook {
    int write(FileChannel real, ByteBuffer src, long position) throws IOException;
  }

  private final FileChannel real;
  private final WriteHook hook;

  ProbeChannel(FileChannel real, WriteHook hook) {
    this.real = real;
    this.hook = hook;
  }

  /** A hook that writes at most {@code max} bytes per call (a legal short write). */
  static WriteHook shortWrites(int max) {
    return (real, src, position) -> {
      ByteBuffer part = src.duplicate();
      part.limit(part.position() + Math.min(max, part.remaining()));
      int n = real.write(part, position);
      src.position(src.position() + n);
      return n;
    };
  }

  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    return hook.write(real, src, position);
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return real.read(dst);
  }

  @Override
  public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
    return real.read(dsts, offset, length);
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    throw new IOException("only positional writes are expected");
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    throw new IOException("only positional writes are expected");
  }

  @Override
  public long position() throws IOException {
    return real.position();
  }

  @Override
  public FileChannel position(long newPosition) throws IOException {
    real.position(newPosition);
    return this;
  }

  @Override
  public long size() throws IOException {
    return real.size();
  }

  @Override
  public FileChannel truncate(long size) throws IOException {
    real.truncate(size);
    return this;
  }

  @Override
  public void force(boolean metaData) throws IOException {
    real.force(metaData);
  }

  @Override
  public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
    return real.transferTo(position, count, target);
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
    throw new IOException("only positional writes are expected");
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    return real.read(dst, position);
  }

  @Override
  public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
    return real.map(mode, position, size);
  }

  @Override
  public FileLock lock(long position, long size, boolean shared) throws IOException {
    return real.lock(position, size, shared);
  }

  @Override
  public FileLock tryLock(long position, long size, boolean shared) throws IOException {
    return real.tryLock(position, size, shared);
  }

  @Override
  protected void implCloseChannel() throws IOException {
    real.close();
  }
}
