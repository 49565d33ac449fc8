package dev.byok.internal;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.NoSuchPaddingException;
import javax.crypto.SecretKey;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * AES-256-GCM over one blob's segments: the derived key and the 7-byte nonce prefix are fixed, the
 * nonce of segment {@code i} is {@code prefix || uint32be(i) || last}. Decryption is one {@code
 * doFinal} per segment; encryption of more than {@value #UPDATE_CHUNK} bytes goes through {@code
 * update} calls of that size so the JIT-compiled GCM intrinsic engages early. A push or pull stream
 * can also seal a segment over several calls ({@link #sealBegin}), from its two pieces ({@link
 * #encrypt(long, boolean, byte[], int, int, byte[], int, int, byte[], int)}), or in place.
 *
 * <p>Residue: an instance takes a JCA cipher from a small shared pool at its first segment and
 * keeps it until {@link #close()}, which re-keys it under a fixed public key before it goes back,
 * so no blob key's schedule outlives the stream that used it (the streams close their cipher on
 * {@code close()} and when their final segment is done). The cost is one AES key set-up per stream,
 * not one per segment. A cipher of an instance that is never closed is not pooled again.
 *
 * <p>After {@link #close()} the derived key is zeroed and the instance refuses further segments
 * ({@link IllegalStateException}). A {@code close()} that races a segment on another thread never
 * pools the cipher while that segment still uses it: the segment holds the cipher exclusively and
 * re-keys and returns it itself when it sees the instance closed.
 *
 * <p>Not thread-safe: one instance per stream (only {@code close()} may race a segment). There is
 * no per-thread cipher cache, which would grow with every virtual thread that ever encrypted.
 */
public final class SegmentCipher {
  static final int UPDATE_CHUNK = 64 * 1024;
  private static final int TAG_BITS = 128;

  /** Most idle ciphers kept; more concurrent operations than this create (and drop) their own. */
  static final int POOL_MAX = Math.max(8, 4 * Runtime.getRuntime().availableProcessors());

  private static final ConcurrentLinkedQueue<Cipher> POOL = new ConcurrentLinkedQueue<>();
  private static final AtomicInteger POOLED = new AtomicInteger();

  private final BlobKey key;
  private final byte[] noncePrefix;
  // taken from the pool by the first segment, back on close(); null while a segment holds it
  private final AtomicReference<@Nullable Cipher> owned = new AtomicReference<>();
  private volatile boolean closed;

  public SegmentCipher(byte[] derivedKey, byte[] noncePrefix) {
    if (derivedKey.length != 32 || noncePrefix.length != SegmentLayout.NONCE_PREFIX_LENGTH) {
      throw new IllegalArgumentException("bad key or nonce prefix length");
    }
    this.key = new BlobKey(derivedKey);
    this.noncePrefix = noncePrefix.clone();
    giveBack(borrow()); // fails at construction, not at the first segment, if AES-GCM is missing
  }

  private SegmentCipher(SegmentCipher of) {
    byte[] material = of.key.getEncoded(); // a copy: each instance zeroes its own on close
    try {
      this.key = new BlobKey(material);
    } finally {
      Arrays.fill(material, (byte) 0);
    }
    this.noncePrefix = of.noncePrefix;
  }

  /**
   * A new instance with the same key and nonce prefix, for another thread working on other segments
   * of the same blob (instances are not thread-safe). It holds its own pooled cipher: close it too.
   *
   * @return the sibling
   */
  public SegmentCipher sibling() {
    return new SegmentCipher(this);
  }

  private static Cipher borrow() {
    Cipher c = POOL.poll();
    if (c == null) {
      return newCipher();
    }
    POOLED.decrementAndGet();
    return c;
  }

  /** A fixed, public key an idle cipher is left under, so no blob's key schedule lingers. */
  private static final SecretKeySpec SCRUB_KEY = new SecretKeySpec(new byte[32], "AES");

  /**
   * Scrubbing inits in encrypt mode (decrypt mode would leave the JDK's copy of the last encryption
   * key in the cipher), so each scrub needs an IV not used before under {@link #SCRUB_KEY}.
   */
  private static final AtomicLong SCRUB_COUNTER = new AtomicLong();

  private static GCMParameterSpec scrubIv() {
    byte[] iv = new byte[12];
    long n = SCRUB_COUNTER.incrementAndGet();
    for (int i = 0; i < 8; i++) {
      iv[11 - i] = (byte) (n >>> (8 * i));
    }
    return new GCMParameterSpec(TAG_BITS, iv);
  }

  private static void giveBack(Cipher c) {
    if (POOLED.incrementAndGet() <= POOL_MAX) {
      POOL.offer(c);
    } else {
      POOLED.decrementAndGet();
    }
  }

  /** Takes the cipher exclusively for one segment; give it back with {@link #release}. */
  private Cipher take() {
    if (closed) {
      throw new IllegalStateException("this segment cipher is closed");
    }
    Cipher c = owned.getAndSet(null);
    return c != null ? c : borrow();
  }

  private void release(Cipher c) {
    park(owned, c, SegmentCipher::scrubAndPool);
  }

  /**
   * Puts {@code item} back in {@code slot} for the next segment, or disposes of it if this instance
   * is closed (or the slot is taken); if {@link #close()} ran between the check and the set,
   * whichever of the two takes it back disposes of it.
   */
  private <T> void park(AtomicReference<@Nullable T> slot, T item, Consumer<T> dispose) {
    if (closed || !slot.compareAndSet(null, item)) {
      dispose.accept(item);
    } else if (closed) {
      T again = slot.getAndSet(null);
      if (again != null) {
        dispose.accept(again);
      }
    }
  }

  private static void scrubAndPool(Cipher c) {
    if (scrub(c)) {
      giveBack(c);
    }
  }

  /**
   * Re-keys the cipher this instance holds under a fixed public key and returns it to the pool, so
   * the blob key's schedule does not outlive the stream. Idempotent; a later segment takes a cipher
   * no longer be used: the derived key is zeroed and a later segment throws {@link
   * IllegalStateException}. A cipher that cannot be re-keyed is dropped, not pooled.
   */
  public void close() {
    closed = true;
    key.destroy();
    Cipher inProgress = sealing.getAndSet(null);
    if (inProgress != null) {
      scrubAndPool(inProgress);
    }
    Cipher c = owned.getAndSet(null);
    if (c != null) {
      scrubAndPool(c);
    }
    Bounce b = bounce.getAndSet(null);
    if (b != null) {
      b.wipe();
    }
  }

  /** Test hook: whether a segment sealed over several calls still holds a cipher. */
  boolean sealingHeld() {
    return sealing.get() != null;
  }

  /** Test hook: whether the derived key has been zeroed. */
  boolean keyDestroyed() {
    return key.isDestroyed();
  }

  private static boolean scrub(Cipher c) {
    try {
      // encrypt mode with a fresh IV: replaces the key schedule and the JDK's last-key copy
      c.init(Cipher.ENCRYPT_MODE, SCRUB_KEY, scrubIv());
      return true;
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  /**
   * Re-keys every idle pooled cipher under a fixed public key, so no blob key's schedule stays in
   * one. Called when data keys are purged (invalidate, lock, close): a blob key's schedule then
   * lives no longer than its data key. Not done on every return to the pool, where the extra AES
   * key expansion doubled the cost of a small blob. A cipher that cannot be re-keyed is dropped.
   */
  public static void scrubIdle() {
    for (int n = POOLED.get(); n > 0; n--) {
      Cipher c = POOL.poll();
      if (c == null) {
        return;
      }
      POOLED.decrementAndGet();
      if (scrub(c)) {
        giveBack(c); // one that cannot be scrubbed is dropped rather than pooled with a key in it
      }
    }
  }

  /** Test hook: the idle ciphers themselves (not removed from the pool). */
  static java.util.List<Cipher> pooledCiphers() {
    return java.util.List.copyOf(POOL);
  }

  /** Test hook: idle ciphers in the pool. */
  static int pooled() {
    return POOLED.get();
  }

  private static Cipher newCipher() {
    try {
      return Cipher.getInstance("AES/GCM/NoPadding");
    } catch (NoSuchPaddingException | java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("AES/GCM/NoPadding is not available in this JRE", e);
    }
  }

  /**
   * The nonce of one segment, built per call in a fresh array (GCMParameterSpec copies it again):
   * no nonce state is shared between calls, so nothing can leak one segment's nonce into another.
   */
  private GCMParameterSpec spec(long segment, byte lastFlag) {
    if (segment < 0 || segment >= SegmentLayout.MAX_SEGMENTS) {
      throw new IllegalArgumentException("segment number out of range: " + segment);
    }
    byte[] nonce = Arrays.copyOf(noncePrefix, 12);
    nonce[7] = (byte) (segment >>> 24);
    nonce[8] = (byte) (segment >>> 16);
    nonce[9] = (byte) (segment >>> 8);
    nonce[10] = (byte) segment;
    nonce[11] = lastFlag;
    return new GCMParameterSpec(TAG_BITS, nonce);
  }

  /** Encrypts one segment; returns the ciphertext length ({@code len + 16}). */
  public int encrypt(
      long segment, boolean last, byte[] in, int off, int len, byte[] out, int outOff) {
    return encrypt(segment, flag(last), in, off, len, out, outOff);
  }

  private static byte flag(boolean last) {
    return (byte) (last ? 1 : 0);
  }

  /** Test hook (known-answer vectors): the nonce's last byte is {@code lastFlag}, any value. */
  int encrypt(long segment, byte lastFlag, byte[] in, int off, int len, byte[] out, int outOff) {
    Cipher cipher = take();
    try {
      cipher.init(Cipher.ENCRYPT_MODE, key, spec(segment, lastFlag));
      return seal(cipher, in, off, len, out, outOff);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM encryption failed", e);
    } finally {
      release(cipher);
    }
  }

  /**
   * Encrypts one segment whose plaintext is {@code a[aOff, aOff+aLen)} followed by {@code b[bOff,
   * bOff+bLen)}, without first joining the two pieces in one array (a push stream completes its
   * buffered head with the caller's bytes this way). The ciphertext is {@code aLen + bLen + 16}
   * bytes at {@code out[outOff]}, identical to {@link #encrypt(long, boolean, byte[], int, int,
   * byte[], int)} over the joined plaintext. {@code out} must not overlap either input.
   *
   * @return the ciphertext length
   */
  public int encrypt(
      long segment,
      boolean last,
      byte[] a,
      int aOff,
      int aLen,
      byte[] b,
      int bOff,
      int bLen,
      byte[] out,
      int outOff) {
    Cipher cipher = take();
    try {
      cipher.init(Cipher.ENCRYPT_MODE, key, spec(segment, flag(last)));
      int written = update(cipher, a, aOff, aLen, out, outOff);
      written += update(cipher, b, bOff, bLen, out, outOff + written);
      return written + cipher.doFinal(out, outOff + written);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM encryption failed", e);
    } finally {
      release(cipher);
    }
  }

  /**
   * Encrypts {@code len} bytes with an initialised cipher: {@code update} calls of {@value
   * #UPDATE_CHUNK} bytes, then {@code doFinal} on the rest (at least one byte unless {@code len} is
   * 0); returns the bytes written, tag included.
   */
  private static int seal(Cipher cipher, byte[] in, int off, int len, byte[] out, int outOff)
      throws GeneralSecurityException {
    int head = len > UPDATE_CHUNK ? (len - 1) / UPDATE_CHUNK * UPDATE_CHUNK : 0;
    int written = update(cipher, in, off, head, out, outOff);
    return written + cipher.doFinal(in, off + head, len - head, out, outOff + written);
  }

  /** {@code cipher.update} in chunks of {@value #UPDATE_CHUNK}; returns the bytes written. */
  private static int update(Cipher cipher, byte[] in, int off, int len, byte[] out, int outOff)
      throws GeneralSecurityException {
    int done = 0;
    int written = 0;
    while (done < len) {
      int n = Math.min(UPDATE_CHUNK, len - done);
      written += cipher.update(in, off + done, n, out, outOff + written);
      done += n;
    }
    return written;
  }

  /**
   * Recovers the plaintext of a segment sealed as not-last ({@link #sealBegin}) from its ciphertext
   * {@code ct[off, off+len)} (tag excluded), so that it can be encrypted again as the last segment.
   * GCM's data keystream is AES-CTR from {@code nonce || 0x00000002} (NIST SP 800-38D, 96-bit IV),
   * so this is one AES-CTR pass in {@value #UPDATE_CHUNK}-byte steps: no tag check is needed for
   * ciphertext this instance has just produced, and no large GCM decryption runs while cold. The
   * CTR cipher is re-keyed under a public key before it is dropped.
   */
  public void recoverSealed(long segment, byte[] ct, int off, int len, byte[] out, int outOff) {
    if (closed) {
      throw new IllegalStateException("this segment cipher is closed");
    }
    byte[] counter = Arrays.copyOf(spec(segment, flag(false)).getIV(), 16);
    counter[15] = 2;
    Cipher ctr;
    try {
      ctr = Cipher.getInstance("AES/CTR/NoPadding");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES/CTR/NoPadding is not available in this JRE", e);
    }
    try {
      ctr.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(counter));
      int done = update(ctr, ct, off, len, out, outOff);
      done += ctr.doFinal(out, outOff + done);
      if (done != len) {
        throw new IllegalStateException("AES-CTR returned " + done + " of " + len + " bytes");
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-CTR failed", e);
    } finally {
      try {
        ctr.init(Cipher.ENCRYPT_MODE, SCRUB_KEY, new IvParameterSpec(counter));
      } catch (GeneralSecurityException | RuntimeException ignored) {
        // dropped either way; nothing more can be done for it
      }
    }
  }

  // A segment sealed over several calls (a push stream that encrypts each write as it arrives);
  // holds the cipher between calls. Single-threaded use only.
  private final AtomicReference<@Nullable Cipher> sealing = new AtomicReference<>();

  /**
   * Begins sealing segment {@code segment} as a segment that is <em>not</em> the last, so that
   * plaintext can be encrypted as it arrives ({@link #sealUpdate}) instead of being buffered first.
   * If the segment turns out to be the last after all, the caller finishes it ({@link
   * #sealFinish}), recovers the plaintext with {@link #decrypt(long, boolean, byte[], int, int,
   * byte[], int)} and encrypts it again as the last segment: that ciphertext under the not-last
   * nonce is discarded and never written, so no nonce ever covers two plaintexts. Holds this
   * instance's cipher until {@link #sealFinish} or {@link #close()}. Not for instances shared
   * between threads.
   *
   * @param segment the segment number
   */
  public void sealBegin(long segment) {
    sealBegin(segment, false);
  }

  /**
   * Begins sealing segment {@code segment} over several calls ({@link #sealUpdate}, {@link
   * #sealFinish}) when whether it is the last is already known: a pull stream that has read a
   * segment's plaintext encrypts it straight into its caller's arrays this way. Holds this
   * instance's cipher until {@link #sealFinish}, a failed {@link #sealUpdate} or {@link #close()}.
   *
   * @param segment the segment number
   * @param last whether this is the blob's final segment
   */
  public void sealBegin(long segment, boolean last) {
    if (sealing.get() != null) {
      throw new IllegalStateException("a segment is already being sealed");
    }
    Cipher cipher = take();
    try {
      cipher.init(Cipher.ENCRYPT_MODE, key, spec(segment, flag(last)));
    } catch (GeneralSecurityException | RuntimeException e) {
      release(cipher);
      throw e instanceof GeneralSecurityException
          ? new IllegalStateException("AES-GCM init failed", e)
          : (RuntimeException) e;
    }
    putBackSealing(cipher);
  }

  /** Takes the sealing cipher exclusively for one call. */
  private Cipher takeSealing() {
    Cipher cipher = closed ? null : sealing.getAndSet(null);
    if (cipher == null) {
      throw new IllegalStateException("no segment is being sealed");
    }
    return cipher;
  }

  /**
   * Puts the sealing cipher back after a call; if {@link #close()} ran meanwhile (it found no
   * cipher to scrub), whichever of us takes it back scrubs it.
   */
  private void putBackSealing(Cipher cipher) {
    sealing.set(cipher);
    if (closed) {
      Cipher again = sealing.getAndSet(null);
      if (again != null) {
        scrubAndPool(again);
      }
    }
  }

  /**
   * Encrypts the next {@code len} plaintext bytes of the segment begun by {@link #sealBegin} into
   * {@code out[outOff]}; returns the ciphertext bytes written (a partial AES block waits for the
   * next call, so this can be up to 15 bytes fewer than {@code len}).
   *
   * @return the ciphertext bytes written
   */
  public int sealUpdate(byte[] in, int off, int len, byte[] out, int outOff) {
    Cipher cipher = takeSealing();
    boolean ok = false;
    try {
      int n = update(cipher, in, off, len, out, outOff);
      ok = true;
      return n;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM encryption failed", e);
    } finally {
      if (ok) {
        putBackSealing(cipher);
      } else {
        scrubAndPool(cipher); // the segment cannot go on; its key schedule goes now
      }
    }
  }

  /**
   * Ends the segment begun by {@link #sealBegin}: writes the rest of its ciphertext and its tag at
   * {@code out[outOff]} and lets the cipher go.
   *
   * @return the bytes written
   */
  public int sealFinish(byte[] out, int outOff) {
    Cipher cipher = takeSealing();
    try {
      return cipher.doFinal(out, outOff);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM encryption failed", e);
    } finally {
      release(cipher);
    }
  }

  /**
   * Decrypts and authenticates one segment; returns the plaintext length ({@code len - 16}). When
   * authentication fails nothing written to {@code out} may be used: the region is zeroed.
   *
   * @throws AEADBadTagException if the segment does not authenticate under this nonce
   */
  public int decrypt(
      long segment, boolean last, byte[] in, int off, int len, byte[] out, int outOff)
      throws AEADBadTagException {
    return decrypt(segment, flag(last), in, off, len, out, outOff);
  }

  /** Test hook (known-answer vectors): the nonce's last byte is {@code lastFlag}, any value. */
  int decrypt(long segment, byte lastFlag, byte[] in, int off, int len, byte[] out, int outOff)
      throws AEADBadTagException {
    Cipher cipher = take();
    try {
      cipher.init(Cipher.DECRYPT_MODE, key, spec(segment, lastFlag));
      return cipher.doFinal(in, off, len, out, outOff);
    } catch (AEADBadTagException e) {
      Arrays.fill(
          out,
          outOff,
          Math.min(out.length, outOff + Math.max(0, len - SegmentLayout.TAG_LENGTH)),
          (byte) 0);
      throw e;
    } catch (InvalidKeyException | InvalidAlgorithmParameterException e) {
      throw new IllegalStateException("AES-GCM init failed", e);
    } catch (GeneralSecurityException e) {
      // ShortBufferException / IllegalBlockSize: a segment shorter than a tag
      AEADBadTagException bad = new AEADBadTagException("segment too short: " + len + " bytes");
      bad.initCause(e);
      throw bad;
    } finally {
      release(cipher);
    }
  }

  /**
   * The derived key, zeroed by {@link #destroy()} (a {@code SecretKeySpec} cannot be). {@code
   * getEncoded} hands out a copy, as the JCA contract asks.
   */
  private static final class BlobKey implements SecretKey {
    private static final long serialVersionUID = 1L;
    private final byte[] material;
    private volatile boolean destroyed;

    BlobKey(byte[] material) {
      this.material = material.clone();
    }

    @Override
    public String getAlgorithm() {
      return "AES";
    }

    @Override
    public String getFormat() {
      return "RAW";
    }

    @Override
    public byte[] getEncoded() {
      if (destroyed) {
        throw new IllegalStateException("the segment key is destroyed");
      }
      return material.clone();
    }

    @Override
    public void destroy() {
      destroyed = true;
      Arrays.fill(material, (byte) 0);
    }

    @Override
    public boolean isDestroyed() {
      return destroyed;
    }

    @Override
    public String toString() {
      return "BlobKey[AES-256, redacted]";
    }
  }

  /**
   * Encrypts the remaining bytes of {@code in} (one segment) into {@code out}, heap or direct; both
   * positions advance. Heap buffers go to the cipher as their arrays. A direct (or read-only)
   * buffer is moved through a heap chunk of this instance of up to {@value #UPDATE_CHUNK} bytes,
   * because SunJCE's AES-GCM takes a direct buffer 512 bytes per intrinsic call (JDK 17 to 25) and
   * is slower for it (docs/benchmarks.md); the chunk is encrypted in place, so it holds only
   * ciphertext afterwards.
   *
   * @return the ciphertext length ({@code in.remaining() + 16})
   * @throws IllegalArgumentException if {@code out} has less than {@code in.remaining() + 16} bytes
   *     left (nothing moves)
   */
  public int encrypt(long segment, boolean last, ByteBuffer in, ByteBuffer out) {
    int len = in.remaining();
    if (out.remaining() < len + SegmentLayout.TAG_LENGTH) {
      throw new IllegalArgumentException(
          "output has " + out.remaining() + " bytes left, the segment needs " + (len + 16));
    }
    Bounce b = in.hasArray() && out.hasArray() ? null : takeBounce();
    boolean ok = false;
    Cipher cipher = take();
    try {
      cipher.init(Cipher.ENCRYPT_MODE, key, spec(segment, flag(last)));
      int written =
          b == null ? encryptArrays(cipher, in, out, len) : encryptBounced(cipher, b, in, out, len);
      ok = true;
      return written;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM encryption failed", e);
    } finally {
      release(cipher);
      if (b != null) {
        if (!ok) {
          b.wipeChunk(); // may hold plaintext of the piece that failed
        }
        releaseBounce(b);
      }
    }
  }

  private static int encryptArrays(Cipher cipher, ByteBuffer in, ByteBuffer out, int len)
      throws GeneralSecurityException {
    int written =
        seal(
            cipher,
            in.array(),
            in.arrayOffset() + in.position(),
            len,
            out.array(),
            out.arrayOffset() + out.position());
    in.position(in.position() + len);
    out.position(out.position() + written);
    return written;
  }

  private static int encryptBounced(Cipher cipher, Bounce b, ByteBuffer in, ByteBuffer out, int len)
      throws GeneralSecurityException {
    int inAt = in.position();
    int outAt = out.position();
    int done = 0;
    int written = 0;
    while (true) {
      int n = Math.min(UPDATE_CHUNK, len - done);
      // SunJCE returns n bytes per update and n + 16 at the end; a provider that holds input back
      // (SunPKCS11 returns everything from doFinal) gets a chunk as large as it asks for
      byte[] chunk = b.chunk(Math.max(n, cipher.getOutputSize(n)));
      byte[] src = chunk;
      int srcOff = 0;
      if (in.hasArray()) {
        src = in.array();
        srcOff = in.arrayOffset() + inAt + done;
      } else {
        in.get(inAt + done, chunk, 0, n);
      }
      boolean lastPiece = done + n == len;
      int w =
          lastPiece
              ? cipher.doFinal(src, srcOff, n, chunk, 0)
              : cipher.update(src, srcOff, n, chunk, 0);
      if (src == chunk && w < n) {
        Arrays.fill(chunk, w, n, (byte) 0); // plaintext the provider held back, not overwritten
      }
      if (out.hasArray()) {
        System.arraycopy(chunk, 0, out.array(), out.arrayOffset() + outAt + written, w);
      } else {
        out.put(outAt + written, chunk, 0, w);
      }
      written += w;
      done += n;
      if (lastPiece) {
        break;
      }
    }
    in.position(inAt + len);
    out.position(outAt + written);
    return written;
  }

  /**
   * Decrypts and authenticates the remaining bytes of {@code in} (one segment) into {@code out};
   * both positions advance. A direct buffer on either side is moved through a segment-sized heap
   * array of this instance (see {@link #encrypt(long, boolean, ByteBuffer, ByteBuffer)}); the
   * plaintext one is zeroed by {@link #close()}. When authentication fails nothing written to
   * {@code out} may be used: the region is zeroed and {@code out}'s position is left where it was.
   *
   * @return the plaintext length
   * @throws AEADBadTagException if the segment does not authenticate under this nonce
   */
  public int decrypt(long segment, boolean last, ByteBuffer in, ByteBuffer out)
      throws AEADBadTagException {
    int inStart = in.position();
    int outStart = out.position();
    int len = in.remaining();
    Bounce b = in.hasArray() && out.hasArray() ? null : takeBounce();
    Cipher cipher = take();
    try {
      cipher.init(Cipher.DECRYPT_MODE, key, spec(segment, flag(last)));
      return b == null ? cipher.doFinal(in, out) : decryptBounced(cipher, b, in, out, len);
    } catch (AEADBadTagException e) {
      wipe(out, outStart, len - SegmentLayout.TAG_LENGTH);
      in.position(inStart);
      throw e;
    } catch (InvalidKeyException | InvalidAlgorithmParameterException e) {
      throw new IllegalStateException("AES-GCM init failed", e);
    } catch (GeneralSecurityException e) {
      wipe(out, outStart, len - SegmentLayout.TAG_LENGTH);
      in.position(inStart);
      AEADBadTagException bad = new AEADBadTagException("segment too short: " + len + " bytes");
      bad.initCause(e);
      throw bad;
    } finally {
      release(cipher);
      if (b != null) {
        releaseBounce(b);
      }
    }
  }

  private static int decryptBounced(Cipher cipher, Bounce b, ByteBuffer in, ByteBuffer out, int len)
      throws GeneralSecurityException {
    if (out.remaining() < len - SegmentLayout.TAG_LENGTH) {
      throw new ShortBufferException(
          "output has " + out.remaining() + " bytes left, the segment needs " + (len - 16));
    }
    byte[] ct;
    int ctOff;
    if (in.hasArray()) {
      ct = in.array();
      ctOff = in.arrayOffset() + in.position();
    } else {
      ct = b.ciphertext(len);
      ctOff = 0;
      in.get(in.position(), ct, 0, len);
    }
    int n;
    if (out.hasArray()) {
      n = cipher.doFinal(ct, ctOff, len, out.array(), out.arrayOffset() + out.position());
    } else {
      byte[] pt = b.plaintext(len);
      try {
        n = cipher.doFinal(ct, ctOff, len, pt, 0);
      } catch (GeneralSecurityException e) {
        Arrays.fill(pt, 0, len, (byte) 0); // SunJCE zeroes it itself; not every provider does
        throw e;
      }
      out.put(out.position(), pt, 0, n);
    }
    in.position(in.position() + len);
    out.position(out.position() + n);
    return n;
  }

  /**
   * The heap arrays direct buffers are moved through, held like the cipher: exclusively by one
   * segment at a time, zeroed by whichever of {@link #close()} and that segment comes last.
   */
  private static final class Bounce {
    private byte @Nullable [] chunk;
    private byte @Nullable [] ct;
    private byte @Nullable [] pt;

    /** The encryption chunk, at least {@code len} bytes (plus room for a tag and a held block). */
    byte[] chunk(int len) {
      int need = len + 2 * SegmentLayout.TAG_LENGTH;
      // small blobs get a small chunk; anything larger the usual 64 KiB at once, not twice
      chunk =
          fit(
              chunk,
              need,
              len < 4096 ? need : Math.max(need, UPDATE_CHUNK + 2 * SegmentLayout.TAG_LENGTH));
      return chunk;
    }

    void wipeChunk() {
      if (chunk != null) {
        Arrays.fill(chunk, (byte) 0);
      }
    }

    byte[] ciphertext(int len) {
      ct = fit(ct, len, roundUp(len));
      return ct;
    }

    byte[] plaintext(int len) {
      pt = fit(pt, len, roundUp(len));
      return pt;
    }

    /**
     * {@code a} if it holds {@code need} bytes, else a new array of {@code size}; {@code a} zeroed.
     */
    private static byte[] fit(byte @Nullable [] a, int need, int size) {
      if (a != null && a.length >= need) {
        return a;
      }
      if (a != null) {
        Arrays.fill(a, (byte) 0);
      }
      return new byte[size];
    }

    /**
     * Segment-sized arrays are rounded up to a multiple of 4 KiB: the first segment is shorter by
     * the payload header, and the second would otherwise allocate them again.
     */
    private static int roundUp(int len) {
      return len > Integer.MAX_VALUE - 4096 ? len : (len + 4095) & ~4095;
    }

    void wipe() {
      wipeChunk();
      if (pt != null) {
        Arrays.fill(pt, (byte) 0);
      }
    }
  }

  private final AtomicReference<@Nullable Bounce> bounce = new AtomicReference<>();

  private Bounce takeBounce() {
    Bounce b = bounce.getAndSet(null);
    return b != null ? b : new Bounce();
  }

  private void releaseBounce(Bounce b) {
    park(bounce, b, Bounce::wipe);
  }

  /** Test hook: the bounce arrays this instance holds ({@code [chunk, plaintext]}), or null. */
  byte @Nullable [] @Nullable [] bounceArrays() {
    Bounce b = bounce.get();
    return b == null ? null : new byte[][] {b.chunk, b.pt};
  }

  private static void wipe(ByteBuffer out, int from, int len) {
    int end = Math.min(out.limit(), from + Math.max(0, len));
    for (int i = from; i < end; i++) {
      out.put(i, (byte) 0);
    }
    out.position(from);
  }
}
