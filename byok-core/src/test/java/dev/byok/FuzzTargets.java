package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Coverage-guided fuzz targets (Jazzer). In a normal build they run in regression mode over the
 * committed seeds in {@code src/test/resources/dev/byok/FuzzTargetsInputs/<target>/}; with {@code
 * JAZZER_FUZZ=1} each one fuzzes (see docs/format.md, "Fuzzing"). Every target asserts: no byte of
 * an unauthenticated segment is released, every rejection is typed ({@link
 * InvalidCiphertextException} or {@link InvalidCiphertextIOException}, nothing else), allocation
 * stays bounded, and nothing hangs (reads always progress; Jazzer's per-input timeout catches a
 * hang while fuzzing).
 */
class FuzzTargets {
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
  private static final DataKey KEY = DataKey.of(new byte[16], new byte[32]);
  private static final EncryptionContext CONTEXT = EncryptionContext.of("t", "1");
  private static final List<KeySlot> SLOTS =
      List.of(KeySlot.of("fuzz", "arn:fuzz:key/1", new byte[] {1, 2, 3}));
  private static final EnvelopeDecryptor DECRYPTOR =
      EnvelopeDecryptor.create(DataKeyResolver.of(KEY));

  private static long allocated() {
    return THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
  }

  /** The header parser on arbitrary bytes: a header, or a typed rejection, in bounded memory. */
  @FuzzTest(maxDuration = "30s")
  void headerParsing(byte[] data) {
    parse(data); // once to load and initialise classes: the second run is measured
    long before = allocated();
    EnvelopeHeader h = parse(data);
    assertThat(allocated() - before).isLessThan(AllocationBoundsTest.HEADER_PARSE_BOUND);
    if (h != null) {
      // one encoding per header: what parsed is exactly what it writes back
      assertThat(h.toByteArray()).isEqualTo(Arrays.copyOf(data, h.length()));
      assertThat(EnvelopeHeader.parse(h.toByteArray()).toByteArray()).isEqualTo(h.toByteArray());
    }
  }

  private static @org.jspecify.annotations.Nullable EnvelopeHeader parse(byte[] data) {
    try {
      return EnvelopeHeader.parse(data);
    } catch (InvalidCiphertextException e) {
      return null;
    }
  }

  /** A real blob, damaged as the fuzzer likes, through the stream: a prefix of authentic bytes. */
  @FuzzTest(maxDuration = "30s")
  void streamDecryption(FuzzedDataProvider data) throws IOException {
    Damaged d = Damaged.of(data);
    int bufferSize = data.consumeInt(1, 3 * 4096);
    stream(d, bufferSize); // once to load and initialise classes: the second run is measured
    long spent = stream(d, bufferSize);
    assertThat(spent).isLessThan(d.allocationBound(bufferSize));
  }

  /**
   * Decrypts {@code d} and checks what was released; returns the bytes the decryption allocated.
   */
  private static long stream(Damaged d, int bufferSize) throws IOException {
    byte[] released = new byte[d.blob.length + bufferSize];
    int count = 0;
    byte[] buf = new byte[bufferSize];
    boolean accepted = false;
    long before = allocated();
    try (InputStream in = DECRYPTOR.newDecryptingStream(new ByteArrayInputStream(d.blob))) {
      int n;
      while ((n = bufferSize == 1 ? single(in, buf) : in.read(buf)) > 0) {
        System.arraycopy(buf, 0, released, count, n);
        count += n;
      }
      if (n == 0) {
        throw new AssertionError("a read of a non-empty buffer returned 0: no progress");
      }
      accepted = true;
    } catch (InvalidCiphertextException | InvalidCiphertextIOException e) {
      // typed rejection; what was released before it is checked below
    }
    long spent = allocated() - before;
    byte[] out = Arrays.copyOf(released, count);
    if (accepted) {
      assertThat(out).isEqualTo(d.plaintext); // accepted: exactly the original
      assertThat(d.authenticatedBytesIntact()).as("accepted a changed blob").isTrue();
    } else {
      assertPrefix(out, d.plaintext);
    }
    return spent;
  }

  /** The channel at random positions over a damaged blob: only authentic bytes, at their place. */
  @FuzzTest(maxDuration = "30s")
  void channelReads(FuzzedDataProvider data) throws IOException {
    Damaged d = Damaged.of(data);
    int reads = data.consumeInt(1, 8);
    long[] at = new long[reads];
    int[] size = new int[reads];
    for (int i = 0; i < reads; i++) {
      at[i] = data.consumeLong(0, d.plaintext.length + 10L);
      size[i] = data.consumeInt(1, 3 * 4096);
    }
    channel(d, at, size); // once to load and initialise classes: the second run is measured
    long before = allocated();
    channel(d, at, size);
    assertThat(allocated() - before).isLessThan(d.allocationBound(reads * 3 * 4096));
  }

  private static void channel(Damaged d, long[] at, int[] size) throws IOException {
    try (SeekableByteChannel ch =
        DECRYPTOR.newDecryptingChannel(new RobustTestSupport.ByteArrayChannel(d.blob))) {
      for (int i = 0; i < at.length; i++) {
        ByteBuffer dst = ByteBuffer.allocate(size[i]);
        ch.position(at[i]);
        try {
          int n = ch.read(dst);
          if (n < 0) {
            assertThat(at[i]).isGreaterThanOrEqualTo(d.plaintext.length);
            continue;
          }
          assertThat(n).isPositive();
          assertThat(Arrays.copyOf(dst.array(), n))
              .isEqualTo(Arrays.copyOfRange(d.plaintext, (int) at[i], (int) at[i] + n));
        } catch (InvalidCiphertextIOException e) {
          assertThat(e.getCause()).isInstanceOf(InvalidCiphertextException.class);
        }
      }
    } catch (InvalidCiphertextException e) {
      // rejected while opening: header, commitment or length
    }
  }

  /** The range planner on arbitrary lengths and ranges: a covering plan or a typed rejection. */
  @FuzzTest(maxDuration = "30s")
  void rangePlanner(FuzzedDataProvider data) throws IOException {
    int segmentSize =
        data.pickValue(new int[] {4096, 4097, 65536, 1 << 20, EnvelopeFormat.MAX_SEGMENT_SIZE});
    EnvelopeHeader header = Damaged.encryptor(segmentSize).header();
    long envelopeLength = data.consumeLong(0, Long.MAX_VALUE);
    if (data.consumeBoolean()) {
      envelopeLength = header.payloadOffset() + 40 + data.consumeLong(0, 20L * segmentSize);
    }
    long offset = data.consumeLong(-2, 30L * segmentSize);
    long length = data.consumeLong(-2, Long.MAX_VALUE);
    RangePlan plan;
    try {
      plan = header.planRange(envelopeLength, offset, length);
    } catch (IllegalArgumentException | InvalidCiphertextException e) {
      return;
    }
    long size = plan.plaintextSize();
    assertThat(offset).isBetween(0L, size);
    assertThat(plan.plaintextLength()).isEqualTo(Math.min(length, size - offset));
    assertThat(plan.ciphertextOffset()).isGreaterThanOrEqualTo(header.payloadOffset() + 40L);
    assertThat(plan.ciphertextOffset() + plan.ciphertextLength())
        .isLessThanOrEqualTo(envelopeLength);
    if (plan.plaintextLength() > 0 || offset == size) {
      // whole segments: it starts at a segment start and ends at a segment end or the blob's end
      long first = plan.firstSegment();
      long start = first == 0 ? 40 : first * segmentSize;
      assertThat(plan.ciphertextOffset()).isEqualTo(header.payloadOffset() + start);
      long end = plan.ciphertextOffset() + plan.ciphertextLength();
      assertThat(end == envelopeLength || (end - header.payloadOffset()) % segmentSize == 0)
          .isTrue();
      assertThat(plan.lastSegment()).isLessThan(plan.segmentCount());
    }
  }

  private static int single(InputStream in, byte[] buf) throws IOException {
    int b = in.read();
    if (b < 0) {
      return -1;
    }
    buf[0] = (byte) b;
    return 1;
  }

  private static void assertPrefix(byte[] released, byte[] plaintext) {
    assertThat(released.length).isLessThanOrEqualTo(plaintext.length);
    assertThat(released).isEqualTo(Arrays.copyOf(plaintext, released.length));
  }

  /** A valid blob of fuzzer-chosen length, then fuzzer-chosen damage. */
  static final class Damaged {
    final byte[] plaintext;
    final byte[] original;
    final byte[] blob;
    final int slotStart;
    final int slotEnd;

    private Damaged(byte[] plaintext, byte[] original, byte[] blob) {
      this.plaintext = plaintext;
      this.original = original;
      this.blob = blob;
      EnvelopeHeader h = EnvelopeHeader.parse(original);
      this.slotStart = h.immutableLength();
      this.slotEnd = h.payloadOffset();
    }

    static EnvelopeEncryptor encryptor(int segmentSize) {
      return EnvelopeEncryptor.builder()
          .dataKey(KEY)
          .keySlots(SLOTS)
          .encryptionContext(CONTEXT)
          .segmentSize(segmentSize)
          .build();
    }

    static Damaged of(FuzzedDataProvider data) throws IOException {
      int size = data.consumeInt(0, 4 * 4096);
      byte[] plaintext = new byte[size];
      new Random(size).nextBytes(plaintext);
      ByteArrayOutputStream bout = new ByteArrayOutputStream();
      try (OutputStream out = encryptor(4096).newEncryptingStream(bout)) {
        out.write(plaintext);
      }
      byte[] original = bout.toByteArray();
      byte[] blob = original;
      int edits = data.consumeInt(0, 4);
      for (int i = 0; i < edits && blob.length > 0; i++) {
        switch (data.consumeInt(0, 3)) {
          case 0 -> {
            blob = blob.clone();
            blob[data.consumeInt(0, blob.length - 1)] ^= (byte) data.consumeInt(1, 255);
          }
          case 1 -> blob = Arrays.copyOf(blob, data.consumeInt(0, blob.length - 1));
          case 2 -> {
            byte[] tail = data.consumeBytes(5000);
            byte[] longer = Arrays.copyOf(blob, blob.length + tail.length);
            System.arraycopy(tail, 0, longer, blob.length, tail.length);
            blob = longer;
          }
          default -> {
            // move a block of bytes within the blob (reorders, duplicates segments)
            int from = data.consumeInt(0, blob.length - 1);
            int to = data.consumeInt(0, blob.length - 1);
            int n = data.consumeInt(0, Math.min(blob.length - from, blob.length - to));
            blob = blob.clone();
            System.arraycopy(blob.clone(), from, blob, to, n);
          }
        }
      }
      return new Damaged(plaintext, original, blob);
    }

    /** Whether every byte outside the key slots is as written (then decryption must succeed). */
    boolean authenticatedBytesIntact() {
      return blob.length == original.length
          && Arrays.equals(blob, 0, slotStart, original, 0, slotStart)
          && Arrays.equals(blob, slotEnd, blob.length, original, slotEnd, original.length);
    }

    /** Header, two segments, the caller's buffer, the blob's copies, and cipher state. */
    long allocationBound(int bufferSize) {
      return AllocationBoundsTest.HEADER_PARSE_BOUND + 4L * 4096 + bufferSize + 64 * 1024;
    }
  }
}
