package dev.byok;

import dev.byok.internal.AtomicFiles;
import dev.byok.internal.ExactLengthInputStream;
import dev.byok.internal.SegmentLayout;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.WrappedKey;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * The entry point: envelope encryption of streams, channels and files under customer keys held in a
 * KMS.
 *
 * <pre>{@code
 * Byok byok = Byok.builder().provider(kms).encryptUnder("aws-kms://alias/snapshots").build();
 * try (OutputStream out = byok.newEncryptingStream(Files.newOutputStream(blob), context)) {
 *   out.write(data);
 * }
 * byte[] back;
 * try (InputStream in = byok.newDecryptingStream(Files.newInputStream(blob))) {
 *   back = in.readAllBytes();
 * }
 * }</pre>
 *
 * <p>New blobs are encrypted under the configured KEKs (one key slot each, the first one generates
 * the data key); any blob whose slot names a configured provider and an allowed key decrypts. A
 * reader of one tenant says what it expects with {@link #forReading(ReadPolicy)} (its KEKs and the
 * context), so a blob written under another accepted key is refused before any KMS call (see
 * docs/security.md). Data keys are cached by a {@link DataKeyManager} within the bounds of its
 * {@link DataKeyPolicy}.
 *
 * <p>Immutable and thread-safe; the streams and channels it makes are not. {@link #close()} purges
 * and zeroes the cached data keys.
 */
public final class Byok implements AutoCloseable {
  private static final byte[] NO_ASSOCIATED_DATA = new byte[0];

  private final DataKeyManager keys;
  private final List<KeyRef> keks;
  private final int segmentSize;
  private final EnvelopeDecryptor decryptor;

  /** Resolves data keys for this instance: the whole manager, or a view's restricted resolver. */
  private final DataKeyResolver resolver;

  /** Whether this instance owns {@link #keys} (the built instance) or is a view of it. */
  private final boolean owner;

  /** A reading view's policy (checked before every resolve), or null. */
  private final @Nullable ReadPolicy readPolicy;

  private Byok(
      DataKeyManager keys,
      List<KeyRef> keks,
      int segmentSize,
      DataKeyResolver resolver,
      boolean owner,
      @Nullable ReadPolicy readPolicy) {
    this.keys = keys;
    this.keks = keks;
    this.segmentSize = segmentSize;
    this.resolver = resolver;
    this.decryptor = EnvelopeDecryptor.create(resolver);
    this.owner = owner;
    this.readPolicy = readPolicy;
  }

  /** {@return a new builder} */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The data key manager (stats, invalidation, locks). On a view ({@link #forKeys(List)}, {@link
   * #forReading(ReadPolicy)}) this is the shared manager of the instance that was built, not
   * restricted to the view's KEKs: a view narrows what it encrypts, decrypts and rewraps, it is not
   * a boundary for key management. Hand a view's {@code keys()} only to code trusted with the whole
   * instance.
   *
   * @return the data key manager
   */
  public DataKeyManager keys() {
    return keys;
  }

  /** {@return the KEKs new blobs are encrypted under, in slot order} */
  public List<KeyRef> encryptionKeys() {
    return keks;
  }

  /**
   * A view of this instance for one tenant: new blobs are encrypted under {@code tenantKeks} (the
   * first generates the data key, each further one adds a slot), and only blobs with a slot under
   * one of {@code tenantKeks} decrypt through it (a per-tenant allow-list; an alias matches the key
   * it resolves to). The view shares this instance's data key cache, KMS providers, policy,
   * counters and monitor wiring, so any number of tenants cost one cache, not one each; making a
   * view makes no KMS call and allocates little, so a host may make one per request.
   *
   * <p>See docs/multi-tenant.md for a complete example.
   *
   * <p>Immutable and thread-safe. {@link #close()} on a view does nothing: the instance that was
   * built owns the cache.
   *
   * @param tenantKeks the tenant's KEKs, at least one, each naming a registered provider
   * @return the view
   * @throws IllegalArgumentException if {@code tenantKeks} is empty, too long, on a view names a
   *     KEK that is not one of the view's own (a view of a reading view keeps its context check),
   *     or names a provider that is not registered
   */
  public Byok forKeys(List<KeyRef> tenantKeks) {
    List<KeyRef> ks = List.copyOf(tenantKeks);
    checkKeks(ks, keys);
    checkWithinView(ks);
    ReadPolicy inherited = readPolicy;
    if (inherited != null) {
      ReadPolicy p = inherited.withKeks(ks); // a view of a reading view keeps its context check
      return new Byok(keys, ks, segmentSize, policyResolver(p), false, p);
    }
    return new Byok(keys, ks, segmentSize, keys.restrictedTo(ks), false, null);
  }

  /**
   * On a view, {@code ks} must be among the view's own KEKs (the same {@link KeyRef}s): a view
   * never widens into another tenant's keys.
   */
  private void checkWithinView(List<KeyRef> ks) {
    if (owner) {
      return;
    }
    ReadPolicy p = readPolicy;
    List<KeyRef> allowed = p != null ? p.keks() : keks;
    for (KeyRef k : ks) {
      if (!allowed.contains(k)) {
        throw new IllegalArgumentException(
            "this view may use only its own KEKs " + allowed + "; " + k + " is not one of them");
      }
    }
  }

  /** {@code from}, narrowed on a view to the view's KEKs (checked) and its context check too. */
  private ReadPolicy withinView(ReadPolicy from) {
    checkWithinView(from.keks());
    ReadPolicy p = readPolicy;
    return owner || p == null ? from : from.and(p);
  }

  /**
   * A view of this instance for one tenant or context that checks every blob it decrypts against
   * {@code policy} before any KMS call: the header's encryption context must satisfy the policy and
   * the data key is unwrapped only from a slot under the policy's KEKs. A blob forged under any
   * other key this instance would accept, or carrying another context, is refused with no KMS
   * {@code Decrypt}. New blobs are encrypted under the policy's KEKs, as with {@link
   * #forKeys(List)}. This is the way to read blobs of one tenant; see docs/security.md.
   *
   * <p>Immutable and thread-safe; shares this instance's cache; {@link #close()} on it does
   * nothing.
   *
   * @param policy the KEKs and the context the tenant's blobs carry
   * @return the view
   * @throws IllegalArgumentException if a KEK of the policy names a provider that is not
   *     registered, or, on a view, is not one of the view's own KEKs (a view of a view also keeps
   *     the outer view's context check)
   */
  public Byok forReading(ReadPolicy policy) {
    Objects.requireNonNull(policy, "policy");
    checkKeks(policy.keks(), keys);
    ReadPolicy p = withinView(policy);
    return new Byok(keys, p.keks(), segmentSize, policyResolver(p), false, p);
  }

  /** Resolves only for headers that pass {@code policy}: the checks come before any KMS call. */
  private DataKeyResolver policyResolver(ReadPolicy policy) {
    DataKeyResolver restricted = keys.restrictedTo(policy.keks());
    return header -> {
      policy.checkContext(header);
      return restricted.resolve(header);
    };
  }

  /**
   * {@link #forKeys(List)} with key references in their string form, e.g. {@code
   * aws-kms://arn:aws:kms:eu-west-1:111122223333:key/...}.
   *
   * @param tenantKeks {@code <provider>://<key id>}, at least one
   * @return the view
   */
  public Byok forKeys(String... tenantKeks) {
    List<KeyRef> ks = new ArrayList<>(tenantKeks.length);
    for (String k : tenantKeks) {
      ks.add(KeyRef.parse(Objects.requireNonNull(k, "kek")));
    }
    return forKeys(ks);
  }

  private static void checkKeks(List<KeyRef> ks, DataKeyManager keys) {
    if (ks.isEmpty()) {
      throw new IllegalArgumentException("at least one KEK is required");
    }
    if (ks.size() > EnvelopeFormat.MAX_KEY_SLOTS) {
      throw new IllegalArgumentException(
          "at most " + EnvelopeFormat.MAX_KEY_SLOTS + " KEKs, got " + ks.size());
    }
    for (KeyRef k : ks) {
      try {
        keys.provider(k.providerId());
      } catch (ByokConfigurationException e) {
        throw new IllegalArgumentException(
            "KEK " + k + " names provider '" + k.providerId() + "', which is not registered", e);
      }
    }
  }

  // ------------------------------------------------------------------ encrypt

  /**
   * Push mode: what is written to the returned stream is encrypted into {@code sink}; {@code
   * close()} writes the final segment and closes {@code sink}. See {@link
   * EnvelopeEncryptor#newEncryptingStream} for the failure semantics.
   *
   * @param sink receives the envelope
   * @param context bound to the blob
   * @return the plaintext side; not thread-safe
   * @throws IOException if writing the header fails
   * @throws KmsUnavailableException if a data key is needed and the KMS cannot be reached
   * @throws KeyUnusableException if the KMS refuses the KEK
   */
  public OutputStream newEncryptingStream(OutputStream sink, EncryptionContext context)
      throws IOException {
    return newEncryptingStream(sink, context, NO_ASSOCIATED_DATA);
  }

  /**
   * Push mode with the segments of this one blob sealed in parallel on {@code executor}, at most
   * {@code parallelism} in flight, written to {@code sink} in order by the calling thread; see
   * {@link EnvelopeEncryptor#newEncryptingStream(OutputStream, Executor, int)} for the memory bound
   * and the failure semantics. The executor only ever runs byok's sealing code, never a host
   * callback; the data key is resolved on the calling thread before this returns.
   *
   * @param sink receives the envelope
   * @param context bound to the blob
   * @param executor runs the sealing tasks
   * @param parallelism most segments in flight, {@code >= 1}
   * @return the plaintext side; not thread-safe
   * @throws IOException if writing the header fails
   * @throws IllegalArgumentException if {@code parallelism < 1}
   */
  public OutputStream newEncryptingStream(
      OutputStream sink, EncryptionContext context, Executor executor, int parallelism)
      throws IOException {
    Objects.requireNonNull(sink, "sink");
    Objects.requireNonNull(context, "context");
    Objects.requireNonNull(executor, "executor");
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be >= 1, was " + parallelism);
    }
    ActiveDataKey.Admission a = keys.admit(keks, context, -1);
    boolean ok = false;
    try {
      OutputStream out =
          new Metered.Output(
              a.encryptor(segmentSize)
                  .newEncryptingStream(sink, NO_ASSOCIATED_DATA, a, executor, parallelism),
              a);
      ok = true;
      return out;
    } finally {
      if (!ok) {
        a.cancel();
      }
      a.release();
    }
  }

  /**
   * Push mode with per-blob associated data (for example a repository and an object name):
   * authenticated with the payload, never stored in the blob, never sent to the KMS and not part of
   * the data-key cache key, so any number of names under one context share one data key. Decrypt
   * with {@link #newDecryptingStream(InputStream, EncryptionContext, byte[])} and the same bytes.
   *
   * @param sink receives the envelope
   * @param context bound to the blob
   * @param associatedData bound to the blob; may be empty (the same as none)
   * @return the plaintext side; not thread-safe
   * @throws IOException if writing the header fails
   */
  public OutputStream newEncryptingStream(
      OutputStream sink, EncryptionContext context, byte[] associatedData) throws IOException {
    Objects.requireNonNull(sink, "sink");
    Objects.requireNonNull(context, "context");
    Objects.requireNonNull(associatedData, "associatedData");
    ActiveDataKey.Admission a = keys.admit(keks, context, -1);
    boolean ok = false;
    try {
      OutputStream out =
          new Metered.Output(
              a.encryptor(segmentSize).newEncryptingStream(sink, associatedData, a), a);
      ok = true;
      return out;
    } finally {
      if (!ok) {
        a.cancel();
      }
      a.release();
    }
  }

  /**
   * Pull mode with a known plaintext length and per-blob associated data; see {@link
   * #newEncryptingStream(OutputStream, EncryptionContext, byte[])}. The length does not depend on
   * the associated data.
   *
   * @param source the plaintext; must yield exactly {@code plaintextLength} bytes
   * @param plaintextLength bytes in {@code source}
   * @param context bound to the blob
   * @param associatedData bound to the blob; may be empty
   * @return the envelope; closing it closes {@code source}
   * @throws IllegalArgumentException if {@code plaintextLength} is negative, or more than one blob
   *     holds (the cause is then a {@link BlobTooLargeException} naming the limit); either before
   *     any KMS call
   */
  public EncryptedInputStream newEncryptingInputStream(
      InputStream source, long plaintextLength, EncryptionContext context, byte[] associatedData) {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(associatedData, "associatedData");
    if (plaintextLength < 0) {
      throw new IllegalArgumentException("plaintextLength must be >= 0, was " + plaintextLength);
    }
    SegmentLayout layout = new SegmentLayout(segmentSize);
    if (plaintextLength > layout.maxPlaintextLength()) {
      // before admit: an impossible length costs no GenerateDataKey
      BlobTooLargeException tooLarge = layout.tooLarge();
      throw new IllegalArgumentException(tooLarge.getMessage(), tooLarge);
    }
    Objects.requireNonNull(context, "context");
    ActiveDataKey.Admission a = keys.admit(keks, context, plaintextLength);
    boolean ok = false;
    try {
      EnvelopeEncryptor enc = a.encryptor(segmentSize);
      long length = enc.ciphertextLength(plaintextLength);
      InputStream envelope =
          enc.newEncryptingInputStream(
              new ExactLengthInputStream(source, plaintextLength), associatedData, a);
      ok = true;
      return new EncryptedInputStream(envelope, length);
    } finally {
      if (!ok) {
        a.cancel();
      }
      a.release();
    }
  }

  /**
   * Pull mode with a known plaintext length: the returned stream's {@link
   * EncryptedInputStream#length()} is its exact length, for an upload's Content-Length.
   *
   * @param source the plaintext; must yield exactly {@code plaintextLength} bytes
   * @param plaintextLength bytes in {@code source}
   * @param context bound to the blob
   * @return the envelope; closing it closes {@code source}
   */
  public EncryptedInputStream newEncryptingInputStream(
      InputStream source, long plaintextLength, EncryptionContext context) {
    return newEncryptingInputStream(source, plaintextLength, context, NO_ASSOCIATED_DATA);
  }

  /**
   * Pull mode with an unknown plaintext length.
   *
   * @param source the plaintext
   * @param context bound to the blob
   * @return the envelope; closing it closes {@code source}
   */
  public InputStream newEncryptingInputStream(InputStream source, EncryptionContext context) {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(context, "context");
    ActiveDataKey.Admission a = keys.admit(keks, context, -1);
    boolean ok = false;
    try {
      InputStream in =
          a.encryptor(segmentSize).newEncryptingInputStream(new Metered.Input(source, a), a);
      ok = true;
      return in;
    } finally {
      if (!ok) {
        a.cancel();
      }
      a.release();
    }
  }

  /**
   * Encrypts a file; the target appears complete or not at all (temporary file, fsync, atomic
   * move).
   *
   * @param source plaintext file
   * @param target envelope file; replaced if it exists
   * @param context bound to the blob
   * @throws IOException if reading or writing fails; the target is then untouched
   */
  public void encryptFile(Path source, Path target, EncryptionContext context) throws IOException {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(context, "context");
    long length = Files.isRegularFile(source) ? Files.size(source) : -1;
    ActiveDataKey.Admission a = keys.admit(keks, context, length);
    boolean ok = false;
    try {
      a.encryptor(segmentSize).encryptFile(source, target, a);
      ok = true;
    } finally {
      if (!ok) {
        a.cancel(); // nothing was written: the reservation goes back
      }
      a.release();
    }
  }

  /**
   * The exact envelope length of a plaintext length for blobs encrypted now with {@code context}.
   * The header length depends on the current data key's slots; {@link
   * #newEncryptingInputStream(InputStream, long, EncryptionContext)} gives a length that is
   * guaranteed to match its stream.
   *
   * @param plaintextLength plaintext bytes
   * @param context the encryption context
   * @return envelope bytes
   */
  public long ciphertextLength(long plaintextLength, EncryptionContext context) {
    ActiveDataKey.Admission a = keys.admit(keks, context, -1);
    try {
      return a.encryptor(segmentSize).ciphertextLength(plaintextLength);
    } finally {
      a.cancel(); // a length query encrypts no blob: it must not spend one of the key's uses
      a.release();
    }
  }

  // ------------------------------------------------------------------ decrypt

  /**
   * Decrypts a stream; see {@link EnvelopeDecryptor#newDecryptingStream(InputStream,
   * EncryptionContext)}.
   *
   * @param source the envelope
   * @param expected the required encryption context, or {@code null} for any
   * @return the plaintext; every byte returned has been authenticated
   * @throws IOException if reading fails
   */
  public InputStream newDecryptingStream(InputStream source, @Nullable EncryptionContext expected)
      throws IOException {
    return decryptor.newDecryptingStream(source, expected);
  }

  /**
   * Decrypts a stream with up to {@code parallelism} segments read ahead and decrypted on {@code
   * executor}, plaintext handed out in order and only once authenticated; see {@link
   * EnvelopeDecryptor#newDecryptingStream(InputStream, EncryptionContext, Executor, int)}.
   *
   * @param source the envelope
   * @param expected the required encryption context, or {@code null} for any
   * @param executor runs the decryption tasks; never a host callback
   * @param parallelism most segments read ahead, {@code >= 1}
   * @return the plaintext; every byte returned has been authenticated; not thread-safe
   * @throws IOException if reading the header fails
   * @throws IllegalArgumentException if {@code parallelism < 1}
   */
  public InputStream newDecryptingStream(
      InputStream source, @Nullable EncryptionContext expected, Executor executor, int parallelism)
      throws IOException {
    return decryptor.newDecryptingStream(source, expected, executor, parallelism);
  }

  /**
   * Decrypts a stream written with per-blob associated data; see {@link
   * EnvelopeDecryptor#newDecryptingStream(InputStream, EncryptionContext, byte[])}.
   *
   * @param source the envelope
   * @param expected the required encryption context, or {@code null} for any
   * @param associatedData the bytes the blob was written with; may be empty
   * @return the plaintext; every byte returned has been authenticated
   * @throws IOException if reading fails
   */
  public InputStream newDecryptingStream(
      InputStream source, @Nullable EncryptionContext expected, byte[] associatedData)
      throws IOException {
    return decryptor.newDecryptingStream(source, expected, associatedData);
  }

  /**
   * Random-access decryption of a blob written with per-blob associated data; see {@link
   * EnvelopeDecryptor#newDecryptingChannel(SeekableByteChannel, EncryptionContext, byte[])}.
   *
   * @param source the envelope
   * @param expected the required encryption context, or {@code null} for any
   * @param associatedData the bytes the blob was written with; may be empty
   * @return a read-only channel over the plaintext
   * @throws IOException if reading fails
   */
  public SeekableByteChannel newDecryptingChannel(
      SeekableByteChannel source, @Nullable EncryptionContext expected, byte[] associatedData)
      throws IOException {
    return decryptor.newDecryptingChannel(source, expected, associatedData);
  }

  /**
   * Decrypts a stream with any encryption context.
   *
   * @param source the envelope
   * @return the plaintext
   * @throws IOException if reading fails
   */
  public InputStream newDecryptingStream(InputStream source) throws IOException {
    return decryptor.newDecryptingStream(source, null);
  }

  /**
   * Random-access decryption; see {@link
   * EnvelopeDecryptor#newDecryptingChannel(SeekableByteChannel, EncryptionContext)}.
   *
   * @param source the envelope
   * @param expected the required encryption context, or {@code null} for any
   * @return a read-only channel over the plaintext
   * @throws IOException if reading fails
   */
  public SeekableByteChannel newDecryptingChannel(
      SeekableByteChannel source, @Nullable EncryptionContext expected) throws IOException {
    return decryptor.newDecryptingChannel(source, expected);
  }

  /**
   * Random-access decryption with read-ahead on {@code executor}; see {@link
   * EnvelopeDecryptor#newDecryptingChannel(SeekableByteChannel, EncryptionContext, Executor, int)}.
   * Thread-safe (the returned channel is not).
   *
   * @param source the envelope
   * @param expected the required encryption context, or {@code null} for any
   * @param executor runs the decryption tasks
   * @param parallelism most segments decrypted ahead, {@code >= 1}
   * @return a read-only channel over the plaintext
   * @throws IOException if reading fails
   */
  public SeekableByteChannel newDecryptingChannel(
      SeekableByteChannel source,
      @Nullable EncryptionContext expected,
      Executor executor,
      int parallelism)
      throws IOException {
    return decryptor.newDecryptingChannel(source, expected, executor, parallelism);
  }

  /**
   * Decrypts the bytes a {@link RangePlan} named; see {@link EnvelopeDecryptor#decryptRange}.
   *
   * @param header the blob's header
   * @param plan the plan
   * @param fetched exactly the planned bytes
   * @param expected the required encryption context, or {@code null} for any
   * @return the plaintext range
   */
  public InputStream decryptRange(
      EnvelopeHeader header,
      RangePlan plan,
      InputStream fetched,
      @Nullable EncryptionContext expected) {
    return decryptor.decryptRange(header, plan, fetched, expected);
  }

  /**
   * Decrypts a file; the target appears only once every segment authenticated.
   *
   * @param source envelope file
   * @param target plaintext file; replaced if it exists
   * @param expected the required encryption context, or {@code null} for any
   * @throws IOException if reading or writing fails; the target is then untouched
   */
  public void decryptFile(Path source, Path target, @Nullable EncryptionContext expected)
      throws IOException {
    decryptor.decryptFile(source, target, expected);
  }

  // ------------------------------------------------------------------ inspect, rewrap

  /**
   * Reads a blob's header: format facts, context, key slots. No key and no KMS call needed.
   *
   * @param envelope the blob, at its start; not closed
   * @return the header
   * @throws IOException if reading fails
   */
  public static EnvelopeHeader inspect(InputStream envelope) throws IOException {
    return EnvelopeHeader.read(envelope);
  }

  /**
   * Rewraps a blob file under this instance's KEKs. The blob must pass {@code from}: its context is
   * checked and its data key is unwrapped only from a slot under {@code from}'s KEKs (no KMS call
   * for a blob that fails), so a blob forged under another key is never carried to the new key. The
   * data key is checked against the key commitment, then the source is read once, through one open
   * channel: its header, and its payload, which is authenticated while it is copied verbatim behind
   * the new header into a temporary file. Only if every segment authenticated is the temporary file
   * forced to disk and moved over {@code target}, so a source replaced or modified while it is read
   * never yields a target that is not the authentic blob. Source and target may be the same path.
   * Because the new header is written first, its key slots are made (KMS ReEncrypt or Encrypt)
   * before the payload is authenticated: a tampered payload costs those calls, but the new wrapped
   * key is never written anywhere.
   *
   * @param source the blob
   * @param target where the rewrapped blob goes
   * @param from the KEKs the blob is wrapped under now, and the context it must carry
   * @return what changed
   * @throws InvalidCiphertextException if the blob is not authentic or fails {@code from}; nothing
   *     is written
   * @throws ByokConfigurationException if no slot names one of {@code from}'s KEKs
   * @throws IllegalArgumentException on a view, if {@code from} names a KEK that is not one of the
   *     view's own (a view also applies its own context check)
   * @throws ByokConfigurationException if this instance has no KEK to wrap under (no {@code
   *     encryptUnder}), before any KMS call
   * @throws IOException if reading or writing fails; the target is then untouched
   */
  public RewrapResult rewrap(Path source, Path target, ReadPolicy from) throws IOException {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(target, "target");
    ReadPolicy narrowed = withinView(Objects.requireNonNull(from, "from"));
    requireEncryptionKeks();
    DataKeyResolver fromResolver = policyResolver(narrowed);
    try (FileChannel channel = FileChannel.open(source, StandardOpenOption.READ)) {
      InputStream in = Channels.newInputStream(channel);
      EnvelopeHeader old = EnvelopeHeader.read(in);
      EnvelopeHeader fresh = rewrapHeader(old, fromResolver, narrowed.keks());
      long[] copied = new long[1];
      AtomicFiles.write(
          target,
          out -> {
            byte[] head = fresh.toByteArray(); // new slots; the same immutable part and salt
            out.write(head);
            CopyingInputStream tee = new CopyingInputStream(in, out);
            try (InputStream plain =
                EnvelopeDecryptor.create(fromResolver)
                    .afterHeader(old, tee, null, NO_ASSOCIATED_DATA)) {
              byte[] sink = new byte[64 * 1024];
              try {
                while (plain.read(sink) >= 0) {
                  // every byte read is copied to the target and authenticated before the move
                }
              } finally {
                Arrays.fill(sink, (byte) 0);
              }
            } catch (InvalidCiphertextIOException e) {
              throw e.getCause(); // a whole-file operation reports the rejection itself
            }
            copied[0] = head.length - fresh.payloadOffset() + tee.copied();
          });
      return new RewrapResult(old.keySlots(), fresh.keySlots(), copied[0]);
    }
  }

  /**
   * Returns {@code header} with its key slots replaced by wrappings of the same data key under this
   * instance's KEKs — for hosts that copy the payload themselves (e.g. an object-store copy; they
   * must authenticate what they copy). The header must pass {@code from} (context, and a slot under
   * one of its KEKs) before any KMS call; the data key is unwrapped and checked against the key
   * commitment; where a provider supports it, new slots are made by KMS re-encrypt of a slot under
   * {@code from}'s KEKs.
   *
   * @param header the blob's current header
   * @param from the KEKs the blob is wrapped under now, and the context it must carry
   * @return the header to write in front of the unchanged payload
   * @throws InvalidCiphertextException if the header fails {@code from}'s context or the commitment
   * @throws ByokConfigurationException if no slot names one of {@code from}'s KEKs
   * @throws IllegalArgumentException on a view, if {@code from} names a KEK that is not one of the
   *     view's own (a view also applies its own context check)
   * @throws ByokConfigurationException if this instance has no KEK to wrap under (no {@code
   *     encryptUnder}), before any KMS call
   */
  public EnvelopeHeader rewrapHeader(EnvelopeHeader header, ReadPolicy from) {
    Objects.requireNonNull(header, "header");
    ReadPolicy p = withinView(Objects.requireNonNull(from, "from"));
    requireEncryptionKeks();
    return rewrapHeader(header, policyResolver(p), p.keks());
  }

  private EnvelopeHeader rewrapHeader(
      EnvelopeHeader header, DataKeyResolver fromResolver, List<KeyRef> fromKeks) {
    DataKey dek = fromResolver.resolve(header); // checks the policy first, then the commitment
    try {
      return header.withKeySlots(newSlots(header, dek, fromKeks));
    } finally {
      if (dek.singleUse()) {
        dek.destroy();
      }
    }
  }

  /** Rewrap wraps under this instance's KEKs: without one, fail before any KMS call. */
  private void requireEncryptionKeks() {
    if (keks.isEmpty()) {
      throw new ByokConfigurationException(
          "rewrap needs KEKs to wrap under: build the instance with encryptUnder, or use forKeys");
    }
  }

  /** Passes reads through and copies every byte read to {@code out}. */
  private static final class CopyingInputStream extends java.io.FilterInputStream {
    private final OutputStream out;
    private long copied;

    CopyingInputStream(InputStream in, OutputStream out) {
      super(in);
      this.out = out;
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        out.write(b);
        copied++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, len);
      if (n > 0) {
        out.write(b, off, n);
        copied += n;
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      throw new IOException("rewrap copies every byte: skip is not supported");
    }

    @Override
    public boolean markSupported() {
      return false;
    }

    long copied() {
      return copied;
    }
  }

  private List<KeySlot> newSlots(EnvelopeHeader header, DataKey dek, List<KeyRef> fromKeks) {
    EncryptionContext ctx = header.encryptionContext();
    List<KeySlot> slots = new ArrayList<>(keks.size());
    for (KeyRef kek : keks) {
      KeyProvider p = keys.provider(kek.providerId());
      WrappedKey w = null;
      if (p.supportsReEncrypt()) {
        for (KeySlot s : header.keySlots()) {
          // key slots are not authenticated: re-encrypt only from a slot known to unwrap to this
          // data key
          if (s.providerId().equals(p.providerId()) && keys.unwrapsToDataKey(header, s, fromKeks)) {
            try {
              w =
                  keys.call(
                      "reEncrypt",
                      s.keyArn(),
                      () -> p.reEncrypt(s.keyArn(), s.wrappedKey(), kek.keyId(), ctx));
              break;
            } catch (KeyUnusableException
                | KmsUnavailableException
                | UnsupportedOperationException e) {
              // the old key may be the one being retired, or KMS cannot re-encrypt between these
              // two
              // keys (AWS: across Regions): fall back to wrapping the data key
            }
          }
        }
      }
      if (w == null) {
        byte[] material = dek.copyKeyMaterial();
        try {
          w = keys.call("encrypt", kek.keyId(), () -> p.encrypt(kek.keyId(), material, ctx));
        } finally {
          Arrays.fill(material, (byte) 0);
        }
      }
      keys.allowArn(w.keyArn());
      slots.add(KeySlot.of(p.providerId(), w.keyArn(), w.ciphertext()));
    }
    return slots;
  }

  // ------------------------------------------------------------------ NIO buffers and channels

  /**
   * Encrypts the remaining bytes of {@code src} (heap or direct) into {@code dst} at {@code
   * position} by positional writes, with no intermediate plaintext copy; see {@link
   * EnvelopeEncryptor#encrypt(ByteBuffer, FileChannel, long)} for the failure semantics (a failed
   * call never leaves an envelope that reads as complete). Thread-safe.
   *
   * @param src the plaintext; its position moves to its limit on success
   * @param dst receives the envelope; open for writing
   * @param position where the envelope starts in {@code dst}
   * @param context bound to the blob
   * @return envelope bytes written
   * @throws IOException if a write fails
   */
  public long encrypt(ByteBuffer src, FileChannel dst, long position, EncryptionContext context)
      throws IOException {
    return encryptNio(src, context, e -> e.encrypt(src, dst, position));
  }

  /**
   * Like {@link #encrypt(ByteBuffer, FileChannel, long, EncryptionContext)}, with the segments of
   * this one blob encrypted in parallel on {@code executor}, at most {@code parallelism} at once;
   * the output is the same as the sequential call's for the same salt and nonce prefix. See {@link
   * EnvelopeEncryptor#encrypt(ByteBuffer, FileChannel, long, Executor, int)}: the executor only
   * ever runs byok's cipher and write code, never a host callback, and no task outlives the call.
   *
   * @param src the plaintext; its position moves to its limit on success
   * @param dst receives the envelope; open for writing
   * @param position where the envelope starts in {@code dst}
   * @param context bound to the blob
   * @param executor runs the segment tasks
   * @param parallelism most segments in flight, {@code >= 1}
   * @return envelope bytes written
   * @throws IOException if a write fails or the executor rejects a task
   */
  public long encrypt(
      ByteBuffer src,
      FileChannel dst,
      long position,
      EncryptionContext context,
      Executor executor,
      int parallelism)
      throws IOException {
    Objects.requireNonNull(executor, "executor");
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be >= 1, was " + parallelism);
    }
    return encryptNio(src, context, e -> e.encrypt(src, dst, position, executor, parallelism));
  }

  /**
   * Encrypts the remaining bytes of {@code src} into {@code dst}, buffer to buffer with no
   * intermediate copy; see {@link EnvelopeEncryptor#encrypt(ByteBuffer, ByteBuffer)}. Size {@code
   * dst} with {@link #ciphertextLength}. Thread-safe.
   *
   * @param src the plaintext; its position moves to its limit on success
   * @param dst receives the envelope at its position
   * @param context bound to the blob
   * @return envelope bytes written
   * @throws IOException if the plaintext is too long for one blob ({@link BlobTooLargeException})
   */
  public long encrypt(ByteBuffer src, ByteBuffer dst, EncryptionContext context)
      throws IOException {
    return encryptNio(src, context, e -> e.encrypt(src, dst));
  }

  /**
   * Decrypts a whole envelope file into {@code dst} by positional reads; see {@link
   * EnvelopeDecryptor#decrypt(FileChannel, ByteBuffer, EncryptionContext)} (on any failure no
   * plaintext is left in {@code dst}). Thread-safe.
   *
   * @param source the envelope file; open for reading
   * @param dst receives the plaintext at its position
   * @param expected the required encryption context, or {@code null} for any
   * @return plaintext bytes written
   * @throws IOException if reading fails
   */
  public int decrypt(FileChannel source, ByteBuffer dst, @Nullable EncryptionContext expected)
      throws IOException {
    return decryptor.decrypt(source, dst, expected);
  }

  /**
   * Decrypts a whole envelope file into {@code dst} with its segments on {@code executor}, at most
   * {@code parallelism} at once; see {@link EnvelopeDecryptor#decrypt(FileChannel, ByteBuffer,
   * EncryptionContext, Executor, int)}. Thread-safe.
   *
   * @param source the envelope file; open for reading
   * @param dst receives the plaintext at its position
   * @param expected the required encryption context, or {@code null} for any
   * @param executor runs the segment tasks; never a host callback
   * @param parallelism most segments in flight, {@code >= 1}
   * @return plaintext bytes written
   * @throws IOException if reading fails or the executor rejects a task
   */
  public int decrypt(
      FileChannel source,
      ByteBuffer dst,
      @Nullable EncryptionContext expected,
      Executor executor,
      int parallelism)
      throws IOException {
    return decryptor.decrypt(source, dst, expected, executor, parallelism);
  }

  /**
   * Decrypts a whole envelope held in a buffer into {@code dst}; see {@link
   * EnvelopeDecryptor#decrypt(ByteBuffer, ByteBuffer, EncryptionContext)}. Thread-safe.
   *
   * @param envelope the envelope, exactly
   * @param dst receives the plaintext at its position
   * @param expected the required encryption context, or {@code null} for any
   * @return plaintext bytes written
   */
  public int decrypt(ByteBuffer envelope, ByteBuffer dst, @Nullable EncryptionContext expected) {
    return decryptor.decrypt(envelope, dst, expected);
  }

  /** One NIO encryption under the current data key. */
  @FunctionalInterface
  private interface NioCall {
    long run(EnvelopeEncryptor encryptor) throws IOException;
  }

  private long encryptNio(ByteBuffer src, EncryptionContext context, NioCall call)
      throws IOException {
    Objects.requireNonNull(src, "src");
    Objects.requireNonNull(context, "context");
    long length = src.remaining();
    ActiveDataKey.Admission a = keys.admit(keks, context, length);
    try {
      long written = call.run(a.encryptor(segmentSize));
      a.accept(length);
      return written;
    } finally {
      // a failed call keeps its reservation: some of its bytes may have been encrypted
      a.release();
    }
  }

  /**
   * Purges and zeroes every cached data key, discards every KMS answer still in flight, and refuses
   * every later use (with {@link ByokConfigurationException}). Idempotent. On a {@linkplain
   * #forKeys view} it does nothing: close the instance that was built.
   */
  @Override
  public void close() {
    if (owner) {
      keys.close();
    }
  }

  @Override
  public String toString() {
    return "Byok[encryptUnder="
        + keks
        + ", segmentSize="
        + segmentSize
        + (readPolicy == null ? "" : ", " + readPolicy)
        + ", "
        + keys
        + "]";
  }

  /**
   * Builds a {@link Byok}. Setters fail fast with a message naming the bad value. Not thread-safe.
   */
  public static final class Builder {
    private final DataKeyManager.Builder keys = DataKeyManager.builder();
    private final List<KeyRef> keks = new ArrayList<>();
    private int segmentSize = EnvelopeFormat.DEFAULT_SEGMENT_SIZE;
    private final List<String> providerIds = new ArrayList<>();

    private Builder() {}

    /**
     * Registers a KMS provider (several are allowed, with different ids).
     *
     * @param provider the provider
     * @return this builder
     */
    public Builder provider(KeyProvider provider) {
      keys.provider(provider);
      providerIds.add(provider.providerId());
      return this;
    }

    /**
     * Adds a KEK new blobs are encrypted under; the first generates data keys, each further one
     * adds a key slot (e.g. a multi-Region replica). At least one is required.
     *
     * @param kek the key reference
     * @return this builder
     */
    public Builder encryptUnder(KeyRef kek) {
      Objects.requireNonNull(kek, "kek");
      if (keks.size() == EnvelopeFormat.MAX_KEY_SLOTS) {
        throw new IllegalArgumentException("at most " + EnvelopeFormat.MAX_KEY_SLOTS + " KEKs");
      }
      keks.add(kek);
      return this;
    }

    /**
     * Adds a KEK by its string form, e.g. {@code aws-kms://alias/snapshots}.
     *
     * @param kek {@code <provider>://<key id>}
     * @return this builder
     */
    public Builder encryptUnder(String kek) {
      return encryptUnder(KeyRef.parse(kek));
    }

    /**
     * Sets the ciphertext segment size of new blobs.
     *
     * @param bytes ciphertext segment size (default {@value EnvelopeFormat#DEFAULT_SEGMENT_SIZE})
     * @return this builder
     */
    public Builder segmentSize(int bytes) {
      this.segmentSize = EnvelopeFormat.checkSegmentSize(bytes);
      return this;
    }

    /**
     * Sets when an encrypting data key is retired for a fresh one.
     *
     * @param policy when an encrypting data key retires
     * @return this builder
     */
    public Builder dataKeyPolicy(DataKeyPolicy policy) {
      keys.policy(policy);
      return this;
    }

    /**
     * Sizes the cache of unwrapped data keys used for decryption.
     *
     * @param maxEntries most unwrapped data keys cached for decryption
     * @param ttl how long each stays cached
     * @return this builder
     */
    public Builder decryptCache(long maxEntries, Duration ttl) {
      keys.decryptCacheSize(maxEntries).decryptCacheTtl(ttl);
      return this;
    }

    /**
     * Allows decrypting blobs under these key ARNs (exact, or prefixes ending in {@code *}) besides
     * the KEKs this instance encrypts under; see {@link DataKeyManager.Builder#allowKeys}.
     *
     * @param arnsOrPrefixes ARNs or prefixes
     * @return this builder
     */
    public Builder allowDecryptWith(String... arnsOrPrefixes) {
      keys.allowKeys(arnsOrPrefixes);
      return this;
    }

    /**
     * Allows decrypting blobs whose slot's key ARN satisfies the host's policy (for example a
     * lookup in the host's tenant registry); see {@link DataKeyManager.Builder#allowKeysMatching}.
     *
     * @param keyArnPolicy returns true for key ARNs the host trusts
     * @return this builder
     */
    public Builder allowDecryptWithKeysMatching(java.util.function.Predicate<String> keyArnPolicy) {
      keys.allowKeysMatching(keyArnPolicy);
      return this;
    }

    /**
     * Bounds the decrypt cache per KEK, so one tenant cannot evict the others; see {@link
     * DataKeyManager.Builder#decryptCachePerKek}.
     *
     * @param maxEntries most cached data keys per KEK, at least 1
     * @return this builder
     */
    public Builder decryptCachePerKek(long maxEntries) {
      keys.decryptCachePerKek(maxEntries);
      return this;
    }

    /**
     * Sets the order in which a header's key slots are tried when decrypting.
     *
     * @param order the order a header's slots are tried in
     * @return this builder
     */
    public Builder slotOrder(Comparator<KeySlot> order) {
      keys.slotOrder(order);
      return this;
    }

    /**
     * Sets the time source (tests pass a manual clock).
     *
     * @param clock time source for key age and cache expiry
     * @return this builder
     */
    public Builder clock(InstantSource clock) {
      keys.clock(clock);
      return this;
    }

    /**
     * Builds the instance. Without {@link #encryptUnder a KEK} the instance decrypts and makes
     * per-tenant views ({@link Byok#forKeys}); its own encrypt methods then fail with {@link
     * ByokConfigurationException}.
     *
     * @return the instance
     * @throws IllegalStateException if no provider is configured, or a KEK names a provider that is
     *     not registered
     */
    public Byok build() {
      if (providerIds.isEmpty()) {
        throw new IllegalStateException("a provider is required: builder().provider(...)");
      }
      for (KeyRef kek : keks) {
        if (!providerIds.contains(kek.providerId())) {
          throw new IllegalStateException(
              "KEK "
                  + kek
                  + " names provider '"
                  + kek.providerId()
                  + "', which is not registered (have "
                  + providerIds
                  + ")");
        }
      }
      keys.trustKeks(keks);
      DataKeyManager m = keys.build();
      return new Byok(m, List.copyOf(keks), segmentSize, m, true, null);
    }
  }
}
