package dev.byok;

import dev.byok.internal.AtomicFiles;
import dev.byok.internal.EncryptingInputStream;
import dev.byok.internal.EncryptingOutputStream;
import dev.byok.internal.Kdf;
import dev.byok.internal.NioEnvelopes;
import dev.byok.internal.ParallelEncryptingInputStream;
import dev.byok.internal.ParallelEncryptingOutputStream;
import dev.byok.internal.SegmentCipher;
import dev.byok.internal.SegmentLayout;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.LongConsumer;
import org.jspecify.annotations.Nullable;

/**
 * Encrypts blobs into envelopes under one data key, one encryption context and one set of key
 * slots. Each blob gets a fresh random HKDF salt and nonce prefix, so one data key safely encrypts
 * very many blobs.
 *
 * <pre>{@code
 * EnvelopeEncryptor enc = EnvelopeEncryptor.builder()
 *     .dataKey(dataKey)
 *     .keySlot(KeySlot.of("aws-kms", keyArn, wrappedKey))
 *     .encryptionContext(EncryptionContext.of("repository", "snapshots"))
 *     .build();
 * try (OutputStream out = enc.newEncryptingStream(Files.newOutputStream(path))) {
 *   out.write(data);
 * }
 * }</pre>
 *
 * <p>Immutable and thread-safe; the streams it makes are not. It does not own the data key: if the
 * key is destroyed, later calls fail with {@link IllegalStateException}.
 */
public final class EnvelopeEncryptor {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final byte[] NO_ASSOCIATED_DATA = new byte[0];

  private final DataKey dataKey;
  private final EnvelopeHeader header;
  private final byte[] fixedHeader;
  private final SegmentLayout layout;

  private EnvelopeEncryptor(Builder b) {
    this.dataKey = Objects.requireNonNull(b.dataKey, "dataKey");
    this.layout = new SegmentLayout(b.segmentSize);
    this.header = EnvelopeHeader.create(b.segmentSize, dataKey, b.context, b.slots);
    this.fixedHeader = header.toByteArray();
  }

  /** {@return a new builder} */
  public static Builder builder() {
    return new Builder();
  }

  /** {@return the header every blob starts with, less its per-blob payload header} */
  public EnvelopeHeader header() {
    return header;
  }

  /** {@return the encryption context bound to every blob} */
  public EncryptionContext encryptionContext() {
    return header.encryptionContext();
  }

  /** {@return the ciphertext segment size in bytes} */
  public int segmentSize() {
    return layout.segmentSize();
  }

  /**
   * The exact envelope length for a plaintext length: use it as an upload's Content-Length.
   *
   * @param plaintextLength bytes of plaintext, {@code >= 0}
   * @return envelope bytes
   * @throws IllegalArgumentException if negative or too long for one blob (more than {@link
   *     BlobTooLargeException#maxPlaintextLength()} bytes)
   */
  public long ciphertextLength(long plaintextLength) {
    return Math.addExact(fixedHeader.length, layout.payloadLength(plaintextLength));
  }

  /**
   * The inverse of {@link #ciphertextLength}.
   *
   * @param ciphertextLength envelope bytes
   * @return the plaintext length
   * @throws IllegalArgumentException if no plaintext encrypts to exactly that length
   */
  public long plaintextLength(long ciphertextLength) {
    long p = layout.plaintextLengthOrMinusOne(ciphertextLength - fixedHeader.length);
    if (p < 0) {
      throw new IllegalArgumentException(
          "no plaintext encrypts to " + ciphertextLength + " bytes here");
    }
    return p;
  }

  private final class Blob {
    final SegmentCipher cipher;
    final byte[] headerBytes;

    Blob(byte[] associatedData) {
      this(
          associatedData,
          randomBytes(SegmentLayout.SALT_LENGTH),
          randomBytes(SegmentLayout.NONCE_PREFIX_LENGTH));
    }

    /** Test seam: a blob with a fixed salt and nonce prefix (never in production code). */
    Blob(byte[] associatedData, byte[] salt, byte[] prefix) {
      if (salt.length != SegmentLayout.SALT_LENGTH
          || prefix.length != SegmentLayout.NONCE_PREFIX_LENGTH) {
        throw new IllegalArgumentException("bad salt or nonce prefix length");
      }
      byte[] dek = dataKey.copyKeyMaterial();
      byte[] derived = null;
      try {
        derived = Kdf.hkdfSha256(dek, salt, header.payloadAssociatedData(associatedData), 32);
        cipher = new SegmentCipher(derived, prefix);
      } finally {
        // key copies are wiped however the derivation or the cipher's construction ends
        Arrays.fill(dek, (byte) 0);
        if (derived != null) {
          Arrays.fill(derived, (byte) 0);
        }
      }
      headerBytes =
          Arrays.copyOf(fixedHeader, fixedHeader.length + SegmentLayout.PAYLOAD_HEADER_LENGTH);
      int at = fixedHeader.length;
      headerBytes[at] = (byte) SegmentLayout.PAYLOAD_HEADER_LENGTH;
      System.arraycopy(salt, 0, headerBytes, at + 1, salt.length);
      System.arraycopy(prefix, 0, headerBytes, at + 1 + salt.length, prefix.length);
    }
  }

  /**
   * Push mode: what is written to the returned stream is encrypted to {@code sink}. The header is
   * written at once; each segment as soon as the next plaintext byte arrives; the final segment on
   * {@code close()}, which also closes {@code sink}. {@code close()} is idempotent. After a failed
   * write or flush the stream refuses further writes and flushes and {@code close()} does not write
   * a final segment, so a failure never leaves output that authenticates as complete. A blob holds
   * at most about 1 TiB of plaintext (the AES-GCM limit of one blob key, see docs/format.md section
   * 3); a write past it fails with {@link BlobTooLargeException} before anything past the cap is
   * written.
   *
   * <p>Closing also marks the end of the plaintext: if your own source failed half-way, do not
   * close normally and treat the output as complete.
   *
   * @param sink receives the envelope
   * @return the plaintext side; not thread-safe
   * @throws IOException if writing the header fails
   */
  public OutputStream newEncryptingStream(OutputStream sink) throws IOException {
    return newEncryptingStream(sink, NO_ASSOCIATED_DATA, n -> {});
  }

  /**
   * Push mode with per-blob associated data (for example a repository and an object name): it is
   * authenticated with the payload but not stored in the blob, not sent to any KMS and not part of
   * the encryption context, so blobs with different associated data share one data key. The reader
   * must pass the same bytes to {@link EnvelopeDecryptor#newDecryptingStream(InputStream,
   * EncryptionContext, byte[])}; any other bytes fail as {@code AUTHENTICATION_FAILED} before any
   * plaintext is released. See {@code docs/format.md}, "Per-blob associated data".
   *
   * @param sink receives the envelope
   * @param associatedData bound to this blob; copied; may be empty (the same as none)
   * @return the plaintext side; not thread-safe
   * @throws IOException if writing the header fails
   */
  public OutputStream newEncryptingStream(OutputStream sink, byte[] associatedData)
      throws IOException {
    return newEncryptingStream(sink, associatedData, n -> {});
  }

  OutputStream newEncryptingStream(
      OutputStream sink, byte[] associatedData, LongConsumer onComplete) throws IOException {
    Objects.requireNonNull(sink, "sink");
    Objects.requireNonNull(associatedData, "associatedData");
    Blob blob = new Blob(associatedData);
    return new EncryptingOutputStream(sink, blob.cipher, layout, blob.headerBytes, onComplete);
  }

  /**
   * Push mode with the segments of this one blob sealed in parallel on {@code executor}; otherwise
   * as {@link #newEncryptingStream(OutputStream)}. Each full segment is copied into one of at most
   * {@code parallelism} segment slots (so the caller may reuse its array once {@code write}
   * returns), sealed by a task, and written to {@code sink} in order by the thread calling {@code
   * write}, {@code flush} or {@code close}, never by a pool thread, so a failing sink surfaces in
   * those calls. When {@code parallelism} segments are in flight, {@code write} waits for the
   * oldest. {@code flush()} writes every segment handed to the pool (waiting for those in flight)
   * before it flushes {@code sink}; the segment being filled stays buffered. The final segment is
   * sealed by {@code close()}. The output is byte for byte what the sequential stream writes for
   * the same salt and nonce prefix. Memory: about two segment buffers per slot, O(parallelism
   * &times; segment size).
   *
   * <p>The executor runs only byok's sealing code, never a callback of yours or a write to {@code
   * sink}. A failed write or flush, a failed task, a rejected task ({@link IOException}) or an
   * interrupt while {@code write}, {@code flush} or {@code close} waits ({@link
   * java.io.InterruptedIOException}, interrupt status kept) poisons the stream: later writes and
   * flushes throw, and {@code close()} writes no final segment, closes {@code sink} and abandons
   * the tasks in flight (they wipe their slot when they end).
   *
   * @param sink receives the envelope
   * @param executor runs the sealing tasks, for example a fixed pool shared by the application
   * @param parallelism most segments in flight, {@code >= 1} (1: the sequential stream)
   * @return the plaintext side; not thread-safe
   * @throws IOException if writing the header fails
   * @throws IllegalArgumentException if {@code parallelism < 1}
   */
  public OutputStream newEncryptingStream(OutputStream sink, Executor executor, int parallelism)
      throws IOException {
    return newEncryptingStream(sink, NO_ASSOCIATED_DATA, n -> {}, executor, parallelism);
  }

  OutputStream newEncryptingStream(
      OutputStream sink,
      byte[] associatedData,
      LongConsumer onComplete,
      Executor executor,
      int parallelism)
      throws IOException {
    Objects.requireNonNull(sink, "sink");
    Objects.requireNonNull(associatedData, "associatedData");
    Objects.requireNonNull(executor, "executor");
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be >= 1, was " + parallelism);
    }
    return parallelStream(sink, new Blob(associatedData), onComplete, executor, parallelism);
  }

  private OutputStream parallelStream(
      OutputStream sink, Blob blob, LongConsumer onComplete, Executor executor, int parallelism)
      throws IOException {
    if (parallelism == 1) {
      return new EncryptingOutputStream(sink, blob.cipher, layout, blob.headerBytes, onComplete);
    }
    return new ParallelEncryptingOutputStream(
        sink, blob.cipher, layout, blob.headerBytes, executor, parallelism, onComplete);
  }

  /** Test seam: a parallel push stream with a fixed salt and nonce prefix. */
  OutputStream newEncryptingStream(
      OutputStream sink, byte[] salt, byte[] prefix, Executor executor, int parallelism)
      throws IOException {
    return parallelStream(
        sink, new Blob(NO_ASSOCIATED_DATA, salt, prefix), n -> {}, executor, parallelism);
  }

  OutputStream newEncryptingStream(OutputStream sink, LongConsumer onComplete) throws IOException {
    return newEncryptingStream(sink, NO_ASSOCIATED_DATA, onComplete);
  }

  /**
   * Pull mode: reading the returned stream yields the envelope of what is read from {@code source};
   * for upload APIs that take an {@code InputStream}. If the plaintext length is known, {@link
   * #ciphertextLength} gives the exact length this stream yields. Closing it closes {@code source}.
   * Every failure of its {@code read} methods is an {@link IOException}.
   *
   * @param source the plaintext
   * @return the envelope; not thread-safe
   */
  public InputStream newEncryptingInputStream(InputStream source) {
    return newEncryptingInputStream(source, NO_ASSOCIATED_DATA, n -> {});
  }

  /**
   * Pull mode with per-blob associated data; see {@link #newEncryptingStream(OutputStream,
   * byte[])}. The envelope's length does not depend on the associated data.
   *
   * @param source the plaintext
   * @param associatedData bound to this blob; copied; may be empty (the same as none)
   * @return the envelope; not thread-safe
   */
  public InputStream newEncryptingInputStream(InputStream source, byte[] associatedData) {
    return newEncryptingInputStream(source, associatedData, n -> {});
  }

  /**
   * Pull mode with read-ahead over {@code executor}; otherwise as {@link
   * #newEncryptingInputStream(InputStream)}. The thread calling {@code read} reads up to {@code
   * parallelism} plaintext segments ahead from {@code source} (never a pool thread), tasks on
   * {@code executor} seal them, and the envelope is handed out in order, byte for byte what the
   * sequential stream yields for the same salt and nonce prefix. Memory: about two segment buffers
   * per segment read ahead, O(parallelism &times; segment size).
   *
   * <p>The executor runs only byok's sealing code, never a callback of yours or a read of {@code
   * source}. A failure of the source, a failed or rejected task ({@link IOException}) or an
   * interrupt while {@code read} waits ({@link java.io.InterruptedIOException}, interrupt status
   * kept) is sticky: every later read throws, so the envelope never looks complete. Closing
   * abandons the tasks in flight (they wipe their buffers when they end) and closes {@code source}.
   *
   * @param source the plaintext
   * @param executor runs the sealing tasks, for example a fixed pool shared by the application
   * @param parallelism most segments read ahead, {@code >= 1} (1: the sequential stream)
   * @return the envelope; not thread-safe
   * @throws IllegalArgumentException if {@code parallelism < 1}
   */
  public InputStream newEncryptingInputStream(
      InputStream source, Executor executor, int parallelism) {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(executor, "executor");
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be >= 1, was " + parallelism);
    }
    return parallelInput(source, new Blob(NO_ASSOCIATED_DATA), executor, parallelism);
  }

  private InputStream parallelInput(
      InputStream source, Blob blob, Executor executor, int parallelism) {
    if (parallelism == 1) {
      return new EncryptingInputStream(source, blob.cipher, layout, blob.headerBytes, n -> {});
    }
    return new ParallelEncryptingInputStream(
        source, blob.cipher, layout, blob.headerBytes, executor, parallelism, n -> {});
  }

  /** Test seam: a parallel pull stream with a fixed salt and nonce prefix. */
  InputStream newEncryptingInputStream(
      InputStream source, byte[] salt, byte[] prefix, Executor executor, int parallelism) {
    return parallelInput(source, new Blob(NO_ASSOCIATED_DATA, salt, prefix), executor, parallelism);
  }

  InputStream newEncryptingInputStream(
      InputStream source, byte[] associatedData, LongConsumer onComplete) {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(associatedData, "associatedData");
    Blob blob = new Blob(associatedData);
    return new EncryptingInputStream(source, blob.cipher, layout, blob.headerBytes, onComplete);
  }

  InputStream newEncryptingInputStream(InputStream source, LongConsumer onComplete) {
    return newEncryptingInputStream(source, NO_ASSOCIATED_DATA, onComplete);
  }

  /**
   * Encrypts a file. The target appears complete or not at all: the envelope is written to a
   * temporary file beside it, forced to disk, then moved over {@code target} atomically.
   *
   * @param source plaintext file
   * @param target envelope file; replaced if it exists
   * @throws IOException if reading or writing fails; {@code target} is then untouched
   */
  public void encryptFile(Path source, Path target) throws IOException {
    encryptFile(source, target, n -> {});
  }

  void encryptFile(Path source, Path target, LongConsumer onComplete) throws IOException {
    AtomicFiles.write(
        target,
        out -> {
          try (InputStream in = Files.newInputStream(source);
              OutputStream enc = newEncryptingStream(out, onComplete)) {
            byte[] buf = new byte[layout.segmentSize()];
            int n;
            while ((n = in.read(buf)) >= 0) {
              enc.write(buf, 0, n);
            }
          }
        });
  }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  // ---- NIO: ByteBuffer and FileChannel, sequential and parallel ----

  /**
   * Encrypts the remaining bytes of {@code src} (heap or direct) into {@code dst} as one envelope,
   * straight from one heap buffer into the other with no intermediate copy (a direct buffer is
   * moved through a 64 KiB heap chunk: SunJCE's GCM is slow on direct buffers). On success {@code
   * src}'s position moves to its limit and {@code dst}'s past the envelope; on failure neither
   * moves. One-shot: there is no stream state to poison.
   *
   * @param src the plaintext; not modified
   * @param dst receives the envelope at its position; needs {@link #ciphertextLength} of {@code
   *     src.remaining()} bytes remaining; must not overlap {@code src}
   * @return envelope bytes written
   * @throws IllegalArgumentException if {@code dst} has too little room (nothing is written)
   * @throws BlobTooLargeException if the plaintext is too long for one blob
   */
  public int encrypt(ByteBuffer src, ByteBuffer dst) throws BlobTooLargeException {
    Objects.requireNonNull(src, "src");
    Objects.requireNonNull(dst, "dst");
    long need = ciphertextLengthOrTooLarge(src.remaining());
    if (dst.isReadOnly() || need > dst.remaining()) {
      throw new IllegalArgumentException(
          "dst has "
              + dst.remaining()
              + " bytes remaining"
              + (dst.isReadOnly() ? " and is read-only" : "")
              + "; the envelope needs "
              + need);
    }
    Blob blob = new Blob(NO_ASSOCIATED_DATA);
    try {
      return NioEnvelopes.encrypt(blob.cipher, layout, blob.headerBytes, src, dst);
    } finally {
      blob.cipher.close();
    }
  }

  /**
   * Encrypts the remaining bytes of {@code src} (heap or direct) into {@code dst} at {@code
   * position} by positional writes: the channel's own position is neither used nor changed. Every
   * write is checked and repeated until complete. On success {@code src}'s position moves to its
   * limit. If a write fails, the final segment is not written, so the output never authenticates as
   * a complete envelope; the bytes already written stay (to write a file that appears complete or
   * not at all, write into a temporary file and move it, as {@link #encryptFile} does). One-shot:
   * there is no stream state to poison.
   *
   * @param src the plaintext; not modified
   * @param dst receives the envelope; open for writing
   * @param position where the envelope starts in {@code dst}
   * @return envelope bytes written ({@link #ciphertextLength} of the plaintext length)
   * @throws IOException if a write fails
   * @throws BlobTooLargeException if the plaintext is too long for one blob
   */
  public long encrypt(ByteBuffer src, FileChannel dst, long position) throws IOException {
    return encrypt(src, dst, position, null, 1, new Blob(NO_ASSOCIATED_DATA));
  }

  /**
   * Like {@link #encrypt(ByteBuffer, FileChannel, long)}, with the segments of this one blob
   * encrypted and written in parallel: every segment but the final one runs as a task on {@code
   * executor}, at most {@code parallelism} at once (memory per task: one direct segment buffer and
   * a 64 KiB heap chunk); the calling thread writes the final segment only after every other
   * segment is written. The output is byte-for-byte what the sequential call writes for the same
   * salt and nonce prefix. The executor runs only byok's own cipher and write code, never a
   * callback of yours. If a task fails, the executor rejects one, or the calling thread is
   * interrupted while it waits ({@link java.io.InterruptedIOException}, interrupt status kept), no
   * further segment starts, the call waits for the segments in flight, and throws; no task is left
   * running. Note that a {@link FileChannel} is closed when a thread blocked in one of its writes
   * is interrupted.
   *
   * @param src the plaintext; not modified; read concurrently by the tasks
   * @param dst receives the envelope; open for writing
   * @param position where the envelope starts in {@code dst}
   * @param executor runs the segment tasks, for example a fixed pool shared by the application
   * @param parallelism most segments in flight, {@code >= 1} (1: no task, the calling thread does
   *     all)
   * @return envelope bytes written
   * @throws IOException if a write fails or the executor rejects a task
   * @throws IllegalArgumentException if {@code parallelism < 1}
   */
  public long encrypt(
      ByteBuffer src, FileChannel dst, long position, Executor executor, int parallelism)
      throws IOException {
    Objects.requireNonNull(executor, "executor");
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be >= 1, was " + parallelism);
    }
    return encrypt(src, dst, position, executor, parallelism, new Blob(NO_ASSOCIATED_DATA));
  }

  /** Test seam: {@code salt} and {@code prefix} fixed, so outputs of two paths can be compared. */
  long encrypt(
      ByteBuffer src,
      FileChannel dst,
      long position,
      @Nullable Executor executor,
      int parallelism,
      byte[] salt,
      byte[] prefix)
      throws IOException {
    return encrypt(
        src, dst, position, executor, parallelism, new Blob(NO_ASSOCIATED_DATA, salt, prefix));
  }

  /** Test seam: a pull stream with a fixed salt and nonce prefix. */
  InputStream newEncryptingInputStream(InputStream source, byte[] salt, byte[] prefix) {
    Blob blob = new Blob(NO_ASSOCIATED_DATA, salt, prefix);
    return new EncryptingInputStream(source, blob.cipher, layout, blob.headerBytes, n -> {});
  }

  /** Test seam: a push stream with a fixed salt and nonce prefix. */
  OutputStream newEncryptingStream(OutputStream sink, byte[] salt, byte[] prefix)
      throws IOException {
    Blob blob = new Blob(NO_ASSOCIATED_DATA, salt, prefix);
    return new EncryptingOutputStream(sink, blob.cipher, layout, blob.headerBytes, n -> {});
  }

  private long encrypt(
      ByteBuffer src,
      FileChannel dst,
      long position,
      @Nullable Executor executor,
      int parallelism,
      Blob blob)
      throws IOException {
    Objects.requireNonNull(src, "src");
    Objects.requireNonNull(dst, "dst");
    if (position < 0) {
      blob.cipher.close();
      throw new IllegalArgumentException("position must be >= 0, was " + position);
    }
    try {
      ciphertextLengthOrTooLarge(src.remaining());
      return NioEnvelopes.encrypt(
          blob.cipher, layout, blob.headerBytes, src, dst, position, executor, parallelism);
    } finally {
      blob.cipher.close();
    }
  }

  private long ciphertextLengthOrTooLarge(long plaintextLength) throws BlobTooLargeException {
    if (layout.segmentCount(plaintextLength) > layout.maxSegments()) {
      throw layout.tooLarge();
    }
    return ciphertextLength(plaintextLength);
  }

  /** Shows the header facts; never key material. */
  @Override
  public String toString() {
    return "EnvelopeEncryptor[" + header + "]";
  }

  /**
   * Builds an {@link EnvelopeEncryptor}. Setters fail fast with a message naming the bad value. Not
   * thread-safe.
   */
  public static final class Builder {
    private @Nullable DataKey dataKey;
    private final List<KeySlot> slots = new ArrayList<>();
    private EncryptionContext context = EncryptionContext.empty();
    private int segmentSize = EnvelopeFormat.DEFAULT_SEGMENT_SIZE;

    private Builder() {}

    /**
     * Sets the data key (required). Not copied: destroying it later stops the encryptor.
     *
     * @param key the data key
     * @return this builder
     */
    public Builder dataKey(DataKey key) {
      Objects.requireNonNull(key, "dataKey");
      if (key.isDestroyed()) {
        throw new IllegalArgumentException("dataKey " + key.idHex() + " is destroyed");
      }
      this.dataKey = key;
      return this;
    }

    /**
     * Adds a key slot (at least one is required, at most {@value EnvelopeFormat#MAX_KEY_SLOTS}).
     *
     * @param slot a wrapping of the data key
     * @return this builder
     */
    public Builder keySlot(KeySlot slot) {
      Objects.requireNonNull(slot, "keySlot");
      if (slots.size() == EnvelopeFormat.MAX_KEY_SLOTS) {
        throw new IllegalArgumentException(
            "key slot "
                + (slots.size() + 1)
                + " ("
                + slot
                + ") is one too many: at most "
                + EnvelopeFormat.MAX_KEY_SLOTS
                + " key slots");
      }
      slots.add(slot);
      return this;
    }

    /**
     * Replaces the key slots.
     *
     * @param newSlots 1 to {@value EnvelopeFormat#MAX_KEY_SLOTS} slots
     * @return this builder
     */
    public Builder keySlots(List<KeySlot> newSlots) {
      if (newSlots.size() > EnvelopeFormat.MAX_KEY_SLOTS) {
        throw new IllegalArgumentException(
            "got " + newSlots.size() + " key slots, at most " + EnvelopeFormat.MAX_KEY_SLOTS);
      }
      slots.clear();
      newSlots.forEach(this::keySlot);
      return this;
    }

    /**
     * Sets the encryption context (default: empty).
     *
     * @param context the context
     * @return this builder
     */
    public Builder encryptionContext(EncryptionContext context) {
      this.context = Objects.requireNonNull(context, "encryptionContext");
      return this;
    }

    /**
     * Sets the ciphertext segment size (default {@value EnvelopeFormat#DEFAULT_SEGMENT_SIZE}).
     *
     * @param bytes between {@value EnvelopeFormat#MIN_SEGMENT_SIZE} and {@value
     *     EnvelopeFormat#MAX_SEGMENT_SIZE}
     * @return this builder
     */
    public Builder segmentSize(int bytes) {
      this.segmentSize = EnvelopeFormat.checkSegmentSize(bytes);
      return this;
    }

    /**
     * Builds the encryptor.
     *
     * @return the encryptor
     * @throws IllegalStateException if the data key or every key slot is missing
     */
    public EnvelopeEncryptor build() {
      if (dataKey == null) {
        throw new IllegalStateException("dataKey is required");
      }
      if (slots.isEmpty()) {
        throw new IllegalStateException("at least one keySlot is required");
      }
      return new EnvelopeEncryptor(this);
    }
  }
}
