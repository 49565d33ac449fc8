package dev.byok;

import dev.byok.internal.AtomicFiles;
import dev.byok.internal.DecryptingChannel;
import dev.byok.internal.DecryptingInputStream;
import dev.byok.internal.Kdf;
import dev.byok.internal.NioEnvelopes;
import dev.byok.internal.ParallelDecryptingInputStream;
import dev.byok.internal.SegmentCipher;
import dev.byok.internal.SegmentDecrypter;
import dev.byok.internal.SegmentLayout;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * Decrypts envelopes: streams, random-access channels, byte ranges and files. For each envelope it
 * parses the header (bounded), checks the encryption context when the caller requires one, asks the
 * {@link DataKeyResolver} for the data key, and checks the key commitment, all before the first
 * payload byte is processed. Decryption releases only bytes of segments that have authenticated;
 * any tampering, truncation, extension, reordering, wrong key or wrong context is an {@link
 * InvalidCiphertextException}.
 *
 * <p>Immutable and thread-safe; the streams and channels it makes are not.
 */
public final class EnvelopeDecryptor {
  private final DataKeyResolver resolver;

  private EnvelopeDecryptor(DataKeyResolver resolver) {
    this.resolver = resolver;
  }

  /**
   * Creates a decryptor.
   *
   * @param resolver finds the data key of each envelope
   * @return the decryptor
   */
  public static EnvelopeDecryptor create(DataKeyResolver resolver) {
    return new EnvelopeDecryptor(Objects.requireNonNull(resolver, "resolver"));
  }

  private static final byte[] NO_ASSOCIATED_DATA = new byte[0];

  private SegmentDecrypter open(
      EnvelopeHeader header, @Nullable EncryptionContext expected, byte[] associatedData) {
    Objects.requireNonNull(associatedData, "associatedData");
    if (expected != null) {
      header.requireContext(expected);
    }
    byte[] dek = null;
    DataKey key = null;
    for (int attempt = 0; dek == null; attempt++) {
      key = resolver.resolve(header);
      if (key == null) {
        throw new IllegalStateException(
            "DataKeyResolver returned null for dek " + header.dekIdHex());
      }
      try {
        dek = key.copyKeyMaterial();
        if (key.singleUse()) {
          key.destroy(); // nobody caches it: this was its one use
        }
      } catch (IllegalStateException destroyed) {
        if (attempt > 0) {
          throw destroyed;
        } // purged or evicted between resolve and use: resolve once more
      }
    }
    if (key == null) {
      throw new IllegalStateException("no data key resolved"); // unreachable: the loop sets both
    }
    try {
      if (key.verifiedFor(header.immutableBytes())) {
        // this key's commitment was checked against these very header bytes before
      } else if (Kdf.equal(header.commitmentFor(dek), header.keyCommitment())) {
        key.markVerified(header.immutableBytes());
      } else {
        throw new InvalidCiphertextException(
            InvalidCiphertextException.Reason.KEY_COMMITMENT_MISMATCH,
            "the data key does not match the header's key commitment (wrong key, or the header was"
                + " modified) for dek "
                + header.dekIdHex());
      }
      byte[] derived =
          Kdf.hkdfSha256(dek, header.salt(), header.payloadAssociatedData(associatedData), 32);
      try {
        return new SegmentDecrypter(new SegmentCipher(derived, header.noncePrefix()));
      } finally {
        Arrays.fill(derived, (byte) 0);
      }
    } finally {
      Arrays.fill(dek, (byte) 0);
    }
  }

  /**
   * Decrypts a stream. Reads and verifies the header and resolves the key before returning. Closing
   * the returned stream closes {@code source}.
   *
   * @param source the envelope
   * @return the plaintext; every byte it returns has been authenticated
   * @throws InvalidCiphertextException if the header is bad or the key does not match
   * @throws IOException if reading fails
   */
  public InputStream newDecryptingStream(InputStream source) throws IOException {
    return newDecryptingStream(source, null);
  }

  /**
   * Decrypts a stream whose encryption context must be exactly {@code expected}.
   *
   * @param source the envelope
   * @param expected the required context, or {@code null} for any
   * @return the plaintext; every byte it returns has been authenticated
   * @throws InvalidCiphertextException with {@code CONTEXT_MISMATCH} if the context differs
   * @throws IOException if reading fails
   */
  public InputStream newDecryptingStream(InputStream source, @Nullable EncryptionContext expected)
      throws IOException {
    return newDecryptingStream(source, expected, NO_ASSOCIATED_DATA);
  }

  /**
   * Decrypts a stream written with per-blob associated data (see {@link
   * EnvelopeEncryptor#newEncryptingStream(OutputStream, byte[])}). The associated data is not
   * stored in the blob: pass exactly the bytes it was written with (empty for a blob written
   * without). Other bytes fail as {@code AUTHENTICATION_FAILED} at the first segment, before any
   * plaintext is released.
   *
   * @param source the envelope
   * @param expected the required context, or {@code null} for any
   * @param associatedData the blob's associated data; may be empty
   * @return the plaintext; every byte it returns has been authenticated; its methods report a bad
   *     blob as {@link InvalidCiphertextIOException}
   * @throws InvalidCiphertextException if the header is bad, the context differs or the key does
   *     not match
   * @throws IOException if reading fails
   */
  public InputStream newDecryptingStream(
      InputStream source, @Nullable EncryptionContext expected, byte[] associatedData)
      throws IOException {
    Objects.requireNonNull(source, "source");
    EnvelopeHeader header = EnvelopeHeader.read(source);
    return afterHeader(header, source, expected, associatedData);
  }

  /**
   * Decrypts a stream with read-ahead over {@code executor}: the thread calling {@code read} reads
   * up to {@code parallelism} ciphertext segments ahead, tasks on {@code executor} authenticate and
   * decrypt them, and plaintext is handed out in order, each segment's only once it has
   * authenticated. Otherwise as {@link #newDecryptingStream(InputStream, EncryptionContext)}: the
   * same framing, truncation, trailing-data and tampering rules and the same {@link
   * InvalidCiphertextIOException} reasons, raised at the same point of the plaintext (a bad segment
   * {@code i} fails the read that would return its first byte, after segments {@code 0..i-1} were
   * returned). Memory: about two segment buffers per segment read ahead, O(parallelism &times;
   * segment size).
   *
   * <p>The executor runs only byok's decryption code, never a callback of yours or a read of {@code
   * source}; the header is read and the key resolved on the calling thread before this returns. A
   * rejected task fails the read with an {@link IOException}, an interrupt while {@code read} waits
   * with {@link java.io.InterruptedIOException} (interrupt status kept); every failure is sticky.
   * Closing abandons the tasks in flight (they wipe their buffers when they end).
   *
   * @param source the envelope
   * @param expected the required context, or {@code null} for any
   * @param executor runs the decryption tasks, for example a fixed pool shared by the application
   * @param parallelism most segments read ahead, {@code >= 1} (1: the sequential stream)
   * @return the plaintext; not thread-safe; every byte it returns has been authenticated
   * @throws InvalidCiphertextException if the header is bad, the context differs or the key does
   *     not match
   * @throws IOException if reading the header fails
   * @throws IllegalArgumentException if {@code parallelism < 1}
   */
  public InputStream newDecryptingStream(
      InputStream source, @Nullable EncryptionContext expected, Executor executor, int parallelism)
      throws IOException {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(executor, "executor");
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be >= 1, was " + parallelism);
    }
    EnvelopeHeader header = EnvelopeHeader.read(source);
    if (parallelism == 1) {
      return afterHeader(header, source, expected, NO_ASSOCIATED_DATA);
    }
    SegmentDecrypter d = open(header, expected, NO_ASSOCIATED_DATA);
    return new ParallelDecryptingInputStream(
        source, d, new SegmentLayout(header.segmentSize()), executor, parallelism);
  }

  /**
   * Decrypts the segments of a blob whose header was already read from {@code rest} (rewrap reads
   * the header, rewraps it and then authenticates the very bytes it copies, from one open source).
   */
  InputStream afterHeader(
      EnvelopeHeader header,
      InputStream rest,
      @Nullable EncryptionContext expected,
      byte[] associatedData) {
    SegmentDecrypter d = open(header, expected, associatedData);
    return DecryptingInputStream.whole(rest, d, new SegmentLayout(header.segmentSize()));
  }

  /**
   * Random-access decryption over a seekable source (a file, or a channel over ranged reads). Reads
   * touch only the segments that cover them; {@code size()} is the plaintext size, verified by
   * authenticating the final segment. Closing the channel closes {@code source}.
   *
   * @param source the envelope; its position is managed by the returned channel
   * @param expected the required context, or {@code null} for any
   * @return a read-only channel over the plaintext
   * @throws InvalidCiphertextException if the header is bad, the key does not match, or the source
   *     length is impossible
   * @throws IOException if reading fails
   */
  public SeekableByteChannel newDecryptingChannel(
      SeekableByteChannel source, @Nullable EncryptionContext expected) throws IOException {
    return newDecryptingChannel(source, expected, NO_ASSOCIATED_DATA);
  }

  /**
   * Random-access decryption of a blob written with per-blob associated data; see {@link
   * #newDecryptingChannel(SeekableByteChannel, EncryptionContext)} and {@link
   * #newDecryptingStream(InputStream, EncryptionContext, byte[])}.
   *
   * @param source the envelope; its position is managed by the returned channel
   * @param expected the required context, or {@code null} for any
   * @param associatedData the blob's associated data; may be empty
   * @return a read-only channel over the plaintext; its methods report a bad blob as {@link
   *     InvalidCiphertextIOException}
   * @throws InvalidCiphertextException if the header is bad, the context differs, the key does not
   *     match, or the source length is impossible
   * @throws IOException if reading fails
   */
  public SeekableByteChannel newDecryptingChannel(
      SeekableByteChannel source, @Nullable EncryptionContext expected, byte[] associatedData)
      throws IOException {
    Objects.requireNonNull(source, "source");
    source.position(0);
    EnvelopeHeader header = EnvelopeHeader.read(Channels.newInputStream(source));
    SegmentDecrypter d = open(header, expected, associatedData);
    return new DecryptingChannel(
        source, d, new SegmentLayout(header.segmentSize()), header.payloadOffset());
  }

  /**
   * Random-access decryption with read-ahead for a reader that moves forward: after each segment it
   * needs, the channel reads the next {@code parallelism} segments' ciphertext from {@code source}
   * (on the calling thread) and decrypts them on {@code executor}, so sequential reads are served
   * from segments that authenticated while the caller was busy. A read elsewhere drops the
   * read-ahead (at most {@code parallelism} segments are waited for and wiped). Everything else is
   * as {@link #newDecryptingChannel(SeekableByteChannel, EncryptionContext)}: only authenticated
   * bytes are returned, a segment that fails read-ahead is decrypted again on the calling thread
   * for the same typed error, and every failure is sticky. Memory: O(parallelism × segment).
   *
   * <p>The executor runs only byok's decryption code, never a callback of yours or a read of {@code
   * source}. A rejected task fails the read with an {@link IOException}; an interrupt while a read
   * waits, with {@link java.io.InterruptedIOException} (interrupt status kept). Closing abandons
   * the tasks in flight (they wipe their buffers when they end).
   *
   * @param source the envelope; its position is managed by the returned channel
   * @param expected the required context, or {@code null} for any
   * @param executor runs the decryption tasks, for example a fixed pool shared by the application
   * @param parallelism most segments decrypted ahead, {@code >= 1} (1: no read-ahead)
   * @return a read-only channel over the plaintext; not thread-safe
   * @throws InvalidCiphertextException if the header is bad, the context differs, the key does not
   *     match, or the source length is impossible
   * @throws IOException if reading fails
   * @throws IllegalArgumentException if {@code parallelism < 1}
   */
  public SeekableByteChannel newDecryptingChannel(
      SeekableByteChannel source,
      @Nullable EncryptionContext expected,
      Executor executor,
      int parallelism)
      throws IOException {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(executor, "executor");
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be >= 1, was " + parallelism);
    }
    source.position(0);
    EnvelopeHeader header = EnvelopeHeader.read(Channels.newInputStream(source));
    SegmentDecrypter d = open(header, expected, NO_ASSOCIATED_DATA);
    return new DecryptingChannel(
        source,
        d,
        new SegmentLayout(header.segmentSize()),
        header.payloadOffset(),
        executor,
        parallelism);
  }

  /**
   * Random-access decryption with any encryption context; see {@link
   * #newDecryptingChannel(SeekableByteChannel, EncryptionContext)}.
   *
   * @param source the envelope
   * @return a read-only channel over the plaintext
   * @throws IOException if reading fails
   */
  public SeekableByteChannel newDecryptingChannel(SeekableByteChannel source) throws IOException {
    return newDecryptingChannel(source, null);
  }

  /**
   * Decrypts the bytes a {@link RangePlan} named, as fetched by a ranged read, and yields exactly
   * the plan's plaintext range. The header must be the blob's own (read once with {@link
   * EnvelopeHeader#read}).
   *
   * @param header the blob's header
   * @param plan from {@link EnvelopeHeader#planRange}
   * @param fetched exactly the plan's {@code ciphertextLength()} bytes from its {@code
   *     ciphertextOffset()}; closed when the returned stream is closed
   * @param expected the required context, or {@code null} for any
   * @return the plaintext range; every byte it returns has been authenticated
   * @throws InvalidCiphertextException if the key does not match or the fetched bytes are bad
   */
  public InputStream decryptRange(
      EnvelopeHeader header,
      RangePlan plan,
      InputStream fetched,
      @Nullable EncryptionContext expected) {
    return decryptRange(header, plan, fetched, expected, NO_ASSOCIATED_DATA);
  }

  /**
   * {@link #decryptRange(EnvelopeHeader, RangePlan, InputStream, EncryptionContext)} for a blob
   * written with per-blob associated data.
   *
   * @param header the blob's header
   * @param plan from {@link EnvelopeHeader#planRange}
   * @param fetched exactly the plan's bytes; closed when the returned stream is closed
   * @param expected the required context, or {@code null} for any
   * @param associatedData the blob's associated data; may be empty
   * @return the plaintext range; its methods report a bad blob as {@link
   *     InvalidCiphertextIOException}
   * @throws InvalidCiphertextException if the context differs or the key does not match
   */
  public InputStream decryptRange(
      EnvelopeHeader header,
      RangePlan plan,
      InputStream fetched,
      @Nullable EncryptionContext expected,
      byte[] associatedData) {
    Objects.requireNonNull(plan, "plan");
    Objects.requireNonNull(fetched, "fetched");
    SegmentDecrypter d = open(header, expected, associatedData);
    SegmentLayout layout = new SegmentLayout(header.segmentSize());
    long skip = plan.plaintextOffset() - layout.plaintextOffset(plan.firstSegment());
    return DecryptingInputStream.range(
        fetched,
        d,
        layout,
        plan.firstSegment(),
        plan.lastSegment(),
        plan.segmentCount() - 1,
        plan.finalSegmentLength(),
        plan.plaintextLength() == 0 ? 0 : skip,
        plan.plaintextLength());
  }

  /**
   * Decrypts a file. The target appears only once every segment has authenticated: plaintext goes
   * to a temporary file beside it, forced to disk, then moved over {@code target} atomically.
   *
   * @param source envelope file
   * @param target plaintext file; replaced if it exists
   * @param expected the required context, or {@code null} for any
   * @throws InvalidCiphertextException if the envelope is bad; {@code target} is then untouched
   * @throws IOException if reading or writing fails; {@code target} is then untouched
   */
  public void decryptFile(Path source, Path target, @Nullable EncryptionContext expected)
      throws IOException {
    decryptFile(source, target, expected, NO_ASSOCIATED_DATA);
  }

  /**
   * Decrypts a file written with per-blob associated data; see {@link #decryptFile(Path, Path,
   * EncryptionContext)}.
   *
   * @param source envelope file
   * @param target plaintext file; replaced if it exists
   * @param expected the required context, or {@code null} for any
   * @param associatedData the blob's associated data; may be empty
   * @throws InvalidCiphertextException if the envelope is bad; {@code target} is then untouched
   * @throws IOException if reading or writing fails; {@code target} is then untouched
   */
  public void decryptFile(
      Path source, Path target, @Nullable EncryptionContext expected, byte[] associatedData)
      throws IOException {
    Objects.requireNonNull(associatedData, "associatedData");
    AtomicFiles.write(
        target,
        out -> {
          try (InputStream in =
              newDecryptingStream(
                  Files.newInputStream(source, StandardOpenOption.READ),
                  expected,
                  associatedData)) {
            copy(in, out);
          } catch (InvalidCiphertextIOException e) {
            throw e.getCause(); // a whole-file operation reports the rejection itself
          }
        });
  }

  /**
   * Decrypts a file with any encryption context; see {@link #decryptFile(Path, Path,
   * EncryptionContext)}.
   *
   * @param source envelope file
   * @param target plaintext file
   * @throws IOException if reading or writing fails
   */
  public void decryptFile(Path source, Path target) throws IOException {
    decryptFile(source, target, null);
  }

  private static void copy(InputStream in, OutputStream out) throws IOException {
    byte[] buf = new byte[256 * 1024];
    int n;
    while ((n = in.read(buf)) >= 0) {
      out.write(buf, 0, n);
    }
  }

  // ---- NIO: ByteBuffer and FileChannel ----

  /**
   * Decrypts a whole envelope held in the remaining bytes of {@code envelope} (heap or direct)
   * straight into {@code dst}, with no intermediate copy between heap buffers (a direct buffer is
   * moved through a segment-sized heap array; one holding plaintext is zeroed when the call ends).
   * Every segment is authenticated; if one fails, every byte already written to {@code dst} is
   * zeroed before the typed error is thrown, so no unauthenticated or partial plaintext is left. On
   * success {@code envelope}'s position moves to its limit and {@code dst}'s past the plaintext; on
   * failure neither moves. One-shot: there is no stream state to poison. Thread-safe (on distinct
   * buffers).
   *
   * @param envelope the envelope, exactly; not modified
   * @param dst receives the plaintext at its position; must not overlap {@code envelope}
   * @param expected the required context, or {@code null} for any
   * @return plaintext bytes written
   * @throws InvalidCiphertextException if the header is bad, the key does not match, the length is
   *     impossible, or a segment does not authenticate
   * @throws IllegalArgumentException if {@code dst} has too little room (checked before any key is
   *     resolved; nothing is written)
   */
  public int decrypt(ByteBuffer envelope, ByteBuffer dst, @Nullable EncryptionContext expected) {
    Objects.requireNonNull(envelope, "envelope");
    Objects.requireNonNull(dst, "dst");
    EnvelopeHeader header;
    try {
      header = EnvelopeHeader.read(NioEnvelopes.inputStream(envelope));
    } catch (IOException e) {
      throw new UncheckedIOException(e); // unreachable: a buffer's stream does not fail
    }
    int plaintext = checkRoom(header.plaintextLength(envelope.remaining()), dst);
    SegmentDecrypter d = open(header, expected, NO_ASSOCIATED_DATA);
    try {
      return NioEnvelopes.decrypt(
          d,
          new SegmentLayout(header.segmentSize()),
          envelope,
          header.payloadOffset(),
          plaintext,
          dst);
    } finally {
      d.close();
    }
  }

  /**
   * Decrypts a whole envelope file straight into {@code dst} (heap or direct) by positional reads
   * (the channel's own position is neither used nor changed), through one segment-sized buffer for
   * the ciphertext. Every segment is authenticated; if one fails or a read fails, every byte
   * already written to {@code dst} is zeroed before the error is thrown. On success {@code dst}'s
   * position moves past the plaintext; on failure it does not move. One-shot; thread-safe (on
   * distinct buffers).
   *
   * @param source the envelope file, from offset 0 to its size; open for reading
   * @param dst receives the plaintext at its position
   * @param expected the required context, or {@code null} for any
   * @return plaintext bytes written
   * @throws InvalidCiphertextException if the header is bad, the key does not match, the length is
   *     impossible, or a segment does not authenticate
   * @throws IllegalArgumentException if {@code dst} has too little room (checked before any key is
   *     resolved; nothing is written)
   * @throws IOException if reading fails
   */
  public int decrypt(FileChannel source, ByteBuffer dst, @Nullable EncryptionContext expected)
      throws IOException {
    return decryptChannel(source, dst, expected, null, 1);
  }

  /**
   * Like {@link #decrypt(FileChannel, ByteBuffer, EncryptionContext)}, with the segments read and
   * decrypted by tasks on {@code executor}, at most {@code parallelism} at once (memory per task:
   * one direct segment buffer for the ciphertext, a heap copy of it, and a heap plaintext array
   * when {@code dst} is direct, zeroed at the end), each into its own place in {@code dst}. The key
   * is resolved on the calling thread first: the executor runs only byok's read and cipher code,
   * never a callback of yours. If a segment fails, a read fails, the executor rejects a task or the
   * calling thread is interrupted ({@link java.io.InterruptedIOException}, interrupt status kept),
   * no further segment starts, the call waits for those in flight, zeroes the whole plaintext range
   * of {@code dst}, and throws; no task outlives the call.
   *
   * @param source the envelope file, from offset 0 to its size; open for reading
   * @param dst receives the plaintext at its position
   * @param expected the required context, or {@code null} for any
   * @param executor runs the segment tasks
   * @param parallelism most segments in flight, {@code >= 1}
   * @return plaintext bytes written
   * @throws InvalidCiphertextException if the header is bad, the key does not match, the length is
   *     impossible, or a segment does not authenticate
   * @throws IOException if reading fails or the executor rejects a task
   */
  public int decrypt(
      FileChannel source,
      ByteBuffer dst,
      @Nullable EncryptionContext expected,
      Executor executor,
      int parallelism)
      throws IOException {
    Objects.requireNonNull(executor, "executor");
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be >= 1, was " + parallelism);
    }
    return decryptChannel(source, dst, expected, executor, parallelism);
  }

  private int decryptChannel(
      FileChannel source,
      ByteBuffer dst,
      @Nullable EncryptionContext expected,
      @Nullable Executor executor,
      int parallelism)
      throws IOException {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(dst, "dst");
    EnvelopeHeader header = EnvelopeHeader.read(NioEnvelopes.inputStream(source));
    int plaintext = checkRoom(header.plaintextLength(source.size()), dst);
    SegmentDecrypter d = open(header, expected, NO_ASSOCIATED_DATA);
    try {
      return NioEnvelopes.decrypt(
          d,
          new SegmentLayout(header.segmentSize()),
          source,
          header.payloadOffset(),
          plaintext,
          dst,
          executor,
          parallelism);
    } finally {
      d.close();
    }
  }

  private static int checkRoom(long plaintext, ByteBuffer dst) {
    if (dst.isReadOnly() || plaintext > dst.remaining()) {
      throw new IllegalArgumentException(
          "dst has "
              + dst.remaining()
              + " bytes remaining"
              + (dst.isReadOnly() ? " and is read-only" : "")
              + "; the plaintext is "
              + plaintext);
    }
    return (int) plaintext;
  }

  @Override
  public String toString() {
    return "EnvelopeDecryptor[" + resolver.getClass().getName() + "]";
  }
}
