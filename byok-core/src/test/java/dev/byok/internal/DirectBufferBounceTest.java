package dev.byok.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.function.IntFunction;
import javax.crypto.AEADBadTagException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 13 (zero-copy path): a direct {@link ByteBuffer} goes through a heap chunk of the segment
 * cipher instead of SunJCE's 512-byte direct-buffer loop. Every mix of heap, direct and read-only
 * buffers, at offsets inside larger buffers, gives the same ciphertext and plaintext as plain
 * arrays; positions and limits move exactly as documented; failures write nothing usable; the
 * plaintext left in the bounce array is zeroed by {@code close()}. Buffers are slices, so heap ones
 * have a non-zero array offset.
 */
class DirectBufferBounceTest {
  private static final int TAG = SegmentLayout.TAG_LENGTH;
  private final byte[] key = new byte[32];
  private final byte[] prefix = {1, 2, 3, 4, 5, 6, 7};

  DirectBufferBounceTest() {
    new Random(7).nextBytes(key);
  }

  private enum Kind {
    HEAP(ByteBuffer::allocate),
    DIRECT(ByteBuffer::allocateDirect);

    final IntFunction<ByteBuffer> alloc;

    Kind(IntFunction<ByteBuffer> alloc) {
      this.alloc = alloc;
    }
  }

  /**
   * {@code data} at position 13 of a slice that starts 9 bytes into a larger buffer of the kind (a
   * heap slice has a non-zero array offset), with bytes after its limit.
   */
  private static ByteBuffer placed(Kind kind, byte[] data, boolean readOnly) {
    ByteBuffer whole = kind.alloc.apply(data.length + 60);
    ByteBuffer b = whole.position(9).slice();
    b.position(13);
    b.put(data);
    b.limit(13 + data.length).position(13);
    return readOnly ? b.asReadOnlyBuffer() : b;
  }

  private static byte[] remaining(ByteBuffer b, int from, int len) {
    byte[] a = new byte[len];
    b.get(from, a, 0, len);
    return a;
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 15, 16, 17, 4095, 65535, 65536, 65537, 100_003, 131_072, 1 << 20})
  void everyBufferMixEncryptsAndDecryptsLikeArrays(int len) throws Exception {
    byte[] plain = new byte[len];
    new Random(len).nextBytes(plain);
    byte[] expected = new byte[len + TAG];
    try (Closing c = new Closing(new SegmentCipher(key, prefix))) {
      assertThat(c.cipher.encrypt(3, true, plain, 0, len, expected, 0)).isEqualTo(len + TAG);
    }
    for (Kind inKind : Kind.values()) {
      for (Kind outKind : Kind.values()) {
        for (boolean readOnly : new boolean[] {false, true}) {
          String what = inKind + "->" + outKind + (readOnly ? " (read-only source)" : "");
          SegmentCipher cipher = new SegmentCipher(key, prefix);
          try {
            ByteBuffer in = placed(inKind, plain, readOnly);
            ByteBuffer out = outKind.alloc.apply(len + TAG + 60).position(3).slice();
            out.position(7);
            out.put(7 + len + TAG, (byte) 0x5a); // past the segment: must stay
            assertThat(cipher.encrypt(3, true, in, out)).as(what).isEqualTo(len + TAG);
            assertThat(in.position()).as(what).isEqualTo(13 + len);
            assertThat(in.limit()).as(what).isEqualTo(13 + len);
            assertThat(out.position()).as(what).isEqualTo(7 + len + TAG);
            assertThat(remaining(out, 7, len + TAG)).as(what).isEqualTo(expected);
            assertThat(out.get(7 + len + TAG)).as(what).isEqualTo((byte) 0x5a);

            ByteBuffer ct = placed(outKind, expected, readOnly);
            ByteBuffer back = inKind.alloc.apply(len + 40).position(11).slice();
            back.position(5);
            back.put(5 + len, (byte) 0x33);
            assertThat(cipher.decrypt(3, true, ct, back)).as(what).isEqualTo(len);
            assertThat(ct.position()).as(what).isEqualTo(13 + len + TAG);
            assertThat(back.position()).as(what).isEqualTo(5 + len);
            assertThat(remaining(back, 5, len)).as(what).isEqualTo(plain);
            assertThat(back.get(5 + len)).as(what).isEqualTo((byte) 0x33);
          } finally {
            cipher.close();
          }
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 65536, 100_003})
  void aTamperedSegmentWritesNothingUsableAndMovesNoPosition(int len) throws Exception {
    byte[] plain = new byte[len];
    Arrays.fill(plain, (byte) 0x77);
    byte[] ct = new byte[len + TAG];
    try (Closing c = new Closing(new SegmentCipher(key, prefix))) {
      c.cipher.encrypt(0, true, plain, 0, len, ct, 0);
    }
    ct[len / 2] ^= 1;
    for (Kind inKind : Kind.values()) {
      for (Kind outKind : Kind.values()) {
        try (Closing c = new Closing(new SegmentCipher(key, prefix))) {
          ByteBuffer in = placed(inKind, ct, false);
          ByteBuffer out = outKind.alloc.apply(len + 10);
          out.position(3);
          assertThatThrownBy(() -> c.cipher.decrypt(0, true, in, out))
              .isInstanceOf(AEADBadTagException.class);
          assertThat(in.position()).isEqualTo(13);
          assertThat(out.position()).isEqualTo(3);
          assertThat(remaining(out, 0, len + 10)).containsOnly((byte) 0);
          byte[][] held = c.cipher.bounceArrays();
          if (held != null && held[1] != null) {
            assertThat(held[1]).as("unauthenticated plaintext in the bounce array").containsOnly(0);
          }
        }
      }
    }
  }

  @Test
  void slicesOfOneHeapArrayEncryptLikeSeparateArrays() throws Exception {
    int len = 150_000;
    byte[] plain = new byte[len];
    new Random(3).nextBytes(plain);
    byte[] expected = new byte[len + TAG];
    byte[] shared = new byte[2 * len + 100];
    try (Closing c = new Closing(new SegmentCipher(key, prefix))) {
      c.cipher.encrypt(9, false, plain, 0, len, expected, 0);
    }
    try (Closing c = new Closing(new SegmentCipher(key, prefix))) {
      System.arraycopy(plain, 0, shared, 0, len);
      ByteBuffer in = ByteBuffer.wrap(shared, 0, len).slice();
      ByteBuffer out = ByteBuffer.wrap(shared, len + 50, len + TAG).slice();
      assertThat(c.cipher.encrypt(9, false, in, out)).isEqualTo(len + TAG);
      assertThat(Arrays.copyOfRange(shared, len + 50, len + 50 + len + TAG)).isEqualTo(expected);
      assertThat(Arrays.copyOfRange(shared, 0, len)).isEqualTo(plain);
    }
  }

  @Test
  void aWrongNonceFailsTheSameWayThroughTheBounce() throws Exception {
    byte[] plain = new byte[70_000];
    byte[] ct = new byte[plain.length + TAG];
    try (Closing c = new Closing(new SegmentCipher(key, prefix))) {
      c.cipher.encrypt(5, false, plain, 0, plain.length, ct, 0);
      ByteBuffer out = ByteBuffer.allocateDirect(plain.length);
      assertThatThrownBy(() -> c.cipher.decrypt(5, true, placed(Kind.DIRECT, ct, false), out))
          .isInstanceOf(AEADBadTagException.class);
      assertThat(out.position()).isZero();
    }
  }

  @Test
  void anOutputTooSmallIsRefusedBeforeAnyByteMoves() {
    try (Closing c = new Closing(new SegmentCipher(key, prefix))) {
      ByteBuffer in = ByteBuffer.allocateDirect(100);
      ByteBuffer out = ByteBuffer.allocateDirect(100 + TAG - 1);
      assertThatThrownBy(() -> c.cipher.encrypt(0, true, in, out))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("116");
      assertThat(in.position()).isZero();
      assertThat(out.position()).isZero();
      assertThat(remaining(out, 0, out.capacity())).containsOnly((byte) 0);

      ByteBuffer ct = ByteBuffer.allocateDirect(100 + TAG);
      c.cipher.encrypt(0, true, ByteBuffer.allocateDirect(100), ct);
      ct.flip();
      ByteBuffer small = ByteBuffer.allocateDirect(99);
      assertThatThrownBy(() -> c.cipher.decrypt(0, true, ct, small))
          .isInstanceOf(AEADBadTagException.class);
      assertThat(ct.position()).isZero();
      assertThat(small.position()).isZero();
    }
  }

  @Test
  void closeZeroesThePlaintextTheBounceHeld() throws Exception {
    byte[] plain = new byte[200_000];
    Arrays.fill(plain, (byte) 0x41);
    SegmentCipher cipher = new SegmentCipher(key, prefix);
    byte[][] held;
    try {
      ByteBuffer ct = ByteBuffer.allocateDirect(plain.length + TAG);
      cipher.encrypt(0, true, placed(Kind.DIRECT, plain, false), ct);
      byte[][] afterEncrypt = cipher.bounceArrays();
      assertThat(afterEncrypt).isNotNull();
      assertThat(longestRun(afterEncrypt[0], (byte) 0x41))
          .as("the chunk holds ciphertext, never a run of the plaintext")
          .isLessThan(8);
      ct.flip();
      ByteBuffer back = ByteBuffer.allocateDirect(plain.length);
      cipher.decrypt(0, true, ct, back);
      held = cipher.bounceArrays();
      assertThat(held).isNotNull();
      assertThat(held[1]).isNotNull().contains((byte) 0x41);
    } finally {
      cipher.close();
    }
    assertThat(held[1]).containsOnly((byte) 0);
    assertThat(held[0]).containsOnly((byte) 0);
    assertThat(cipher.bounceArrays()).isNull();
  }

  private static int longestRun(byte[] a, byte b) {
    int best = 0;
    int run = 0;
    for (byte x : a) {
      run = x == b ? run + 1 : 0;
      best = Math.max(best, run);
    }
    return best;
  }

  /** try-with-resources for a segment cipher. */
  private record Closing(SegmentCipher cipher) implements AutoCloseable {
    @Override
    public void close() {
      cipher.close();
    }
  }
}
