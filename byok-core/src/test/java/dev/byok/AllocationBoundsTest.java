package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The allocation bounds docs/format.md section 5 states, measured with {@code
 * ThreadMXBean.getThreadAllocatedBytes}: parsing a maximal header, and reading a tiny blob with the
 * largest segment size through a channel and a stream.
 */
class AllocationBoundsTest {
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  /** The bound format.md states for parsing any header. */
  static final long HEADER_PARSE_BOUND = 352 * 1024;

  @BeforeAll
  static void supported() {
    assertThat(THREADS.isThreadAllocatedMemorySupported()).isTrue();
    THREADS.setThreadAllocatedMemoryEnabled(true);
  }

  interface Work {
    void run() throws Exception;
  }

  /** Bytes the current thread allocates in {@code work}: the least of a few runs after warm-up. */
  static long allocated(Work work) throws Exception {
    for (int i = 0; i < 3; i++) {
      work.run();
    }
    long least = Long.MAX_VALUE;
    long id = Thread.currentThread().getId();
    for (int i = 0; i < 5; i++) {
      long before = THREADS.getThreadAllocatedBytes(id);
      work.run();
      least = Math.min(least, THREADS.getThreadAllocatedBytes(id) - before);
    }
    return least;
  }

  /** A legal header at every maximum: 8192-byte context, 16 slots of maximal fields. */
  static byte[] maximalBlob(DataKey key, int segmentSize, byte[] plaintext) throws IOException {
    Map<String, String> ctx = new LinkedHashMap<>();
    // 3 entries of 1024 + 1024 bytes plus one that fills the rest of the 8192 bytes exactly
    for (int i = 0; i < 3; i++) {
      ctx.put(String.format("%04d", i) + "k".repeat(1020), "v".repeat(1024));
    }
    ctx.put("z" + "k".repeat(1009), "w".repeat(1020)); // 2 + 3 * 2052 + (4 + 1010 + 1020) = 8192
    EncryptionContext context = EncryptionContext.of(ctx);
    assertThat(context.toCanonicalBytes()).hasSize(EncryptionContext.MAX_ENCODED_BYTES);
    List<KeySlot> slots = new ArrayList<>();
    for (int i = 0; i < EnvelopeFormat.MAX_KEY_SLOTS; i++) {
      String provider = String.format("%02d", i) + "p".repeat(KeySlot.MAX_PROVIDER_ID_BYTES - 2);
      String arn = String.format("%02d", i) + "a".repeat(KeySlot.MAX_KEY_ARN_BYTES - 2);
      byte[] wrapped = new byte[KeySlot.MAX_WRAPPED_KEY_BYTES];
      Arrays.fill(wrapped, (byte) i);
      slots.add(KeySlot.of(provider, arn, wrapped));
    }
    EnvelopeEncryptor enc =
        EnvelopeEncryptor.builder()
            .dataKey(key)
            .keySlots(slots)
            .encryptionContext(context)
            .segmentSize(segmentSize)
            .build();
    ByteArrayOutputStream bout = new ByteArrayOutputStream();
    try (OutputStream out = enc.newEncryptingStream(bout)) {
      out.write(plaintext);
    }
    return bout.toByteArray();
  }

  @Test
  void parsingAMaximalHeaderStaysWithinTheDocumentedBound() throws Exception {
    byte[] blob = maximalBlob(DataKey.generate(), 4096, new byte[1]);
    EnvelopeHeader h = EnvelopeHeader.parse(blob);
    assertThat(h.keySlots()).hasSize(16);
    assertThat(h.immutableLength()).isEqualTo(EnvelopeFormat.MAX_IMMUTABLE_LENGTH);
    assertThat(h.payloadOffset() - h.immutableLength() - 4)
        .isEqualTo(EnvelopeFormat.MAX_SLOT_SECTION_LENGTH);
    long bytes = allocated(() -> EnvelopeHeader.read(new ByteArrayInputStream(blob)));
    System.out.println("maximal header parse allocates " + bytes + " bytes");
    assertThat(bytes).isLessThan(HEADER_PARSE_BOUND);
  }

  @Test
  void aOneByteBlobWithMaximalSegmentsCostsBytesNotSegments() throws Exception {
    DataKey key = DataKey.generate();
    EnvelopeEncryptor enc =
        EnvelopeEncryptor.builder()
            .dataKey(key)
            .keySlot(RobustTestSupport.SLOT)
            .segmentSize(EnvelopeFormat.MAX_SEGMENT_SIZE)
            .build();
    byte[] blob = RobustTestSupport.encrypt(enc, new byte[] {42});
    EnvelopeDecryptor d = EnvelopeDecryptor.create(DataKeyResolver.of(key));
    long channel =
        allocated(
            () -> {
              try (SeekableByteChannel ch =
                  d.newDecryptingChannel(new RobustTestSupport.ByteArrayChannel(blob))) {
                ByteBuffer one = ByteBuffer.allocate(1);
                assertThat(ch.read(one)).isEqualTo(1);
                assertThat(one.get(0)).isEqualTo((byte) 42);
                assertThat(ch.size()).isEqualTo(1);
              }
            });
    long stream =
        allocated(
            () -> {
              try (InputStream in = d.newDecryptingStream(new ByteArrayInputStream(blob))) {
                assertThat(in.read()).isEqualTo(42);
                assertThat(in.read()).isEqualTo(-1);
              }
            });
    System.out.println("1-byte blob, 8 MiB segments: channel " + channel + ", stream " + stream);
    // the 8 MiB segment is never allocated: a few KiB of cipher, HKDF and header objects remain
    assertThat(channel).isLessThan(64 * 1024);
    assertThat(stream).isLessThan(64 * 1024);
  }
}
