package dev.byok;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * What a reader expects of a blob before any KMS call is made for it: the KEKs allowed for this
 * tenant or context, and the encryption context (exact, or a predicate over it).
 *
 * <p>A header is untrusted input. Anyone who can write to storage and wrap a data key under
 * <em>some</em> KEK the reader would unwrap with can write a blob that authenticates, with any
 * encryption context they choose. A reader that names the tenant's own KEKs and the context it
 * expects refuses such a blob: its context is checked first ({@link
 * InvalidCiphertextException.Reason#CONTEXT_MISMATCH}), then only slots under {@link #keks()} are
 * considered (a slot under any other key is a {@link ByokConfigurationException}), and neither
 * check makes a KMS call. See docs/security.md.
 *
 * <p>Used by {@link Byok#forReading(ReadPolicy)} (a view whose every decrypt checks it) and by
 * {@link Byok#rewrap(java.nio.file.Path, java.nio.file.Path, ReadPolicy)} (which requires it).
 *
 * <p>Immutable and thread-safe if the predicate is; no argument may be null.
 */
public final class ReadPolicy {
  private final List<KeyRef> keks;
  private final Predicate<EncryptionContext> context;
  private final String describedContext;

  private ReadPolicy(
      List<KeyRef> keks, Predicate<EncryptionContext> context, String describedContext) {
    this.keks = keks;
    this.context = context;
    this.describedContext = describedContext;
  }

  /**
   * Blobs must carry exactly {@code context} and a key slot under one of {@code keks}.
   *
   * @param keks the KEKs allowed for this tenant or context, 1 to {@value
   *     EnvelopeFormat#MAX_KEY_SLOTS}; an alias matches the key it resolves to. A header whose slot
   *     names another key ARN in the alias's own account and Region may make this instance ask the
   *     KMS again ({@code DescribeKey} on the host's alias, at most once a second per alias, in
   *     case it was retargeted); an ARN in another account or Region never does
   * @param context the required encryption context
   * @return the policy
   * @throws IllegalArgumentException if {@code keks} is empty or too long
   */
  public static ReadPolicy of(List<KeyRef> keks, EncryptionContext context) {
    Objects.requireNonNull(context, "context");
    return new ReadPolicy(checkKeks(keks), context::equals, Escaping.forDisplay(context.asMap()));
  }

  /**
   * Blobs must carry a context that {@code contextCheck} accepts (for example one whose {@code
   * tenant} entry is the caller's) and a key slot under one of {@code keks}.
   *
   * @param keks the KEKs allowed for this tenant or context, 1 to {@value
   *     EnvelopeFormat#MAX_KEY_SLOTS}
   * @param contextCheck called on the reading thread with the header's (untrusted) context; must be
   *     fast, thread-safe and side-effect free
   * @return the policy
   * @throws IllegalArgumentException if {@code keks} is empty or too long
   */
  public static ReadPolicy matching(List<KeyRef> keks, Predicate<EncryptionContext> contextCheck) {
    Objects.requireNonNull(contextCheck, "contextCheck");
    return new ReadPolicy(checkKeks(keks), contextCheck, "accepted by " + contextCheck);
  }

  private static List<KeyRef> checkKeks(List<KeyRef> keks) {
    List<KeyRef> ks = new ArrayList<>(Objects.requireNonNull(keks, "keks").size());
    for (KeyRef k : keks) {
      ks.add(Objects.requireNonNull(k, "kek"));
    }
    if (ks.isEmpty()) {
      throw new IllegalArgumentException(
          "a read policy needs at least one KEK: the keys this tenant's blobs are wrapped under");
    }
    if (ks.size() > EnvelopeFormat.MAX_KEY_SLOTS) {
      throw new IllegalArgumentException(
          "at most " + EnvelopeFormat.MAX_KEY_SLOTS + " KEKs, got " + ks.size());
    }
    return List.copyOf(ks);
  }

  /** {@return the KEKs a blob's slot must name (one of them)} */
  public List<KeyRef> keks() {
    return keks;
  }

  /**
   * Checks a header against the expected context. Makes no KMS call.
   *
   * @param header the blob's header (untrusted)
   * @throws InvalidCiphertextException with {@code CONTEXT_MISMATCH} if the context is not the
   *     expected one
   * @throws ByokConfigurationException if the host's predicate throws
   */
  void checkContext(EnvelopeHeader header) {
    EncryptionContext actual = header.encryptionContext();
    boolean ok;
    try {
      ok = context.test(actual);
    } catch (RuntimeException bug) {
      throw new ByokConfigurationException(
          "the host's expected-context predicate threw " + bug.getClass().getName(), bug);
    }
    if (!ok) {
      throw new InvalidCiphertextException(
          InvalidCiphertextException.Reason.CONTEXT_MISMATCH,
          "blob's encryption context "
              + Escaping.forDisplay(actual.asMap())
              + " is not the expected "
              + describedContext);
    }
  }

  /** This policy with other KEKs (already checked by the caller), the same context check. */
  ReadPolicy withKeks(List<KeyRef> ks) {
    return new ReadPolicy(checkKeks(ks), context, describedContext);
  }

  /** This policy's KEKs; a context must pass both this policy's check and {@code outer}'s. */
  ReadPolicy and(ReadPolicy outer) {
    Predicate<EncryptionContext> mine = context;
    Predicate<EncryptionContext> theirs = outer.context;
    return new ReadPolicy(
        keks,
        c -> theirs.test(c) && mine.test(c),
        describedContext + " and " + outer.describedContext);
  }

  @Override
  public String toString() {
    return "ReadPolicy[keks=" + keks + ", context " + describedContext + "]";
  }
}
