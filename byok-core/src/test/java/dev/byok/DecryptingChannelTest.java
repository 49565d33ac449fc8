package dev.byok;

import static dev.byok.RoundTrips.assertSameBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;
import org.junit.jupiter.api.io.TempDir;

/** Random access over a real envelope file. */
@Timeout(
    value = 30,
    threadMode = ThreadMode.SEPARATE_THREAD) // a read loop that never ends must fail, not hang
class DecryptingChannelTest {
  private static final int S = 4096;
  private static final int FIRST = S - 56;
  private static final int LATER = S - 16;
  private static final int SIZE = FIRST + 9 * LATER + 1000; // 11 segments, the last one short
  private static final Duration NO_HANG = Duration.ofSeconds(5);
  private static final DataKey KEY = DataKey.generate();
  private static final EnvelopeDecryptor DECRYPTOR =
      EnvelopeDecryptor.create(DataKeyResolver.of(KEY));
  private static final byte[] PLAINTEXT = RoundTrips.randomBytes(SIZE, 99);

  @TempDir Path dir;
  private Path file;
  private byte[] envelope;
  private int payloadOffset;

  @BeforeEach
  void writeEnvelope() throws IOException {
    envelope =
        RoundTrips.encryptPush(
            RoundTrips.encryptor(KEY, S, EncryptionContext.empty()), PLAINTEXT, SIZE, 5000);
    payloadOffset = EnvelopeHeader.parse(envelope).payloadOffset();
    file = dir.resolve("blob.byok");
    Files.write(file, envelope);
  }

  private SeekableByteChannel open(SeekableByteChannel source) throws IOException {
    return DECRYPTOR.newDecryptingChannel(source);
  }

  private static byte[] readAt(SeekableByteChannel ch, long position, int length)
      throws IOException {
    ch.position(position);
    ByteBuffer buf = ByteBuffer.allocate(length);
    while (buf.hasRemaining() && ch.read(buf) >= 0) {
      // a read may stop at a segment boundary; keep going
    }
    return Arrays.copyOf(buf.array(), buf.position());
  }

  @Test
  void wholeSegmentReadsIntoTheCallersArrayReleaseNothingOfASegmentThatFails() throws IOException {
    byte[] tampered = envelope.clone();
    tampered[payloadOffset + 2 * S + 100] ^= 1; // inside segment 2
    Files.write(file, tampered);
    byte[] big = new byte[SIZE];
    Arrays.fill(big, (byte) 0x5a);
    ByteBuffer dst = ByteBuffer.wrap(big);
    try (SeekableByteChannel ch = open(FileChannel.open(file, StandardOpenOption.READ))) {
      assertThatThrownBy(
              () -> {
                while (dst.hasRemaining() && ch.read(dst) >= 0) {
                  // whole segments go straight into big until segment 2 fails
                }
              })
          .isInstanceOfSatisfying(
              InvalidCiphertextIOException.class,
              e ->
                  assertThat(e.reason())
                      .isEqualTo(InvalidCiphertextException.Reason.AUTHENTICATION_FAILED));
    }
    int released = FIRST + LATER; // segments 0 and 1
    assertThat(dst.position()).isEqualTo(released);
    assertThat(Arrays.copyOf(big, released)).isEqualTo(Arrays.copyOf(PLAINTEXT, released));
    byte[] segment2 = Arrays.copyOfRange(big, released, released + LATER);
    for (int i = 0; i < segment2.length; i++) {
      assertThat(segment2[i]).as("byte %d of the failed segment", i).isIn((byte) 0, (byte) 0x5a);
    }
    assertThat(Arrays.copyOfRange(big, released, released + LATER))
        .as("no plaintext of the failed segment")
        .isNotEqualTo(Arrays.copyOfRange(PLAINTEXT, released, released + LATER));
  }

  @Test
  void randomReadsMatchThePlaintext() throws IOException {
    Random random = new Random(1);
    try (SeekableByteChannel ch = open(FileChannel.open(file, StandardOpenOption.READ))) {
      assertThat(ch.size()).isEqualTo(SIZE);
      for (int i = 0; i < 300; i++) {
        int position = random.nextInt(SIZE + 1);
        int length = random.nextInt(i % 10 == 0 ? 3 * S : 200) + 1;
        int expected = Math.min(length, SIZE - position);
        assertSameBytes(PLAINTEXT, position, expected, readAt(ch, position, length));
        assertThat(ch.position()).isEqualTo(position + expected);
      }
    }
  }

  @Test
  void readsTouchOnlyTheCoveringSegments() throws IOException {
    Random random = new Random(2);
    for (int i = 0; i < 60; i++) {
      int position = random.nextInt(SIZE);
      int length = 1 + random.nextInt(i % 3 == 0 ? 2 * S : 64);
      int end = Math.min(SIZE, position + length);
      try (CountingChannel counting =
              new CountingChannel(FileChannel.open(file, StandardOpenOption.READ));
          SeekableByteChannel ch = open(counting)) {
        counting.reads.clear(); // the header
        assertSameBytes(PLAINTEXT, position, end - position, readAt(ch, position, length));
        // covering segments, in envelope offsets
        long first = segmentOf(position);
        long last = segmentOf(end - 1);
        long from = payloadOffset + (first == 0 ? 40 : first * S);
        long to = Math.min(envelope.length, payloadOffset + (last + 1) * S);
        assertThat(counting.total())
            .as("bytes read for [%d, %d)", position, end)
            .isEqualTo(to - from);
        for (long[] r : counting.reads) {
          assertThat(r[0]).isGreaterThanOrEqualTo(from);
          assertThat(r[0] + r[1]).isLessThanOrEqualTo(to);
        }
      }
    }
  }

  private static long segmentOf(long plaintextOffset) {
    return plaintextOffset < FIRST ? 0 : 1 + (plaintextOffset - FIRST) / LATER;
  }

  @Test
  void sizeIsThePlaintextSize() throws IOException {
    try (SeekableByteChannel ch = open(FileChannel.open(file, StandardOpenOption.READ))) {
      assertThat(ch.size()).isEqualTo(SIZE);
    }
    Path empty = dir.resolve("empty.byok");
    Files.write(
        empty,
        RoundTrips.encryptPush(
            RoundTrips.encryptor(KEY, S, EncryptionContext.empty()), PLAINTEXT, 0, 1));
    try (SeekableByteChannel ch = open(FileChannel.open(empty, StandardOpenOption.READ))) {
      assertThat(ch.size()).isZero();
      assertThat(ch.read(ByteBuffer.allocate(10))).isEqualTo(-1);
    }
  }

  @Test
  void truncatedAtASegmentBoundaryIsDetectedWithoutHanging() throws IOException {
    for (int keptSegments : new int[] {1, 2, 5}) {
      Path cut = dir.resolve("cut" + keptSegments);
      Files.write(cut, Arrays.copyOf(envelope, payloadOffset + keptSegments * S));
      assertTimeoutPreemptively(
          NO_HANG,
          () -> {
            try (SeekableByteChannel ch = open(FileChannel.open(cut, StandardOpenOption.READ))) {
              assertThatThrownBy(ch::size)
                  .isInstanceOfSatisfying(
                      InvalidCiphertextIOException.class,
                      e ->
                          assertThat(e.reason())
                              .isEqualTo(InvalidCiphertextException.Reason.TRUNCATED));
            }
            try (SeekableByteChannel ch = open(FileChannel.open(cut, StandardOpenOption.READ))) {
              long apparentEnd = FIRST + (keptSegments - 1L) * LATER; // what the cut length claims
              assertThatThrownBy(() -> readAt(ch, apparentEnd - 1, 10))
                  .isInstanceOf(InvalidCiphertextIOException.class);
              assertThatThrownBy(() -> readAt(ch, apparentEnd + 5, 10))
                  .isInstanceOf(InvalidCiphertextIOException.class);
            }
          });
    }
  }

  @Test
  void aSourceShorterThanItsSizeFailsInsteadOfSpinning() throws IOException {
    assertTimeoutPreemptively(
        NO_HANG,
        () -> {
          // the source claims the full length but ends (-1) two segments early
          try (SeekableByteChannel ch =
              open(
                  new CountingChannel(FileChannel.open(file, StandardOpenOption.READ)) {
                    @Override
                    public int read(ByteBuffer dst) throws IOException {
                      return position() >= envelope.length - 2L * S ? -1 : super.read(dst);
                    }
                  })) {
            assertThatThrownBy(() -> readAt(ch, SIZE - 1, 1))
                .isInstanceOf(InvalidCiphertextIOException.class);
          }
          // the source stops returning bytes after the header
          try (SeekableByteChannel ch = open(stallingAt(payloadOffset + 40))) {
            assertThatThrownBy(() -> readAt(ch, 0, 1)).isInstanceOf(IOException.class);
          }
        });
  }

  @Test
  void aSourceThatStallsInsideTheHeaderFailsInsteadOfSpinning() {
    for (long at : new long[] {0, 6, payloadOffset - 1, payloadOffset + 20}) {
      assertTimeoutPreemptively(
          NO_HANG,
          () -> {
            assertThatThrownBy(() -> open(stallingAt(at)))
                .as("stall at %d", at)
                .isInstanceOf(IOException.class);
          });
    }
  }

  /**
   * A source whose reads return 0 bytes from {@code position} on, like a misbehaving non-blocking
   * channel.
   */
  private CountingChannel stallingAt(long position) throws IOException {
    return new CountingChannel(FileChannel.open(file, StandardOpenOption.READ)) {
      @Override
      public int read(ByteBuffer dst) throws IOException {
        if (position() >= position) {
          return 0;
        }
        ByteBuffer upTo = dst.slice().limit((int) Math.min(dst.remaining(), position - position()));
        int n = super.read(upTo);
        if (n > 0) {
          dst.position(dst.position() + n);
        }
        return n;
      }
    };
  }

  @Test
  void readingAtOrBeyondTheEndReturnsMinusOne() throws IOException {
    try (SeekableByteChannel ch = open(FileChannel.open(file, StandardOpenOption.READ))) {
      for (long position : new long[] {SIZE, SIZE + 1L, 10L * SIZE, Long.MAX_VALUE}) {
        ch.position(position);
        assertThat(ch.read(ByteBuffer.allocate(16))).isEqualTo(-1);
        assertThat(ch.position()).isEqualTo(position);
      }
      ch.position(SIZE - 1);
      ByteBuffer buf = ByteBuffer.allocate(16);
      assertThat(ch.read(buf)).isEqualTo(1);
      assertThat(buf.get(0)).isEqualTo(PLAINTEXT[SIZE - 1]);
      assertThat(ch.read(buf)).isEqualTo(-1);
      assertThat(ch.read(ByteBuffer.allocate(0))).isZero();
      assertThatThrownBy(() -> ch.position(-1)).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void isReadOnly() throws IOException {
    try (SeekableByteChannel ch = open(FileChannel.open(file, StandardOpenOption.READ))) {
      assertThatThrownBy(() -> ch.write(ByteBuffer.allocate(1)))
          .isInstanceOf(NonWritableChannelException.class);
      assertThatThrownBy(() -> ch.truncate(0)).isInstanceOf(NonWritableChannelException.class);
    }
  }

  @Test
  void aClosedChannelRefusesUseAndClosesItsSource() throws IOException {
    CountingChannel source = new CountingChannel(FileChannel.open(file, StandardOpenOption.READ));
    SeekableByteChannel ch = open(source);
    assertThat(readAt(ch, 100, 10)).hasSize(10);
    ch.close();
    assertThat(ch.isOpen()).isFalse();
    assertThat(source.isOpen()).isFalse();
    ch.close(); // idempotent
    assertThatThrownBy(() -> ch.read(ByteBuffer.allocate(1)))
        .isInstanceOf(ClosedChannelException.class);
    assertThatThrownBy(ch::size).isInstanceOf(ClosedChannelException.class);
    assertThatThrownBy(ch::position).isInstanceOf(ClosedChannelException.class);
    assertThatThrownBy(() -> ch.position(0)).isInstanceOf(ClosedChannelException.class);
  }

  /** Records every read from the source as (position, bytes). */
  private static class CountingChannel implements SeekableByteChannel {
    final SeekableByteChannel delegate;
    final List<long[]> reads = new ArrayList<>();

    CountingChannel(SeekableByteChannel delegate) {
      this.delegate = delegate;
    }

    long total() {
      return reads.stream().mapToLong(r -> r[1]).sum();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      long at = delegate.position();
      int n = delegate.read(dst);
      if (n > 0) {
        reads.add(new long[] {at, n});
      }
      return n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      return delegate.write(src);
    }

    @Override
    public long position() throws IOException {
      return delegate.position();
    }

    @Override
    public SeekableByteChannel position(long newPosition) throws IOException {
      delegate.position(newPosition);
      return this;
    }

    @Override
    public long size() throws IOException {
      return delegate.size();
    }

    @Override
    public SeekableByteChannel truncate(long size) throws IOException {
      delegate.truncate(size);
      return this;
    }

    @Override
    public boolean isOpen() {
      return delegate.isOpen();
    }

    @Override
    public void close() throws IOException {
      delegate.close();
    }
  }
}
