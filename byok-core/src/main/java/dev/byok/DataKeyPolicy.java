package dev.byok;

import java.time.Duration;
import java.util.Objects;

/**
 * How long one data key keeps encrypting new blobs before byok asks the KMS for a fresh one: the
 * first of {@link #maxAge()}, {@link #maxBlobs()} or {@link #maxBytes()} to trip retires it. Every
 * blob has its own random HKDF salt, so reuse is safe cryptographically; the limits bound blast
 * radius and KMS cost. {@link #noReuse()} makes one KMS call per blob.
 *
 * <p>The limits are reserved when a blob is admitted, so no concurrency takes a data key past them:
 * {@code maxBlobs} is exact; a blob of known length (an encrypting input stream with a length, a
 * file) reserves its bytes up front and goes to a fresh data key if they do not fit in what is left
 * (a fresh key takes one blob of any length); a blob of unknown length (a push stream, a pull
 * stream without a length) reserves its bytes as they are written, and the write that reaches
 * {@code maxBytes} seals the data key — no blob is admitted to it afterwards, so only blobs already
 * open then can carry it further.
 *
 * <p>Defaults: 5 minutes, 1,048,576 blobs, 1 TiB. Immutable and thread-safe.
 */
public final class DataKeyPolicy {
  /** Default maximum age of an encrypting data key. */
  public static final Duration DEFAULT_MAX_AGE = Duration.ofMinutes(5);

  /** Default maximum number of blobs per data key. */
  public static final long DEFAULT_MAX_BLOBS = 1L << 20;

  /** Default maximum plaintext bytes per data key. */
  public static final long DEFAULT_MAX_BYTES = 1L << 40;

  private static final DataKeyPolicy DEFAULTS = new Builder().build();

  private final Duration maxAge;
  private final long maxBlobs;
  private final long maxBytes;

  private DataKeyPolicy(Builder b) {
    this.maxAge = b.maxAge;
    this.maxBlobs = b.maxBlobs;
    this.maxBytes = b.maxBytes;
  }

  /** {@return the defaults} */
  public static DataKeyPolicy defaults() {
    return DEFAULTS;
  }

  /** {@return a policy that uses every data key for exactly one blob} */
  public static DataKeyPolicy noReuse() {
    return builder().maxBlobs(1).build();
  }

  /** {@return a builder starting from the defaults} */
  public static Builder builder() {
    return new Builder();
  }

  /** {@return a builder starting from this policy} */
  public Builder toBuilder() {
    return new Builder().maxAge(maxAge).maxBlobs(maxBlobs).maxBytes(maxBytes);
  }

  /** {@return how long a data key may encrypt new blobs} */
  public Duration maxAge() {
    return maxAge;
  }

  /** {@return how many blobs a data key may encrypt} */
  public long maxBlobs() {
    return maxBlobs;
  }

  /**
   * {@return how many plaintext bytes a data key may encrypt (a single larger blob is allowed; see
   * the class comment for blobs of unknown length)}
   */
  public long maxBytes() {
    return maxBytes;
  }

  @Override
  public String toString() {
    return "DataKeyPolicy[maxAge="
        + maxAge
        + ", maxBlobs="
        + maxBlobs
        + ", maxBytes="
        + maxBytes
        + "]";
  }

  /** Builds a {@link DataKeyPolicy}; setters fail fast naming the bad value. Not thread-safe. */
  public static final class Builder {
    private Duration maxAge = DEFAULT_MAX_AGE;
    private long maxBlobs = DEFAULT_MAX_BLOBS;
    private long maxBytes = DEFAULT_MAX_BYTES;

    private Builder() {}

    /**
     * Retires an encrypting data key once it is this old.
     *
     * @param age positive duration
     * @return this builder
     */
    public Builder maxAge(Duration age) {
      Objects.requireNonNull(age, "maxAge");
      if (age.isNegative() || age.isZero()) {
        throw new IllegalArgumentException("maxAge must be positive, was " + age);
      }
      this.maxAge = age;
      return this;
    }

    /**
     * Retires an encrypting data key after this many blobs.
     *
     * @param blobs at least 1
     * @return this builder
     */
    public Builder maxBlobs(long blobs) {
      if (blobs < 1) {
        throw new IllegalArgumentException("maxBlobs must be >= 1, was " + blobs);
      }
      this.maxBlobs = blobs;
      return this;
    }

    /**
     * Retires an encrypting data key after this many plaintext bytes.
     *
     * @param bytes at least 1
     * @return this builder
     */
    public Builder maxBytes(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("maxBytes must be >= 1, was " + bytes);
      }
      this.maxBytes = bytes;
      return this;
    }

    /** {@return the policy} */
    public DataKeyPolicy build() {
      return new DataKeyPolicy(this);
    }
  }
}
