package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.InvalidCiphertextException.Reason;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The ByteBuffer / FileChannel path: same bytes as the streams, typed errors, checked writes. */
@Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
class NioEnvelopeTest {
  static final int S = 4096;
  static final int FIRST = S - 56;
  static final int LATER = S - 16;
  static final DataKey KEY = DataKey.generate();
  static final EnvelopeEncryptor ENC = RoundTrips.encryptor(KEY, S, EncryptionContext.empty());
  static final EnvelopeDecryptor DEC = EnvelopeDecryptor.create(DataKeyResolver.of(KEY));
  static final byte[] SALT = RoundTrips.randomBytes(32, 1);
  static final byte[] PREFIX = RoundTrips.randomBytes(7, 2);
  static final byte FILL = 0x55;

  @TempDir Path dir;

  static int[] sizes() {
    return new int[] {
      0, 1, FIRST - 1, FIRST, FIRST + 1, FIRST + LATER, FIRST + 3 * LATER + 17, FIRST + 5 * LATER
    };
  }

  static Stream<Arguments> sizesAndKinds() {
    return Arrays.stream(sizes())
        .boxed()
        .flatMap(n -> Stream.of(Arguments.of(n, false), Arguments.of(n, true)));
  }

  static ByteBuffer buffer(int capacity, boolean direct) {
    return direct ? ByteBuffer.allocateDirect(capacity) : ByteBuffer.allocate(capacity);
  }

  static ByteBuffer bufferOf(byte[] bytes, boolean direct, int offset) {
    ByteBuffer b = buffer(offset + bytes.length + 5, direct);
    b.position(offset);
    b.put(bytes);
    b.position(offset).limit(offset + bytes.length);
    return b;
  }

  static byte[] bytes(ByteBuffer b, int from, int to) {
    byte[] out = new byte[to - from];
    ByteBuffer d = b.duplicate();
    d.clear();
    d.position(from).limit(to);
    d.get(out);
    return out;
  }

  static byte[] streamEnvelope(byte[] pt) throws IOException {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (OutputStream out = ENC.newEncryptingStream(sink, SALT, PREFIX)) {
      out.write(pt);
    }
    return sink.toByteArray();
  }

  static byte[] streamDecrypt(byte[] envelope) throws IOException {
    return RoundTrips.readAll(
        DEC.newDecryptingStream(new java.io.ByteArrayInputStream(envelope)), 8192);
  }

  @ParameterizedTest
  @MethodSource("sizesAndKinds")
  void bufferToBufferRoundTripsWithTheStreams(int n, boolean direct) throws IOException {
    byte[] pt = RoundTrips.randomBytes(n, n);
    ByteBuffer src = bufferOf(pt, direct, 3);
    int len = (int) ENC.ciphertextLength(n);
    ByteBuffer dst = buffer(len + 10, direct);
    dst.position(7);

    assertThat(ENC.encrypt(src, dst)).isEqualTo(len);
    assertThat(src.position()).isEqualTo(src.limit());
    assertThat(dst.position()).isEqualTo(7 + len);
    byte[] envelope = bytes(dst, 7, 7 + len);
    assertThat(streamDecrypt(envelope)).isEqualTo(pt); // the stream reader reads it

    ByteBuffer env = bufferOf(streamEnvelope(pt), !direct, 1); // and it reads the stream's
    ByteBuffer out = buffer(n + 4, direct);
    out.position(2);
    assertThat(DEC.decrypt(env, out, null)).isEqualTo(n);
    assertThat(out.position()).isEqualTo(2 + n);
    assertThat(env.hasRemaining()).isFalse();
    assertThat(bytes(out, 2, 2 + n)).isEqualTo(pt);
  }

  @ParameterizedTest
  @MethodSource("sizesAndKinds")
  void channelOutputIsByteForByteTheStreamOutput(int n, boolean direct) throws IOException {
    byte[] pt = RoundTrips.randomBytes(n, n);
    byte[] expected = streamEnvelope(pt);
    Path file = dir.resolve("a");
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {9, 9, 9}));
      long written = ENC.encrypt(bufferOf(pt, direct, 0), ch, 3, null, 1, SALT, PREFIX);
      assertThat(written).isEqualTo(expected.length);
      assertThat(ch.position()).isEqualTo(3); // positional: the channel's position is untouched
    }
    byte[] all = Files.readAllBytes(file);
    assertThat(Arrays.copyOfRange(all, 3, all.length)).isEqualTo(expected);

    Path env = dir.resolve("env");
    Files.write(env, expected);
    ByteBuffer out = buffer(n, direct);
    try (FileChannel ch = FileChannel.open(env, StandardOpenOption.READ)) {
      assertThat(DEC.decrypt(ch, out, null)).isEqualTo(n);
      assertThat(ch.position()).isZero();
    }
    assertThat(bytes(out, 0, n)).isEqualTo(pt);
  }

  @Test
  void publicChannelEncryptRoundTrips() throws IOException {
    byte[] pt = RoundTrips.randomBytes(FIRST + 2 * LATER + 5, 7);
    Path file = dir.resolve("b");
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      assertThat(ENC.encrypt(ByteBuffer.wrap(pt), ch, 0))
          .isEqualTo(ENC.ciphertextLength(pt.length));
    }
    assertThat(streamDecrypt(Files.readAllBytes(file))).isEqualTo(pt);
  }

  @Test
  void shortWritesAreRepeatedUntilComplete() throws IOException {
    byte[] pt = RoundTrips.randomBytes(FIRST + 2 * LATER + 5, 8);
    Path file = dir.resolve("c");
    try (FileChannel real =
            FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        FileChannel ch = new ProbeChannel(real, ProbeChannel.shortWrites(7))) {
      ENC.encrypt(ByteBuffer.wrap(pt), ch, 0, null, 1, SALT, PREFIX);
    }
    assertThat(Files.readAllBytes(file)).isEqualTo(streamEnvelope(pt));
  }

  @Test
  void aChannelThatNeverAcceptsABytefailsInsteadOfSpinning() throws IOException {
    Path file = dir.resolve("d");
    try (FileChannel real =
            FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        FileChannel ch = new ProbeChannel(real, (r, src, pos) -> 0)) {
      assertThatThrownBy(() -> ENC.encrypt(ByteBuffer.wrap(new byte[100]), ch, 0))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("accepted no bytes");
    }
  }

  @Test
  void aFailedWriteNeverLeavesAnEnvelopeThatReadsAsComplete() throws IOException {
    byte[] pt = RoundTrips.randomBytes(FIRST + 3 * LATER + 5, 9); // 5 segments
    long failAt = ENC.header().toByteArray().length + 40 + (FIRST + 16) + 2L * S; // segment 3
    Path file = dir.resolve("e");
    try (FileChannel real =
            FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        FileChannel ch =
            new ProbeChannel(
                real,
                (r, src, pos) -> {
                  if (pos == failAt) {
                    throw new IOException("disk full");
                  }
                  return r.write(src, pos);
                })) {
      assertThatThrownBy(() -> ENC.encrypt(ByteBuffer.wrap(pt), ch, 0))
          .isInstanceOf(IOException.class)
          .hasMessage("disk full");
    }
    byte[] partial = Files.readAllBytes(file);
    assertThat(partial.length).isLessThan((int) ENC.ciphertextLength(pt.length));
    assertThatThrownBy(() -> streamDecrypt(partial)).isInstanceOf(IOException.class);
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void tamperIsATypedErrorAndNoPlaintextIsLeftInTheBuffer(boolean direct) throws IOException {
    byte[] pt = RoundTrips.randomBytes(FIRST + 3 * LATER + 5, 10);
    byte[] envelope = streamEnvelope(pt);
    envelope[envelope.length - LATER - 100] ^=
        1; // in segment 2 of 5: segments 0 and 1 decrypt first
    ByteBuffer out = buffer(pt.length + 8, direct);
    for (int i = 0; i < out.capacity(); i++) {
      out.put(i, FILL);
    }
    out.position(4);
    ByteBuffer env = bufferOf(envelope, direct, 0);
    assertThatThrownBy(() -> DEC.decrypt(env, out, null))
        .isInstanceOfSatisfying(
            InvalidCiphertextException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.AUTHENTICATION_FAILED));
    assertNothingReleased(out, 4);
    assertThat(env.position()).isZero();

    Path file = dir.resolve("t" + direct);
    Files.write(file, envelope);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      assertThatThrownBy(() -> DEC.decrypt(ch, out, null))
          .isInstanceOfSatisfying(
              InvalidCiphertextException.class,
              e -> assertThat(e.reason()).isEqualTo(Reason.AUTHENTICATION_FAILED));
    }
    assertNothingReleased(out, 4);
  }

  static Stream<Boolean> kinds() {
    return Stream.of(false, true);
  }

  private static void assertNothingReleased(ByteBuffer out, int position) {
    assertThat(out.position()).isEqualTo(position);
    for (int i = 0; i < out.capacity(); i++) {
      byte b = out.get(i);
      if (b != 0 && b != FILL) {
        throw new AssertionError("byte " + i + " holds " + b + ": plaintext was left in dst");
      }
    }
    // the authenticated first segments were written and then wiped, not left in place
    assertThat(out.get(position)).isZero();
    assertThat(out.get(position + FIRST + LATER - 1)).isZero();
  }

  @Test
  void truncatedAndTooSmallAreTypedAndWriteNothing() throws IOException {
    byte[] pt = RoundTrips.randomBytes(FIRST + LATER + 5, 11);
    byte[] envelope = streamEnvelope(pt);
    ByteBuffer cut =
        ByteBuffer.wrap(envelope, 0, envelope.length - 21); // the final segment dropped
    ByteBuffer out = ByteBuffer.allocate(pt.length);
    assertThatThrownBy(() -> DEC.decrypt(cut, out, null))
        .isInstanceOfSatisfying(
            InvalidCiphertextException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.TRUNCATED));
    assertThat(out.array()).containsOnly(0);

    ByteBuffer small = ByteBuffer.allocate(pt.length - 1);
    assertThatThrownBy(() -> DEC.decrypt(ByteBuffer.wrap(envelope), small, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(String.valueOf(pt.length));
    assertThatThrownBy(() -> ENC.encrypt(ByteBuffer.wrap(pt), ByteBuffer.allocate(10)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("10 bytes remaining");
    assertThatThrownBy(
            () ->
                DEC.decrypt(
                    ByteBuffer.wrap(envelope),
                    ByteBuffer.allocate(pt.length).asReadOnlyBuffer(),
                    null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("read-only");
  }

  @Test
  void wrongContextIsTypedBeforeAnyPlaintext() {
    EnvelopeEncryptor other = RoundTrips.encryptor(KEY, S, EncryptionContext.of("tenant", "a"));
    ByteBuffer env = ByteBuffer.allocate((int) other.ciphertextLength(100));
    try {
      other.encrypt(ByteBuffer.wrap(new byte[100]), env);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    env.flip();
    assertThatThrownBy(
            () -> DEC.decrypt(env, ByteBuffer.allocate(100), EncryptionContext.of("tenant", "b")))
        .isInstanceOf(InvalidCiphertextException.class);
  }
}
