package dev.byok;

import java.util.List;
import java.util.function.LongConsumer;
import org.jspecify.annotations.Nullable;

/**
 * The data key currently encrypting new blobs for one (KEK list, context), with its budget. Blobs
 * are admitted one at a time ({@link #admit}); each reserves its share of {@link DataKeyPolicy}'s
 * limits <em>at admission</em>, so concurrency cannot take a key past them:
 *
 * <ul>
 *   <li>{@code maxBlobs}: one per admitted blob, exactly;
 *   <li>{@code maxBytes}, blob of known length: its bytes are reserved at admission, and a blob
 *       that does not fit in what is left goes to a fresh key (a fresh key admits one blob of any
 *       length);
 *   <li>{@code maxBytes}, blob of unknown length: reserved as it is written; the write that takes
 *       the key to {@code maxBytes} seals it, and a sealed key admits nothing more. Only blobs
 *       already open when the key was sealed can carry it further.
 * </ul>
 *
 * <p>Thread-safe (its own monitor; no I/O under it). The key is zeroed once it is retired and its
 * last admitted blob has its derived key.
 */
final class ActiveDataKey {
  final DataKey key;
  final List<KeySlot> slots;
  final EncryptionContext context;
  private final long createdNanos;
  private long blobs;
  private long bytes;
  private int users;
  private boolean retired;
  private boolean sealed;
  private boolean discarded;
  private @Nullable EnvelopeEncryptor encryptor;

  ActiveDataKey(DataKey key, List<KeySlot> slots, EncryptionContext context, long createdNanos) {
    this.key = key;
    this.slots = slots;
    this.context = context;
    this.createdNanos = createdNanos;
  }

  /**
   * Admits one blob, reserving its budget; {@code null} if this key is retired, sealed, too old, or
   * has no room for it.
   *
   * @param knownLength the blob's plaintext length, or -1 if unknown
   */
  synchronized @Nullable Admission admit(long nowNanos, DataKeyPolicy p, long knownLength) {
    if (retired
        || sealed
        || blobs >= p.maxBlobs()
        || bytes >= p.maxBytes()
        || nowNanos - createdNanos >= p.maxAge().toNanos()) {
      return null;
    }
    long reserve = Math.max(0, knownLength);
    if (blobs > 0 && reserve > p.maxBytes() - bytes) {
      return null; // does not fit in what is left: a fresh key takes it
    }
    blobs++;
    bytes += reserve;
    users++;
    return new Admission(this, p, reserve);
  }

  synchronized EnvelopeEncryptor encryptor(int segmentSize) {
    EnvelopeEncryptor e = encryptor;
    if (e == null || e.segmentSize() != segmentSize) {
      e =
          EnvelopeEncryptor.builder()
              .dataKey(key)
              .keySlots(slots)
              .encryptionContext(context)
              .segmentSize(segmentSize)
              .build();
      encryptor = e;
    }
    return e;
  }

  private synchronized void reserveMore(long n, DataKeyPolicy p) {
    bytes += n;
    if (bytes >= p.maxBytes()) {
      sealed = true;
    }
  }

  private synchronized void cancel(long reserved) {
    blobs--;
    bytes -= reserved;
  }

  private synchronized void release() {
    users--;
    if (retired && users == 0) {
      key.destroy();
    }
  }

  /** Whether this key is past {@code p}'s maximum age at {@code nowNanos}. */
  boolean expired(long nowNanos, DataKeyPolicy p) {
    return nowNanos - createdNanos >= p.maxAge().toNanos();
  }

  synchronized void retire() {
    retired = true;
    if (users == 0) {
      key.destroy();
    }
  }

  /** Retires a key whose generation a revocation overtook: it admits no blob at all. */
  synchronized void discard() {
    discarded = true;
    retire();
  }

  synchronized boolean discarded() {
    return discarded;
  }

  synchronized long blobs() {
    return blobs;
  }

  synchronized long bytes() {
    return bytes;
  }

  boolean uses(String keyArn) {
    for (KeySlot s : slots) {
      if (s.keyArn().equals(keyArn)) {
        return true;
      }
    }
    return false;
  }

  /**
   * One admitted blob: its reservation, topped up as the blob is written ({@link #wrote}) and
   * settled when it completes ({@link #accept}, the encryptor's completion callback, with the
   * blob's total plaintext bytes). {@link #release} once the blob has its derived key.
   */
  static final class Admission implements LongConsumer {
    private final ActiveDataKey active;
    private final DataKeyPolicy policy;
    private long reserved;
    private boolean released;

    private Admission(ActiveDataKey active, DataKeyPolicy policy, long reserved) {
      this.active = active;
      this.policy = policy;
      this.reserved = reserved;
    }

    ActiveDataKey active() {
      return active;
    }

    EnvelopeEncryptor encryptor(int segmentSize) {
      return active.encryptor(segmentSize);
    }

    /** {@code total} plaintext bytes of this blob are written so far: reserve what is new. */
    synchronized void wrote(long total) {
      if (total > reserved) {
        active.reserveMore(total - reserved, policy);
        reserved = total;
      }
    }

    /** The blob completed with {@code total} plaintext bytes. */
    @Override
    public void accept(long total) {
      wrote(total);
    }

    /** Gives the reservation back: no blob was encrypted (a length query). */
    synchronized void cancel() {
      active.cancel(reserved);
      reserved = 0;
    }

    /** The blob has its derived key; the data key may be zeroed once retired. Idempotent. */
    synchronized void release() {
      if (!released) {
        released = true;
        active.release();
      }
    }
  }
}
