package dev.byok;

import static dev.byok.InvalidCiphertextException.Reason.AUTHENTICATION_FAILED;
import static dev.byok.InvalidCiphertextException.Reason.KEY_COMMITMENT_MISMATCH;
import static dev.byok.InvalidCiphertextException.Reason.MALFORMED_HEADER;
import static dev.byok.InvalidCiphertextException.Reason.NOT_AN_ENVELOPE;
import static dev.byok.InvalidCiphertextException.Reason.TRAILING_DATA;
import static dev.byok.InvalidCiphertextException.Reason.TRUNCATED;
import static dev.byok.InvalidCiphertextException.Reason.UNSUPPORTED_VERSION;
import static dev.byok.RobustTestSupport.assertInvalid;
import static dev.byok.RobustTestSupport.concat;
import static dev.byok.RobustTestSupport.decryptChannel;
import static dev.byok.RobustTestSupport.decryptStream;
import static dev.byok.RobustTestSupport.withField;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.byok.InvalidCiphertextException.Reason;
import dev.byok.RobustTestSupport.ByteArrayChannel;
import dev.byok.RobustTestSupport.EndlessZeros;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile headers: every length field at its bounds and beyond, bad magic, versions, canonical
 * order, UTF-8, every truncation, endless input. Each must end in exactly one typed {@link
 * InvalidCiphertextException}, quickly, with a small allocation.
 */
class HostileHeaderTest {
  private static final DataKey KEY = DataKey.generate();
  private static final byte[] PLAIN = RobustTestSupport.plaintext(100);
  private static final byte[] ENVELOPE = RobustTestSupport.envelopeOf(KEY, PLAIN);
  private static final EnvelopeHeader HEADER = EnvelopeHeader.parse(ENVELOPE);

  /** Immutable length L: the key slot section's length field starts here. */
  private static final int L = HEADER.immutableLength();

  /** Length of the key slot section, after its 4-byte length field. */
  private static final int M = HEADER.payloadOffset() - L - 4;

  private static final long ONE_MIB = 1024 * 1024;

  /** name, offset, width in bytes, original value (checked, so the offsets are right). */
  static Stream<Arguments> fields() {
    return Stream.of(
        Arguments.of("immutable length", 6, 2, L),
        Arguments.of("segment size", 8, 4, RobustTestSupport.SEGMENT),
        Arguments.of("context count", 28, 2, 2),
        Arguments.of("first context key length", 30, 2, 1),
        Arguments.of("first context value length", 33, 2, 1),
        Arguments.of("slot section length", L, 4, M),
        Arguments.of("slot count", L + 4, 1, 1),
        Arguments.of("provider id length", L + 5, 1, 4),
        Arguments.of("key ARN length", L + 10, 2, 14),
        Arguments.of("wrapped key length", L + 26, 2, 3),
        Arguments.of("payload header length byte", HEADER.payloadOffset(), 1, 40));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fields")
  void fieldOffsetsAreWhereTheFormatSays(String name, int offset, int width, long original) {
    long v = 0;
    for (int i = 0; i < width; i++) {
      v = (v << 8) | (ENVELOPE[offset + i] & 0xff);
    }
    assertThat(v).as(name).isEqualTo(original);
  }

  /** name, offset, width, hostile value, reason expected from parsing and decrypting. */
  static Stream<Arguments> hostileValues() {
    List<Arguments> a = new ArrayList<>();
    int maxImm = EnvelopeFormat.MAX_IMMUTABLE_LENGTH;
    add(
        a,
        "immutable length",
        6,
        2,
        MALFORMED_HEADER,
        0,
        EnvelopeFormat.MIN_IMMUTABLE_LENGTH - 1,
        L - 1,
        L + 1,
        maxImm + 1,
        0xFFFF);
    add(a, "immutable length", 6, 2, TRUNCATED, maxImm); // claims more than the input holds
    add(
        a,
        "segment size",
        8,
        4,
        MALFORMED_HEADER,
        0,
        4095,
        EnvelopeFormat.MAX_SEGMENT_SIZE + 1,
        0x7FFFFFFFL,
        0x80000000L,
        0xFFFFFFFFL);
    // in bounds, so the header parses, but it is authenticated by the key commitment
    add(
        a,
        "segment size",
        8,
        4,
        KEY_COMMITMENT_MISMATCH,
        4097,
        8192,
        EnvelopeFormat.MAX_SEGMENT_SIZE);
    add(
        a,
        "context count",
        28,
        2,
        MALFORMED_HEADER,
        0,
        1,
        3,
        EncryptionContext.MAX_ENTRIES,
        EncryptionContext.MAX_ENTRIES + 1,
        0xFFFF);
    add(a, "first context key length", 30, 2, MALFORMED_HEADER, 0, 2, 1024, 1025, 0xFFFF);
    add(a, "first context value length", 33, 2, MALFORMED_HEADER, 0, 2, 1024, 1025, 0xFFFF);
    long maxSection = EnvelopeFormat.MAX_SLOT_SECTION_LENGTH;
    add(
        a,
        "slot section length",
        L,
        4,
        MALFORMED_HEADER,
        0,
        M - 1,
        M + 1,
        maxSection + 1,
        0x7FFFFFFFL,
        0xFFFFFFFFL);
    add(a, "slot section length", L, 4, TRUNCATED, maxSection);
    add(a, "slot count", L + 4, 1, MALFORMED_HEADER, 0, 2, 16, 17, 0xFF);
    add(a, "provider id length", L + 5, 1, MALFORMED_HEADER, 0, 3, 5, 64, 65, 0xFF);
    add(a, "key ARN length", L + 10, 2, MALFORMED_HEADER, 0, 13, 15, 2048, 2049, 0xFFFF);
    add(a, "wrapped key length", L + 26, 2, MALFORMED_HEADER, 0, 2, 4, 6144, 6145, 0xFFFF);
    add(
        a,
        "payload header length byte",
        HEADER.payloadOffset(),
        1,
        MALFORMED_HEADER,
        0,
        39,
        41,
        0xFF);
    return a.stream();
  }

  private static void add(
      List<Arguments> a, String name, int offset, int width, Reason reason, long... values) {
    for (long v : values) {
      a.add(Arguments.of(name, offset, width, v, reason));
    }
  }

  @ParameterizedTest(name = "{0} = {3} -> {4}")
  @MethodSource("hostileValues")
  void everyLengthFieldOutOfPlaceIsOneTypedError(
      String name, int offset, int width, long value, Reason reason) throws IOException {
    byte[] bad = withField(ENVELOPE, offset, width, value);
    if (reason == KEY_COMMITMENT_MISMATCH) {
      assertThat(EnvelopeHeader.parse(bad).segmentSize()).isEqualTo((int) value);
    } else {
      assertInvalid(reason, () -> EnvelopeHeader.parse(bad));
    }
    assertInvalid(reason, () -> decryptStream(KEY, bad));
    assertInvalid(reason, () -> decryptChannel(KEY, bad));
    assertThat(allocatedBytes(() -> parseQuietly(bad)))
        .as("bytes allocated parsing it")
        .isLessThan(ONE_MIB);
  }

  /** Lengths that claim gigabytes, with an input that really is that long (endless). */
  @ParameterizedTest(name = "slot section length {0}")
  @ValueSource(longs = {EnvelopeFormat.MAX_SLOT_SECTION_LENGTH, 0x7FFFFFFFL, 0xFFFFFFFFL})
  void gigabyteClaimsAllocateLittleAndEndQuickly(long claimed) {
    byte[] prefix = withField(Arrays.copyOf(ENVELOPE, L + 4), L, 4, claimed);
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> {
          long bytes =
              allocatedBytes(
                  () ->
                      assertInvalid(
                          MALFORMED_HEADER, () -> EnvelopeHeader.read(endlessAfter(prefix))));
          assertThat(bytes).isLessThan(ONE_MIB);
        });
  }

  @Test
  void maximalImmutableLengthOverEndlessInputAllocatesLittle() {
    byte[] prefix =
        withField(Arrays.copyOf(ENVELOPE, 8), 6, 2, EnvelopeFormat.MAX_IMMUTABLE_LENGTH);
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> {
          // 8,244 zeros follow: segment size 0 is the first field out of bounds
          long bytes =
              allocatedBytes(
                  () ->
                      assertInvalid(
                          MALFORMED_HEADER, () -> EnvelopeHeader.read(endlessAfter(prefix))));
          assertThat(bytes).isLessThan(ONE_MIB);
        });
  }

  @Test
  void emptyInputIsNotAnEnvelope() {
    assertInvalid(NOT_AN_ENVELOPE, () -> EnvelopeHeader.parse(new byte[0]));
    assertInvalid(NOT_AN_ENVELOPE, () -> decryptStream(KEY, new byte[0]));
    assertInvalid(NOT_AN_ENVELOPE, () -> decryptChannel(KEY, new byte[0]));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3})
  void wrongMagicIsNotAnEnvelope(int at) {
    byte[] bad = RobustTestSupport.flip(ENVELOPE, at);
    assertInvalid(NOT_AN_ENVELOPE, () -> EnvelopeHeader.parse(bad));
    assertInvalid(NOT_AN_ENVELOPE, () -> decryptStream(KEY, bad));
    assertInvalid(NOT_AN_ENVELOPE, () -> EnvelopeHeader.parse(new byte[] {'B', 'Y', 'O', 'X'}));
    assertInvalid(
        NOT_AN_ENVELOPE,
        () ->
            EnvelopeHeader.parse(
                "PK\u0003\u0004 a zip file"
                    .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 2, 0x7f, 0xff})
  void unknownVersionOrSuiteIsUnsupported(int value) {
    byte[] version = withField(ENVELOPE, 4, 1, value);
    byte[] suite = withField(ENVELOPE, 5, 1, value);
    assertThat(assertInvalid(UNSUPPORTED_VERSION, () -> EnvelopeHeader.parse(version)).getMessage())
        .contains("version " + value);
    assertThat(assertInvalid(UNSUPPORTED_VERSION, () -> EnvelopeHeader.parse(suite)).getMessage())
        .contains("suite " + value);
    assertInvalid(UNSUPPORTED_VERSION, () -> decryptStream(KEY, version));
    assertInvalid(UNSUPPORTED_VERSION, () -> decryptChannel(KEY, suite));
  }

  @Test
  void contextOutOfCanonicalOrderIsMalformed() {
    // entries at 30..41: [0,1,'a',0,1,'1'] [0,1,'b',0,1,'2'] -> swap the two entries
    byte[] swapped = ENVELOPE.clone();
    System.arraycopy(ENVELOPE, 36, swapped, 30, 6);
    System.arraycopy(ENVELOPE, 30, swapped, 36, 6);
    assertThat(swapped[32]).isEqualTo((byte) 'b');
    assertThat(assertInvalid(MALFORMED_HEADER, () -> EnvelopeHeader.parse(swapped)).getMessage())
        .contains("canonical order");
    // a duplicate key is out of order too
    byte[] duplicate = withField(ENVELOPE, 38, 1, 'a');
    assertInvalid(MALFORMED_HEADER, () -> EnvelopeHeader.parse(duplicate));
    assertInvalid(MALFORMED_HEADER, () -> decryptStream(KEY, duplicate));
  }

  /** Overlong '/', a lone surrogate, a bare continuation byte, an invalid lead byte. */
  static Stream<byte[]> malformedUtf8() {
    return Stream.of(
        new byte[] {(byte) 0xC0, (byte) 0xAF},
        new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
        new byte[] {(byte) 0x80},
        new byte[] {(byte) 0xFF});
  }

  @ParameterizedTest
  @MethodSource("malformedUtf8")
  void malformedUtf8InContextOrArnIsMalformed(byte[] bad) {
    // first context value '1' at 35 (one byte); splice the bad sequence in with the right lengths
    byte[] value = splice(ENVELOPE, 35, 1, bad, 33, 2);
    byte[] fixedImmutable = withField(value, 6, 2, L + bad.length - 1);
    assertThat(
            assertInvalid(MALFORMED_HEADER, () -> EnvelopeHeader.parse(fixedImmutable))
                .getMessage())
        .contains("UTF-8");
    // ARN at L + 12, 14 bytes: replace its last byte; the section length grows with it
    byte[] arn = splice(ENVELOPE, L + 25, 1, bad, L + 10, 2);
    byte[] fixedSection = withField(arn, L, 4, M + bad.length - 1);
    assertThat(
            assertInvalid(MALFORMED_HEADER, () -> EnvelopeHeader.parse(fixedSection)).getMessage())
        .contains("UTF-8");
    assertInvalid(MALFORMED_HEADER, () -> decryptStream(KEY, fixedSection));
  }

  /**
   * Replaces {@code len} bytes at {@code at} by {@code with}, adjusting the u16 length field at
   * {@code lenAt}.
   */
  private static byte[] splice(byte[] b, int at, int len, byte[] with, int lenAt, int lenWidth) {
    byte[] out = concat(Arrays.copyOf(b, at), with, Arrays.copyOfRange(b, at + len, b.length));
    long old = 0;
    for (int i = 0; i < lenWidth; i++) {
      old = (old << 8) | (b[lenAt + i] & 0xff);
    }
    return withField(out, lenAt, lenWidth, old - len + with.length);
  }

  @Test
  void everyPrefixOfTheHeaderIsTruncatedOrNotAnEnvelope() {
    int headerLength = HEADER.length();
    for (int n = 0; n < headerLength; n++) {
      byte[] prefix = Arrays.copyOf(ENVELOPE, n);
      Reason expected = n == 0 ? NOT_AN_ENVELOPE : TRUNCATED;
      assertInvalid(expected, () -> EnvelopeHeader.parse(prefix));
      assertInvalid(expected, () -> decryptStream(KEY, prefix));
      assertInvalid(expected, () -> decryptChannel(KEY, prefix));
    }
    // the header alone, without a single payload segment
    byte[] headerOnly = Arrays.copyOf(ENVELOPE, headerLength);
    assertThat(EnvelopeHeader.parse(headerOnly).length()).isEqualTo(headerLength);
    assertInvalid(TRUNCATED, () -> decryptStream(KEY, headerOnly));
    assertInvalid(TRUNCATED, () -> decryptChannel(KEY, headerOnly));
  }

  @Test
  void endlessZerosEndQuicklyWithATypedError() {
    EnvelopeDecryptor dec = EnvelopeDecryptor.create(DataKeyResolver.of(KEY));
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> {
          assertInvalid(NOT_AN_ENVELOPE, () -> dec.newDecryptingStream(new EndlessZeros()));
          // a valid immutable part, then a maximal slot section of zeros: slot count 0
          byte[] immutable =
              withField(
                  Arrays.copyOf(ENVELOPE, L + 4), L, 4, EnvelopeFormat.MAX_SLOT_SECTION_LENGTH);
          assertInvalid(MALFORMED_HEADER, () -> dec.newDecryptingStream(endlessAfter(immutable)));
          // a whole valid header, then zeros for ever: the first segment fails
          byte[] header = Arrays.copyOf(ENVELOPE, HEADER.length());
          assertInvalid(
              AUTHENTICATION_FAILED,
              () -> dec.newDecryptingStream(endlessAfter(header)).readAllBytes());
          // a whole valid envelope, then zeros for ever
          InvalidCiphertextException e =
              assertInvalid(() -> dec.newDecryptingStream(endlessAfter(ENVELOPE)).readAllBytes());
          assertThat(e.reason()).isIn(AUTHENTICATION_FAILED, TRAILING_DATA);
        });
  }

  /** A source that breaks the read contract by returning 0 bytes for ever must not spin. */
  @Test
  void sourcesThatNeverMakeProgressDoNotSpin() {
    EnvelopeDecryptor dec = EnvelopeDecryptor.create(DataKeyResolver.of(KEY));
    InputStream stuck =
        new InputStream() {
          @Override
          public int read() {
            return 0;
          }

          @Override
          public int read(byte[] b, int off, int len) {
            return 0;
          }
        };
    SeekableByteChannel stuckChannel =
        new ByteArrayChannel(ENVELOPE) {
          @Override
          public int read(ByteBuffer dst) {
            return 0;
          }
        };
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> {
          assertThatThrownBy(() -> dec.newDecryptingStream(stuck)).isInstanceOf(IOException.class);
          assertThatThrownBy(() -> dec.newDecryptingChannel(stuckChannel))
              .isInstanceOf(IOException.class);
        });
  }

  @Test
  void validHeaderParsesWithLittleAllocation() {
    long bytes = allocatedBytes(() -> EnvelopeHeader.parse(ENVELOPE));
    assertThat(bytes).isLessThan(64 * 1024);
  }

  private static InputStream endlessAfter(byte[] prefix) {
    return new SequenceInputStream(new ByteArrayInputStream(prefix), new EndlessZeros());
  }

  private static void parseQuietly(byte[] b) {
    try {
      EnvelopeHeader.parse(b);
    } catch (InvalidCiphertextException expected) {
      // measured for its allocation only
    }
  }

  /**
   * Bytes this thread allocates running {@code r}, after one warm-up run (class loading), from
   * {@code com.sun.management.ThreadMXBean#getCurrentThreadAllocatedBytes}. Called reflectively:
   * the tests compile inside module dev.byok.core, which does not read java.management.
   */
  static long allocatedBytes(Runnable r) {
    Object bean;
    Method allocated;
    try {
      bean =
          Class.forName("java.lang.management.ManagementFactory")
              .getMethod("getThreadMXBean")
              .invoke(null);
      Class<?> type = Class.forName("com.sun.management.ThreadMXBean");
      assumeTrue(type.isInstance(bean), "no allocation counter in this JVM");
      assumeTrue((Boolean) type.getMethod("isThreadAllocatedMemoryEnabled").invoke(bean));
      allocated = type.getMethod("getCurrentThreadAllocatedBytes");
      r.run();
      long before = (Long) allocated.invoke(bean);
      r.run();
      return (Long) allocated.invoke(bean) - before;
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("cannot read the allocation counter", e);
    }
  }
}
