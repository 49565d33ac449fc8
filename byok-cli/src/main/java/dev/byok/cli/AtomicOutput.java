package dev.byok.cli;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.NullMarked;

/**
 * An output file that appears complete or not at all: bytes go to a temporary file beside the
 * target ({@code .<name>.<random>.byok-tmp}); {@link #commit()} forces it to disk and moves it over
 * the target atomically; {@link #close()} without a commit deletes it, and so does a shutdown hook
 * when the JVM is stopped (Ctrl-C, SIGTERM) mid-write. So a failed decrypt or an interruption never
 * leaves a truncated file under the target's name. Not thread-safe.
 */
@NullMarked
final class AtomicOutput implements AutoCloseable {
  /**
   * Temporary files not yet committed or deleted; a shutdown hook (Ctrl-C, SIGTERM) deletes them.
   */
  private static final Set<Path> PENDING = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(new Thread(AtomicOutput::deletePending, "byok-delete-partial-outputs"));
  }

  private final Path target;
  private final Path tmp;
  private final FileChannel channel;
  private final OutputStream stream;
  private boolean committed;

  private AtomicOutput(Path target, Path tmp, FileChannel channel) {
    this.target = target;
    this.tmp = tmp;
    this.channel = channel;
    // closing the caller's stream chain must not close the channel before commit() forces it
    this.stream =
        new BufferedOutputStream(Streams.nonClosing(Channels.newOutputStream(channel)), 1 << 16);
  }

  /**
   * @param target the final file
   * @param overwrite whether an existing target may be replaced
   * @return an open output
   * @throws FileAlreadyExistsException if the target exists and {@code overwrite} is false
   */
  static AtomicOutput create(Path target, boolean overwrite) throws IOException {
    Path abs = target.toAbsolutePath();
    if (!overwrite && Files.exists(abs)) {
      throw new FileAlreadyExistsException(target.toString());
    }
    Path dir = abs.getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", BlobPaths.TEMP_SUFFIX);
    PENDING.add(tmp);
    try {
      return new AtomicOutput(abs, tmp, FileChannel.open(tmp, StandardOpenOption.WRITE));
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      PENDING.remove(tmp);
      throw e;
    }
  }

  /**
   * @return where to write; closing it flushes but does not commit
   */
  OutputStream stream() {
    return stream;
  }

  /**
   * Forces the bytes to disk and moves them over the target, then forces the directory entry. If
   * any write, the flush, the fsync or the close fails, nothing is moved: the exception propagates
   * and {@link #close()} deletes the temporary file. Call once.
   *
   * @throws IOException if the output could not be completed; the target is then untouched
   */
  void commit() throws IOException {
    if (committed) {
      throw new IllegalStateException("already committed");
    }
    stream.flush();
    channel.force(true);
    channel.close();
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
    committed = true;
    PENDING.remove(tmp);
    forceDirectory(Objects.requireNonNull(target.getParent()));
  }

  /**
   * Makes the rename durable where the platform allows opening a directory (Linux, macOS); a
   * platform that does not (Windows) keeps its own guarantees.
   */
  private static void forceDirectory(Path dir) throws IOException {
    FileChannel d;
    try {
      d = FileChannel.open(dir, StandardOpenOption.READ);
    } catch (IOException | UnsupportedOperationException e) {
      return;
    }
    try (d) {
      d.force(true);
    }
  }

  /** Deletes the temporary file unless committed. Idempotent. */
  @Override
  public void close() throws IOException {
    if (!committed) {
      try {
        channel.close();
      } finally {
        Files.deleteIfExists(tmp); // even when closing failed; else the shutdown hook retries
        PENDING.remove(tmp);
      }
    }
  }

  private static void deletePending() {
    for (Path p : PENDING) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        // best effort at exit; a leftover is a hidden *.byok-tmp file, never the target
      }
    }
  }
}
