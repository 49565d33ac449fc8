package dev.byok;

import static dev.byok.RoundTrips.assertSameBytes;
import static dev.byok.RoundTrips.readAll;
import static dev.byok.RoundTrips.trickle;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** Random sizes, segment sizes, chunkings and contexts round-trip through every pair of APIs. */
class RoundTripProperties {
  private static final DataKey KEY = DataKey.generate();
  private static final EnvelopeDecryptor DECRYPTOR =
      EnvelopeDecryptor.create(DataKeyResolver.of(KEY));
  private static final byte[] PLAINTEXT = RoundTrips.randomBytes(200 * 1024, 17);

  @Provide
  Arbitrary<Map<String, String>> contexts() {
    Arbitrary<String> keys =
        Arbitraries.strings()
            .withCharRange('a', 'z')
            .withCharRange('\u00e0', '\u00ff')
            .withChars('/', ':', '-', '\u4e2d')
            .ofMinLength(1)
            .ofMaxLength(24);
    Arbitrary<String> values =
        Arbitraries.strings().withCharRange(' ', '~').withChars('\u00e9', '\u20ac').ofMaxLength(40);
    return Arbitraries.maps(keys, values).ofMaxSize(6);
  }

  @Property(tries = 50)
  void pushThenDecryptingStream(
      @ForAll @IntRange(max = 200 * 1024) int size,
      @ForAll @IntRange(min = 4096, max = 70000) int segmentSize,
      @ForAll @IntRange(min = 1, max = 100_000) int writeChunk,
      @ForAll @IntRange(min = 1, max = 100_000) int readChunk,
      @ForAll("contexts") Map<String, String> context)
      throws IOException {
    EncryptionContext ctx = EncryptionContext.of(context);
    EnvelopeEncryptor enc = RoundTrips.encryptor(KEY, segmentSize, ctx);
    byte[] envelope = RoundTrips.encryptPush(enc, PLAINTEXT, size, writeChunk);
    assertThat((long) envelope.length).isEqualTo(enc.ciphertextLength(size));
    assertThat(enc.plaintextLength(envelope.length)).isEqualTo(size);
    try (InputStream in =
        DECRYPTOR.newDecryptingStream(
            trickle(new ByteArrayInputStream(envelope), readChunk), ctx)) {
      assertSameBytes(PLAINTEXT, 0, size, readAll(in, readChunk));
    }
  }

  @Property(tries = 50)
  void pullThenDecryptingChannel(
      @ForAll @IntRange(max = 200 * 1024) int size,
      @ForAll @IntRange(min = 4096, max = 70000) int segmentSize,
      @ForAll @IntRange(min = 1, max = 100_000) int pullChunk,
      @ForAll @IntRange(min = 1, max = 100_000) int readChunk,
      @ForAll @IntRange(max = 200 * 1024) int seekTo,
      @ForAll("contexts") Map<String, String> context)
      throws IOException {
    EncryptionContext ctx = EncryptionContext.of(context);
    EnvelopeEncryptor enc = RoundTrips.encryptor(KEY, segmentSize, ctx);
    byte[] envelope;
    try (InputStream in =
        enc.newEncryptingInputStream(
            trickle(new ByteArrayInputStream(PLAINTEXT, 0, size), pullChunk))) {
      envelope = readAll(in, pullChunk);
    }
    assertThat((long) envelope.length).isEqualTo(enc.ciphertextLength(size));
    Path file = Files.createTempFile("byok-prop", ".byok");
    try {
      Files.write(file, envelope);
      try (SeekableByteChannel ch =
          DECRYPTOR.newDecryptingChannel(FileChannel.open(file, StandardOpenOption.READ), ctx)) {
        assertThat(ch.size()).isEqualTo(size);
        assertSameBytes(PLAINTEXT, 0, size, readAll(ch, readChunk));
        int from = Math.min(seekTo, size);
        ch.position(from);
        assertSameBytes(PLAINTEXT, from, size - from, readAll(ch, readChunk));
        assertThat(ch.read(ByteBuffer.allocate(1))).isEqualTo(-1);
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }

  @Property(tries = 50)
  void planRangeThenDecryptRange(
      @ForAll @IntRange(max = 200 * 1024) int size,
      @ForAll @IntRange(min = 4096, max = 70000) int segmentSize,
      @ForAll @IntRange(max = 200 * 1024) int offset,
      @ForAll @IntRange(max = 200 * 1024) int length,
      @ForAll @IntRange(min = 1, max = 100_000) int readChunk)
      throws IOException {
    EnvelopeEncryptor enc = RoundTrips.encryptor(KEY, segmentSize, EncryptionContext.empty());
    byte[] envelope = RoundTrips.encryptPush(enc, PLAINTEXT, size, 65536);
    EnvelopeHeader header = EnvelopeHeader.read(new ByteArrayInputStream(envelope));
    int from = Math.min(offset, size);
    RangePlan plan = header.planRange(envelope.length, from, length);
    int start = (int) plan.ciphertextOffset();
    byte[] fetched = Arrays.copyOfRange(envelope, start, start + (int) plan.ciphertextLength());
    try (InputStream in =
        DECRYPTOR.decryptRange(header, plan, new ByteArrayInputStream(fetched), null)) {
      assertSameBytes(PLAINTEXT, from, Math.min(length, size - from), readAll(in, readChunk));
    }
  }
}
