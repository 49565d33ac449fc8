package dev.byok.testkit;

import java.util.Objects;

/**
 * One tampered (or, as a control, untouched) copy of a valid envelope, with what a correct
 * decryptor must do with it. Made by {@link TamperSuite#variants}; hosts may filter the list or
 * feed it to their own parameterised tests.
 *
 * <p>Immutable and thread-safe.
 */
public final class Tampering {
  /** What a correct decryptor does with a variant. */
  public enum Expected {
    /**
     * Throws the expected exception. Before throwing it may release only a prefix of the original
     * plaintext made of whole segments that precede the first tampered one ({@link
     * #maxReleasedBeforeFailure()}).
     */
    REJECTED,
    /** Returns exactly the original plaintext (controls, and key slots that still hold the key). */
    ORIGINAL,
    /**
     * Either of the two; releases nothing before failing. For changes to the key slots, which are
     * not authenticated by design: a changed slot either no longer yields the data key (rejected)
     * or yields the right one, and the key commitment then guarantees the original plaintext.
     */
    REJECTED_OR_ORIGINAL
  }

  private final String name;
  private final byte[] envelope;
  private final Expected expected;
  private final long maxReleased;

  Tampering(String name, byte[] envelope, Expected expected, long maxReleasedBeforeFailure) {
    this.name = Objects.requireNonNull(name, "name");
    this.envelope = Objects.requireNonNull(envelope, "envelope");
    this.expected = Objects.requireNonNull(expected, "expected");
    this.maxReleased = maxReleasedBeforeFailure;
  }

  /** {@return what was done, for example {@code "flip bit 3 of byte 4130 (segment 1 tag)"}} */
  public String name() {
    return name;
  }

  /** {@return a copy of the tampered envelope} */
  public byte[] envelope() {
    return envelope.clone();
  }

  byte[] envelopeNoCopy() {
    return envelope;
  }

  /** {@return what a correct decryptor does with it} */
  public Expected expected() {
    return expected;
  }

  /**
   * The most plaintext a correct streaming decryptor may release before it throws: the plaintext of
   * the whole segments before the first one that was changed (or whose "last segment" status
   * changed). Zero when the header was changed.
   *
   * @return a byte count, {@code >= 0}
   */
  public long maxReleasedBeforeFailure() {
    return maxReleased;
  }

  @Override
  public String toString() {
    return name + " (" + envelope.length + " bytes, expected " + expected + ")";
  }
}
