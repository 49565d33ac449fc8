package dev.byok;

import static dev.byok.RobustTestSupport.CONTEXT;
import static dev.byok.RobustTestSupport.FIRST_PLAIN;
import static dev.byok.RobustTestSupport.PLAIN;
import static dev.byok.RobustTestSupport.SEGMENT;
import static dev.byok.RobustTestSupport.SLOT;
import static dev.byok.RobustTestSupport.concat;
import static dev.byok.RobustTestSupport.encrypt;
import static dev.byok.RobustTestSupport.encryptor;
import static dev.byok.RobustTestSupport.flip;
import static dev.byok.RobustTestSupport.plaintext;
import static dev.byok.RobustTestSupport.withField;
import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.internal.Kdf;
import dev.byok.internal.SegmentCipher;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The validity rule of docs/format.md section 5, as a corpus: every malformation class is run
 * through every read path (stream with bulk, small and single-byte reads; channel forwards and
 * backwards; range; file) and must get the one outcome the spec gives it, identical on every path.
 */
class ValidityRuleTest {
  private static final DataKey KEY = DataKey.generate();
  private static final int FIRST_CT = SEGMENT - 40; // ciphertext bytes of segment 0
  private static final byte[] NAME = "repo-1/indices/0/__blob".getBytes();

  @TempDir static Path dir;

  @BeforeAll
  static void files() {
    ReadPaths.fileDir = dir;
  }

  record Case(
      String name,
      byte[] blob,
      String expected,
      @Nullable EncryptionContext context,
      byte[] associatedData) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Arguments> corpus() throws Exception {
    List<Case> cases = new ArrayList<>();
    EnvelopeEncryptor enc = encryptor(KEY);
    int[] sizes = {0, 1, FIRST_PLAIN, FIRST_PLAIN + 1, FIRST_PLAIN + PLAIN, 2 * PLAIN + 500};
    for (int size : sizes) {
      byte[] pt = plaintext(size);
      byte[] blob = encrypt(enc, pt);
      String ok = "OK " + ReadPaths.sha256(pt);
      int po = EnvelopeHeader.parse(blob).payloadOffset();
      String p = "P=" + size + ": ";
      cases.add(new Case(p + "intact", blob, ok, null, new byte[0]));
      cases.add(new Case(p + "intact, context required", blob, ok, CONTEXT, new byte[0]));
      cases.add(
          new Case(
              p + "other context required",
              blob,
              "CONTEXT_MISMATCH",
              EncryptionContext.of("a", "1"),
              new byte[0]));
      cases.add(
          new Case(p + "associated data not written", blob, "AUTHENTICATION_FAILED", null, NAME));
      cases.add(new Case(p + "cut to nothing", new byte[0], "NOT_AN_ENVELOPE", null, new byte[0]));
      cases.add(new Case(p + "bad magic", flip(blob, 0), "NOT_AN_ENVELOPE", null, new byte[0]));
      cases.add(
          new Case(p + "version 2", withField(blob, 4, 1, 2), "UNSUPPORTED_VERSION", null, none()));
      cases.add(
          new Case(
              p + "segment size 100",
              withField(blob, 8, 4, 100),
              "MALFORMED_HEADER",
              null,
              none()));
      cases.add(
          new Case(
              p + "commitment flipped",
              flip(blob, EnvelopeHeader.parse(blob).immutableLength() - 1),
              "KEY_COMMITMENT_MISMATCH",
              null,
              none()));
      cases.add(new Case(p + "cut inside the header", cut(blob, 20), "TRUNCATED", null, none()));
      cases.add(
          new Case(
              p + "cut inside the payload header", cut(blob, po + 20), "TRUNCATED", null, none()));
      cases.add(
          new Case(
              p + "cut after the payload header", cut(blob, po + 40), "TRUNCATED", null, none()));
      cases.add(
          new Case(
              p + "segment 0 of 15 bytes", cut(blob, po + 40 + 15), "TRUNCATED", null, none()));
      cases.add(
          new Case(
              p + "last byte dropped", cut(blob, blob.length - 1), cutLast(size), null, none()));
      cases.add(
          new Case(
              p + "payload byte flipped",
              flip(blob, po + 45),
              "AUTHENTICATION_FAILED",
              null,
              none()));
      cases.add(
          new Case(
              p + "last byte flipped",
              flip(blob, blob.length - 1),
              "AUTHENTICATION_FAILED",
              null,
              none()));
      for (int extra : new int[] {1, 16, 17, SEGMENT}) {
        cases.add(
            new Case(
                p + extra + " bytes appended",
                concat(blob, new byte[extra]),
                appended(size, extra),
                null,
                none()));
      }
      if (size > FIRST_PLAIN) {
        // a cut at a segment boundary: the blob without its final segment
        long segments = 1 + (size - FIRST_PLAIN + PLAIN - 1) / PLAIN;
        int boundary = po + FIRST_CT + (int) (segments - 2) * SEGMENT + 40;
        cases.add(
            new Case(
                p + "cut at the last segment boundary",
                cut(blob, boundary),
                "TRUNCATED",
                null,
                none()));
        cases.add(
            new Case(
                p + "final segment cut to a tag",
                cut(blob, boundary + 16),
                "TRUNCATED",
                null,
                none()));
      }
    }
    // finding 1: a non-first final segment that is only a tag, written and authenticated (as a
    // third-party writer might): no plaintext length encrypts to it, so it is TRUNCATED
    cases.add(
        new Case(
            "tag-only final segment that authenticates",
            withEmptyFinalSegment(plaintext(FIRST_PLAIN + PLAIN)),
            "TRUNCATED",
            null,
            none()));
    // the same blob with segments 1 and 2 of a 4-segment blob swapped
    byte[] four = encrypt(enc, plaintext(FIRST_PLAIN + 2 * PLAIN + 100));
    int po = EnvelopeHeader.parse(four).payloadOffset();
    byte[] swapped = four.clone();
    System.arraycopy(four, po + SEGMENT, swapped, po + 2 * SEGMENT, SEGMENT);
    System.arraycopy(four, po + 2 * SEGMENT, swapped, po + SEGMENT, SEGMENT);
    cases.add(new Case("segments 1 and 2 swapped", swapped, "AUTHENTICATION_FAILED", null, none()));
    // per-blob associated data
    byte[] pt = plaintext(FIRST_PLAIN + PLAIN + 7);
    byte[] named = encryptNamed(enc, pt, NAME);
    cases.add(new Case("named, right name", named, "OK " + ReadPaths.sha256(pt), CONTEXT, NAME));
    cases.add(
        new Case(
            "named, other name",
            named,
            "AUTHENTICATION_FAILED",
            CONTEXT,
            "repo-1/indices/0/__other".getBytes()));
    cases.add(new Case("named, no name", named, "AUTHENTICATION_FAILED", CONTEXT, none()));
    return cases.stream().map(Arguments::of);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void everyPathGivesTheSpecifiedOutcome(Case c) {
    Map<ReadPaths, String> outcomes = new EnumMap<>(ReadPaths.class);
    for (ReadPaths path : ReadPaths.values()) {
      outcomes.put(path, path.outcome(KEY, c.blob(), c.context(), c.associatedData()));
    }
    assertThat(outcomes)
        .as(c.name())
        .allSatisfy((path, o) -> assertThat(o).isEqualTo(c.expected()));
  }

  /** The reason for a blob whose last byte was dropped. */
  private static String cutLast(int size) {
    // the final segment is then one byte short: it no longer authenticates, unless it is a later
    // segment left with at most a tag (a 1-byte final segment: 17 bytes, 16 after the cut)
    int finalPlain = size <= FIRST_PLAIN ? size : (size - FIRST_PLAIN - 1) % PLAIN + 1;
    return size == 0 || (size > FIRST_PLAIN && finalPlain == 1)
        ? "TRUNCATED"
        : "AUTHENTICATION_FAILED";
  }

  /** The reason for a blob with {@code extra} bytes appended. */
  private static String appended(int size, int extra) {
    boolean fullFinal =
        size == FIRST_PLAIN || (size > FIRST_PLAIN && (size - FIRST_PLAIN) % PLAIN == 0);
    if (!fullFinal) {
      return "AUTHENTICATION_FAILED"; // the short final segment grows and no longer authenticates
    }
    return extra <= 16 ? "TRUNCATED" : "TRAILING_DATA";
  }

  private static byte[] none() {
    return new byte[0];
  }

  private static byte[] cut(byte[] b, int length) {
    return Arrays.copyOf(b, length);
  }

  static byte[] encryptNamed(EnvelopeEncryptor enc, byte[] pt, byte[] name) throws IOException {
    java.io.ByteArrayOutputStream bout = new java.io.ByteArrayOutputStream();
    try (java.io.OutputStream out = enc.newEncryptingStream(bout, name)) {
      out.write(pt);
    }
    return bout.toByteArray();
  }

  /**
   * Encrypts {@code pt} (a whole number of full segments) the way a careless third-party writer
   * might: its full segments as non-final, then an empty final segment that is only a tag.
   */
  static byte[] withEmptyFinalSegment(byte[] pt) {
    EnvelopeHeader header =
        EnvelopeHeader.create(SEGMENT, KEY, CONTEXT, List.of(SLOT))
            .withPayloadHeader(payloadHeader(new byte[32], new byte[7]));
    byte[] dek = KEY.copyKeyMaterial();
    SegmentCipher cipher =
        new SegmentCipher(
            Kdf.hkdfSha256(dek, new byte[32], header.payloadAssociatedData(new byte[0]), 32),
            new byte[7]);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.writeBytes(header.toByteArray());
    int off = 0;
    for (long i = 0; off < pt.length; i++) {
      int n = i == 0 ? FIRST_PLAIN : PLAIN;
      byte[] ct = new byte[n + 16];
      cipher.encrypt(i, false, pt, off, n, ct, 0);
      out.writeBytes(ct);
      off += n;
    }
    byte[] tag = new byte[16];
    long last = 1 + (pt.length - FIRST_PLAIN) / PLAIN;
    cipher.encrypt(last, true, new byte[0], 0, 0, tag, 0);
    out.writeBytes(tag);
    return out.toByteArray();
  }

  private static byte[] payloadHeader(byte[] salt, byte[] prefix) {
    byte[] h = new byte[40];
    h[0] = 40;
    System.arraycopy(salt, 0, h, 1, 32);
    System.arraycopy(prefix, 0, h, 33, 7);
    return h;
  }
}
