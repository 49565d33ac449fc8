package dev.byok.testkit;

import dev.byok.ByokException;
import dev.byok.DataKey;
import dev.byok.DataKeyResolver;
import dev.byok.EncryptionContext;
import dev.byok.EnvelopeDecryptor;
import dev.byok.EnvelopeHeader;
import dev.byok.InvalidCiphertextException;
import dev.byok.testkit.Tampering.Expected;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * A reusable tamper suite for envelope decryption: makes every tampered variant of a valid envelope
 * (flipped bits, truncation, appended bytes, dropped, duplicated, reordered and spliced segments,
 * swapped headers), runs each through a {@link Decryptor} and reports every variant that was not
 * handled correctly. The decryptor is a function, so a host can point the suite at its own read
 * path (a blob store, a snapshot reader) as well as at byok's {@linkplain #streaming streams},
 * {@linkplain #channel channels} and {@linkplain #file files}.
 *
 * <pre>{@code
 * // envelope: a valid envelope of plaintext, several segments long
 * // otherBlobSameKey: another envelope under the same data key
 * TamperSuite.run(envelope, plaintext, otherBlobSameKey, TamperSuite.streaming(decryptor))
 *     .assertClean();
 * }</pre>
 *
 * <p>For each variant the suite checks that the decryptor rejects it with the expected exception
 * (by default an {@link InvalidCiphertextException} anywhere in the cause chain), and that the
 * plaintext released before the exception is a prefix of the original made only of the whole
 * segments before the first tampered one. Controls (the untouched envelope, and key slots that
 * still hold the data key) must decrypt to the original plaintext. See {@link Tampering.Expected}.
 *
 * <p>Stateless and thread-safe; runs variants one after the other on the calling thread, so it is
 * as thread-safe as the decryptor it is given. Uses no test framework: {@link
 * TamperReport#assertClean()} throws a plain {@link AssertionError}.
 */
public final class TamperSuite {
  /** Reads plaintext in chunks that do not line up with segments, to exercise partial reads. */
  private static final int READ_CHUNK = 1000;

  /** A decryptor that yields more than the plaintext plus this is stopped. */
  private static final int MAX_EXTRA_OUTPUT = 1 << 20;

  private static final byte[] UNTOUCHED_MARKER =
      "byok-testkit: decryptFile must leave this file untouched on failure"
          .getBytes(StandardCharsets.US_ASCII);
  private static final SecureRandom RANDOM = new SecureRandom();

  private TamperSuite() {}

  /**
   * A decryption path under test: envelope bytes in, plaintext out.
   *
   * <p>Return the plaintext as a stream; the suite reads it to the end and closes it, and counts
   * what it yields before an exception as released. Reject by throwing, from this method, from
   * {@code read} or from {@code close}. A path that only decrypts whole buffers fits as {@code
   * envelope -> new ByteArrayInputStream(decryptAll(envelope))}. Implementations used with a suite
   * from several threads must be thread-safe.
   */
  @FunctionalInterface
  public interface Decryptor {
    /**
     * Decrypts one envelope.
     *
     * @param envelope the (possibly tampered) envelope; the suite does not reuse the array
     * @return the plaintext
     * @throws Exception to reject the envelope
     */
    InputStream decrypt(byte[] envelope) throws Exception;
  }

  // ------------------------------------------------------------------------------- variants

  /**
   * Every tampered variant of {@code envelope} that needs no second blob; see {@link
   * #variants(byte[], byte[])}.
   *
   * @param envelope a valid envelope
   * @return the variants, the untouched control first
   * @throws InvalidCiphertextException if {@code envelope} has no valid header
   */
  public static List<Tampering> variants(byte[] envelope) {
    return variants(envelope, null);
  }

  /**
   * Every tampered variant of {@code envelope}, with the segment boundaries read from its header:
   *
   * <ul>
   *   <li>the untouched envelope, as a control ({@link Expected#ORIGINAL});
   *   <li>one flipped bit in every header byte (immutable part, key slots and the 40-byte payload
   *       header), and in a sample of bytes of every segment: first, middle, last before the tag,
   *       and three tag bytes;
   *   <li>truncation to empty, at points inside the header, at every segment boundary and one byte
   *       either side, and one byte short of the end;
   *   <li>one appended byte, and an appended fake segment of {@code S} bytes;
   *   <li>each segment dropped, duplicated, and swapped with the next;
   *   <li>with {@code otherBlobSameKey}: each segment replaced by the other blob's segment of the
   *       same index, the payload header (salt, nonce prefix) replaced by the other's, and the key
   *       slot section replaced by the other's.
   * </ul>
   *
   * <p>Key slots are not authenticated by design (rewrap replaces them without touching the
   * payload). A flipped slot byte is therefore {@link Expected#REJECTED_OR_ORIGINAL}: it either no
   * longer yields the data key, or it does and the key commitment guarantees the original
   * plaintext. The other blob's slot section is {@link Expected#ORIGINAL} when both blobs share the
   * immutable header part (same data key, context and segment size): its slots wrap this blob's
   * data key for this very context, exactly what a rewrap writes. Otherwise it is {@link
   * Expected#REJECTED_OR_ORIGINAL}.
   *
   * @param envelope a valid envelope
   * @param otherBlobSameKey another valid envelope under the same data key (a different blob, so a
   *     different salt), ideally with as many segments; or {@code null} to skip the splices
   * @return the variants, the untouched control first; a fresh mutable list
   * @throws InvalidCiphertextException if an envelope has no valid header
   * @throws IllegalArgumentException if an envelope is shorter than its header plus one tag
   */
  public static List<Tampering> variants(byte[] envelope, byte @Nullable [] otherBlobSameKey) {
    Variants v = new Variants(envelope.clone());
    EnvelopeLayout o = v.layout;
    v.add("untouched envelope (control)", v.original, Expected.ORIGINAL);

    for (int i = 0; i < o.headerEnd; i++) {
      boolean slot = i >= o.immutableLength && i < o.payloadOffset;
      v.flip(i, o.headerRegion(i), slot ? Expected.REJECTED_OR_ORIGINAL : Expected.REJECTED);
    }
    for (int k = 0; k < o.segments; k++) {
      int start = o.start(k);
      int end = o.end(k);
      int tag = end - EnvelopeLayout.TAG;
      TreeSet<Integer> sample =
          new TreeSet<>(List.of(start, (start + tag) / 2, tag - 1, tag, tag + 7, end - 1));
      for (int i : sample) {
        if (i >= start && i < end) {
          v.flip(i, "segment " + k + (i >= tag ? " tag" : ""), Expected.REJECTED);
        }
      }
    }

    v.cut(0, "empty input");
    for (int c :
        new int[] {
          1,
          4,
          8,
          28,
          o.immutableLength - 1,
          o.immutableLength,
          o.immutableLength + 1,
          o.payloadOffset - 1,
          o.payloadOffset,
          o.payloadOffset + 1,
          o.headerEnd - 1
        }) {
      v.cut(c, "inside the header (" + v.region(c) + ")");
    }
    v.cut(o.headerEnd, "the end of the header (no segment)");
    for (int k = 1; k < o.segments; k++) {
      int b = o.start(k);
      v.cut(b - 1, "segment " + k + " boundary -1");
      v.cut(b, "segment " + k + " boundary");
      v.cut(b + 1, "segment " + k + " boundary +1");
    }
    v.cut(envelope.length - 1, "the end -1");

    v.add("append 1 byte", concat(v.original, new byte[1]), Expected.REJECTED);
    byte[] fake = new byte[o.segmentSize];
    Arrays.fill(fake, (byte) 0x5a);
    v.add(
        "append a fake segment of " + o.segmentSize + " bytes",
        concat(v.original, fake),
        Expected.REJECTED);

    for (int k = 0; k < o.segments; k++) {
      byte[] seg = v.segment(k);
      if (o.segments > 1) {
        v.add("drop segment " + k, v.replaceSegments(k, k + 1), Expected.REJECTED);
      }
      v.add("duplicate segment " + k, v.replaceSegments(k, k, seg), Expected.REJECTED);
      if (k + 1 < o.segments) {
        v.add(
            "swap segments " + k + " and " + (k + 1),
            v.replaceSegments(k, k + 2, v.segment(k + 1), seg),
            Expected.REJECTED);
      }
    }

    if (otherBlobSameKey != null) {
      byte[] other = otherBlobSameKey.clone();
      EnvelopeHeader oh = EnvelopeHeader.parse(other);
      EnvelopeLayout ol = new EnvelopeLayout(oh, other.length);
      for (int k = 0; k < Math.min(o.segments, ol.segments); k++) {
        byte[] spliced = Arrays.copyOfRange(other, ol.start(k), ol.end(k));
        v.add(
            "segment " + k + " from the other blob",
            v.replaceSegments(k, k + 1, spliced),
            Expected.REJECTED);
      }
      v.add(
          "payload header (salt, nonce prefix) from the other blob",
          concat(
              Arrays.copyOfRange(v.original, 0, o.payloadOffset),
              Arrays.copyOfRange(other, ol.payloadOffset, ol.headerEnd),
              Arrays.copyOfRange(v.original, o.headerEnd, v.original.length)),
          Expected.REJECTED);
      boolean sameImmutable =
          Arrays.equals(v.original, 0, o.immutableLength, other, 0, ol.immutableLength);
      byte[] swapped =
          concat(
              Arrays.copyOfRange(v.original, 0, o.immutableLength),
              Arrays.copyOfRange(other, ol.immutableLength, ol.payloadOffset),
              Arrays.copyOfRange(v.original, o.payloadOffset, v.original.length));
      v.list.add(
          new Tampering(
              "key slot section from the other blob",
              swapped,
              sameImmutable ? Expected.ORIGINAL : Expected.REJECTED_OR_ORIGINAL,
              0));
    }
    return v.list;
  }

  /** Builds the variant list for one envelope. */
  private static final class Variants {
    final byte[] original;
    final EnvelopeLayout layout;
    final List<Tampering> list = new ArrayList<>();
    final TreeSet<Integer> cuts = new TreeSet<>();

    Variants(byte[] original) {
      this.original = original;
      this.layout = new EnvelopeLayout(EnvelopeHeader.parse(original), original.length);
      if (original.length < layout.headerEnd + EnvelopeLayout.TAG) {
        throw new IllegalArgumentException(
            "envelope of " + original.length + " bytes ends inside its header or first segment");
      }
    }

    String region(int i) {
      return i < layout.headerEnd ? layout.headerRegion(i) : "payload";
    }

    void flip(int i, String where, Expected expected) {
      byte[] t = original.clone();
      int bit = i % 8;
      t[i] ^= (byte) (1 << bit);
      add("flip bit " + bit + " of byte " + i + " (" + where + ")", t, expected);
    }

    void cut(int at, String where) {
      if (at >= 0 && at < original.length && cuts.add(at)) {
        add(
            at == 0 ? where : "truncate at " + at + ", " + where,
            Arrays.copyOf(original, at),
            Expected.REJECTED);
      }
    }

    byte[] segment(int k) {
      return Arrays.copyOfRange(original, layout.start(k), layout.end(k));
    }

    /** The original with segments {@code [from, to)} replaced by {@code insert}. */
    byte[] replaceSegments(int from, int to, byte[]... insert) {
      int cutStart = layout.start(from);
      int cutEnd = to >= layout.segments ? original.length : layout.start(to);
      byte[][] parts = new byte[insert.length + 2][];
      parts[0] = Arrays.copyOf(original, cutStart);
      System.arraycopy(insert, 0, parts, 1, insert.length);
      parts[parts.length - 1] = Arrays.copyOfRange(original, cutEnd, original.length);
      return concat(parts);
    }

    void add(String name, byte[] tampered, Expected expected) {
      long max = maxReleased(tampered);
      if (max < 0 && expected != Expected.ORIGINAL) {
        return; // not actually tampered (cannot happen for a well-formed envelope); nothing to test
      }
      list.add(new Tampering(name, tampered, expected, Math.max(max, 0)));
    }

    /**
     * Plaintext bytes of the whole segments before the first segment whose bytes or whose "last
     * segment" status differ from the original when {@code t} is read with the original's header; 0
     * if the header differs; -1 if {@code t} equals the original.
     */
    long maxReleased(byte[] t) {
      EnvelopeLayout o = layout;
      if (t.length < o.headerEnd || !Arrays.equals(original, 0, o.headerEnd, t, 0, o.headerEnd)) {
        return 0;
      }
      EnvelopeLayout tl = o.withLength(t.length);
      for (int k = 0; k < o.segments; k++) {
        if (k >= tl.segments
            || o.isLast(k) != tl.isLast(k)
            || !Arrays.equals(original, o.start(k), o.end(k), t, tl.start(k), tl.end(k))) {
          return o.plaintextOffset(k);
        }
      }
      return -1;
    }
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      b.writeBytes(p);
    }
    return b.toByteArray();
  }

  // ------------------------------------------------------------------------------- running

  /**
   * Runs {@link #variants(byte[])} of {@code envelope} through {@code decrypt}.
   *
   * @param envelope a valid envelope of {@code plaintext}
   * @param plaintext the original plaintext
   * @param decrypt the decryption path under test
   * @return the report
   */
  public static TamperReport run(byte[] envelope, byte[] plaintext, Decryptor decrypt) {
    return run(envelope, plaintext, null, decrypt);
  }

  /**
   * Runs {@link #variants(byte[], byte[])} of {@code envelope} through {@code decrypt}, expecting
   * {@link InvalidCiphertextException} for rejections.
   *
   * @param envelope a valid envelope of {@code plaintext}
   * @param plaintext the original plaintext
   * @param otherBlobSameKey another envelope under the same data key, or {@code null}
   * @param decrypt the decryption path under test
   * @return the report
   */
  public static TamperReport run(
      byte[] envelope, byte[] plaintext, byte @Nullable [] otherBlobSameKey, Decryptor decrypt) {
    return run(
        variants(envelope, otherBlobSameKey), plaintext, decrypt, InvalidCiphertextException.class);
  }

  /**
   * Runs the given variants through {@code decrypt}. A rejection counts as expected when {@code
   * expectedFailure} is the thrown exception's type or the type of one of its causes (so a host
   * that wraps byok's exception in its own passes). For {@link Expected#REJECTED_OR_ORIGINAL} any
   * {@link ByokException} also counts: a KMS may refuse a tampered key slot as an unknown or
   * unusable key.
   *
   * @param variants from {@link #variants}, possibly filtered
   * @param plaintext the original plaintext
   * @param decrypt the decryption path under test
   * @param expectedFailure the exception type a rejection must carry
   * @return the report
   */
  public static TamperReport run(
      List<Tampering> variants,
      byte[] plaintext,
      Decryptor decrypt,
      Class<? extends Throwable> expectedFailure) {
    Objects.requireNonNull(plaintext, "plaintext");
    Objects.requireNonNull(decrypt, "decrypt");
    Objects.requireNonNull(expectedFailure, "expectedFailure");
    List<TamperReport.Failure> failures = new ArrayList<>();
    for (Tampering t : variants) {
      String problem = check(t, plaintext, decrypt, expectedFailure);
      if (problem != null) {
        failures.add(new TamperReport.Failure(t.name(), problem));
      }
    }
    return new TamperReport(variants.size(), failures);
  }

  private static @Nullable String check(
      Tampering t,
      byte[] plaintext,
      Decryptor decrypt,
      Class<? extends Throwable> expectedFailure) {
    ByteArrayOutputStream released = new ByteArrayOutputStream();
    Exception thrown = null;
    boolean overflow = false;
    try (InputStream in = decrypt.decrypt(t.envelope())) {
      byte[] buf = new byte[READ_CHUNK];
      int n;
      while (!overflow && (n = in.read(buf)) >= 0) {
        released.write(buf, 0, n);
        overflow = released.size() > (long) plaintext.length + MAX_EXTRA_OUTPUT;
      }
    } catch (Exception e) {
      thrown = e;
    }
    byte[] got = released.toByteArray();
    if (overflow) {
      return "yielded more than " + got.length + " bytes for a plaintext of " + plaintext.length;
    }
    List<String> problems = new ArrayList<>();
    Expected expected = t.expected();
    if (thrown == null) {
      boolean same = Arrays.equals(got, plaintext);
      if (expected == Expected.REJECTED) {
        problems.add(
            same
                ? "decrypted to the original plaintext without an exception"
                : "decrypted to "
                    + got.length
                    + " bytes (original: "
                    + plaintext.length
                    + ") without an exception");
      } else if (!same) {
        problems.add(
            "decrypted to " + got.length + " bytes that are not the original " + plaintext.length);
      }
    } else if (expected == Expected.ORIGINAL) {
      problems.add("threw " + describe(thrown) + " instead of decrypting");
    } else {
      boolean typeOk =
          causedBy(thrown, expectedFailure)
              || (expected == Expected.REJECTED_OR_ORIGINAL
                  && causedBy(thrown, ByokException.class));
      if (!typeOk) {
        problems.add("threw " + describe(thrown) + ", expected " + expectedFailure.getName());
      }
      if (got.length > plaintext.length
          || !Arrays.equals(got, 0, got.length, plaintext, 0, got.length)) {
        problems.add(
            "released "
                + got.length
                + " bytes before failing that are not a prefix of the plaintext");
      }
      if (got.length > t.maxReleasedBeforeFailure()) {
        problems.add(
            "released "
                + got.length
                + " plaintext bytes before failing, but only the "
                + t.maxReleasedBeforeFailure()
                + " bytes of whole segments before the tampered one may be released");
      }
    }
    return problems.isEmpty() ? null : String.join("; ", problems);
  }

  private static boolean causedBy(Throwable thrown, Class<? extends Throwable> type) {
    int depth = 0;
    for (Throwable c = thrown; c != null && depth < 32; c = c.getCause(), depth++) {
      if (type.isInstance(c)) {
        return true;
      }
    }
    return false;
  }

  private static String describe(Throwable e) {
    String m = String.valueOf(e.getMessage());
    return e.getClass().getName()
        + " ("
        + (m.length() > 200 ? m.substring(0, 200) + "..." : m)
        + ")";
  }

  // ------------------------------------------------------------------------------- key and context

  /**
   * Checks that a decryptor holding the wrong data key rejects {@code envelope}, releasing nothing.
   * The wrong key is random but carries the envelope's DEK id, so only the key commitment can tell
   * it apart.
   *
   * @param envelope a valid envelope of {@code plaintext}
   * @param plaintext the original plaintext
   * @param decryptorWith builds the path under test around a key resolver, for example {@code r ->
   *     TamperSuite.streaming(EnvelopeDecryptor.create(r))}
   * @return the report (one variant)
   */
  public static TamperReport wrongKey(
      byte[] envelope, byte[] plaintext, Function<DataKeyResolver, Decryptor> decryptorWith) {
    byte[] material = new byte[DataKey.KEY_LENGTH];
    RANDOM.nextBytes(material);
    DataKey wrong = DataKey.of(EnvelopeHeader.parse(envelope).dekId(), material);
    Arrays.fill(material, (byte) 0);
    try {
      Tampering t =
          new Tampering(
              "wrong data key with the same DEK id", envelope.clone(), Expected.REJECTED, 0);
      return run(
          List.of(t),
          plaintext,
          decryptorWith.apply(DataKeyResolver.of(wrong)),
          InvalidCiphertextException.class);
    } finally {
      wrong.destroy();
    }
  }

  /**
   * Checks that {@code envelope} decrypts when the caller requires its own encryption context
   * (control), and is rejected, releasing nothing, when the caller requires another: one with an
   * extra entry, and when the envelope's context is not empty, the empty one and one with a value
   * changed.
   *
   * @param envelope a valid envelope of {@code plaintext}
   * @param plaintext the original plaintext
   * @param decryptorRequiring builds the path under test requiring a context, for example {@code c
   *     -> TamperSuite.streaming(decryptor, c)}
   * @return the report
   */
  public static TamperReport wrongContext(
      byte[] envelope,
      byte[] plaintext,
      Function<EncryptionContext, Decryptor> decryptorRequiring) {
    EncryptionContext own = EnvelopeHeader.parse(envelope).encryptionContext();
    Map<String, EncryptionContext> contexts = new LinkedHashMap<>();
    Map<String, String> extra = new LinkedHashMap<>(own.asMap());
    extra.merge("byok-testkit.extra", "wrong", (a, b) -> a + "-wrong");
    try {
      contexts.put("context with an extra entry", EncryptionContext.of(extra));
    } catch (IllegalArgumentException full) {
      // the envelope's context is at a bound already; the other wrong contexts still run
    }
    if (!own.asMap().isEmpty()) {
      contexts.put("empty context", EncryptionContext.empty());
      Map<String, String> changed = new LinkedHashMap<>(own.asMap());
      String first = changed.keySet().iterator().next();
      changed.put(first, changed.get(first) + "-wrong");
      contexts.put(
          "context with the value of '" + first + "' changed", EncryptionContext.of(changed));
    }
    TamperReport report =
        run(
            List.of(new Tampering("own context (control)", envelope.clone(), Expected.ORIGINAL, 0)),
            plaintext,
            decryptorRequiring.apply(own),
            InvalidCiphertextException.class);
    for (Map.Entry<String, EncryptionContext> c : contexts.entrySet()) {
      Tampering t =
          new Tampering("requiring " + c.getKey(), envelope.clone(), Expected.REJECTED, 0);
      report =
          report.and(
              run(
                  List.of(t),
                  plaintext,
                  decryptorRequiring.apply(c.getValue()),
                  InvalidCiphertextException.class));
    }
    return report;
  }

  // ------------------------------------------------------------------------------- adapters

  /**
   * byok's stream decryption ({@link EnvelopeDecryptor#newDecryptingStream}), any context.
   *
   * @param decryptor the decryptor under test
   * @return the path; thread-safe
   */
  public static Decryptor streaming(EnvelopeDecryptor decryptor) {
    return streaming(decryptor, null);
  }

  /**
   * byok's stream decryption requiring a context.
   *
   * @param decryptor the decryptor under test
   * @param expected the required context, or {@code null} for any
   * @return the path; thread-safe
   */
  public static Decryptor streaming(
      EnvelopeDecryptor decryptor, @Nullable EncryptionContext expected) {
    Objects.requireNonNull(decryptor, "decryptor");
    return envelope -> decryptor.newDecryptingStream(new ByteArrayInputStream(envelope), expected);
  }

  /**
   * byok's random-access decryption ({@link EnvelopeDecryptor#newDecryptingChannel}) over an
   * in-memory channel, read from start to end.
   *
   * @param decryptor the decryptor under test
   * @return the path; thread-safe
   */
  public static Decryptor channel(EnvelopeDecryptor decryptor) {
    return channel(decryptor, null);
  }

  /**
   * byok's random-access decryption requiring a context.
   *
   * @param decryptor the decryptor under test
   * @param expected the required context, or {@code null} for any
   * @return the path; thread-safe
   */
  public static Decryptor channel(
      EnvelopeDecryptor decryptor, @Nullable EncryptionContext expected) {
    Objects.requireNonNull(decryptor, "decryptor");
    return envelope ->
        Channels.newInputStream(
            decryptor.newDecryptingChannel(new ByteArrayChannel(envelope), expected));
  }

  /**
   * byok's file decryption ({@link EnvelopeDecryptor#decryptFile}), any context.
   *
   * @param decryptor the decryptor under test
   * @param tempDir where to write each envelope and its plaintext (in a fresh subdirectory per
   *     call, removed afterwards)
   * @return the path; thread-safe
   */
  public static Decryptor file(EnvelopeDecryptor decryptor, Path tempDir) {
    return file(decryptor, null, tempDir);
  }

  /**
   * byok's file decryption requiring a context. Beyond decrypting, it checks the file contract: the
   * target exists beforehand with other content, and a failed decryption must leave it untouched
   * and leave no temporary file behind; otherwise the path throws an {@link IllegalStateException}
   * (which the suite reports as the wrong exception).
   *
   * @param decryptor the decryptor under test
   * @param expected the required context, or {@code null} for any
   * @param tempDir where to write each envelope and its plaintext
   * @return the path; thread-safe
   */
  public static Decryptor file(
      EnvelopeDecryptor decryptor, @Nullable EncryptionContext expected, Path tempDir) {
    Objects.requireNonNull(decryptor, "decryptor");
    Objects.requireNonNull(tempDir, "tempDir");
    return envelope -> {
      Path dir = Files.createTempDirectory(tempDir, "tamper-");
      try {
        Path source = Files.write(dir.resolve("envelope.byok"), envelope);
        Path target = Files.write(dir.resolve("plaintext"), UNTOUCHED_MARKER);
        try {
          decryptor.decryptFile(source, target, expected);
        } catch (Exception e) {
          List<String> files = list(dir);
          if (!files.equals(List.of("envelope.byok", "plaintext"))
              || !Files.isRegularFile(target)
              || !Arrays.equals(Files.readAllBytes(target), UNTOUCHED_MARKER)) {
            // no cause: the suite must not count this as the expected rejection
            throw new IllegalStateException(
                "decryptFile threw "
                    + describe(e)
                    + " but did not leave the directory as it was: "
                    + files
                    + ", target changed or gone");
          }
          throw e;
        }
        return new ByteArrayInputStream(Files.readAllBytes(target));
      } finally {
        for (String f : list(dir)) {
          Files.delete(dir.resolve(f));
        }
        Files.delete(dir);
      }
    };
  }

  private static List<String> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }
}
