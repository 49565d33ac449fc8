package dev.byok;

import static dev.byok.RoundTrips.assertSameBytes;
import static dev.byok.RoundTrips.encryptPush;
import static dev.byok.RoundTrips.readAll;
import static dev.byok.RoundTrips.trickle;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One matrix over plaintext sizes x segment sizes x chunk sizes x APIs. Each case checks the round
 * trip is byte-identical, the envelope is exactly {@code ciphertextLength(size)} bytes, and {@code
 * plaintextLength} inverts it.
 */
class RoundTripMatrixTest {
  private static final int KIB = 1024;
  private static final int MIB = 1024 * KIB;
  private static final int[] SEGMENT_SIZES = {4 * KIB, 64 * KIB, MIB};
  private static final int[] CHUNKS = {1, 7, 4096, MIB};
  private static final int LARGE = 16 * MIB;

  /** Every case reads a prefix of this one buffer. */
  private static final byte[] PLAINTEXT = RoundTrips.randomBytes(LARGE, 0x5eed);

  private static final DataKey KEY = DataKey.generate();
  private static final EnvelopeDecryptor DECRYPTOR =
      EnvelopeDecryptor.create(DataKeyResolver.of(KEY));
  private static final EncryptionContext CONTEXT =
      EncryptionContext.of("tenant", "t-42", "bucket", "snapshots");

  enum Api {
    PUSH,
    PULL,
    CHANNEL,
    FILE
  }

  /** Sizes around the segment boundaries of segment size {@code s}. */
  static int[] sizes(int s) {
    int first = s - 56; // first-segment plaintext capacity: S - 40 (payload header) - 16 (tag)
    int later = s - 16; // plaintext per later segment
    return new int[] {
      0,
      1,
      first - 1,
      first,
      first + 1,
      first + later - 1,
      first + later,
      first + later + 1,
      3 * later + 7,
      LARGE
    };
  }

  static Stream<Arguments> cases() {
    List<Arguments> cases = new ArrayList<>();
    for (int s : SEGMENT_SIZES) {
      for (int size : sizes(s)) {
        for (Api api : Api.values()) {
          for (int chunk : CHUNKS) {
            // encryptFile/decryptFile take no chunk size: one case per (size, segment) is all there
            // is.
            if (api == Api.FILE && chunk != 4096) {
              continue;
            }
            // One-byte chunks over 16 MiB repeat what smaller sizes already show and cost seconds
            // each: run them for one API per segment size (push on 4 KiB, pull on 64 KiB, channel
            // on 1 MiB).
            if (size == LARGE && chunk == 1 && api != oneByteApiFor(s)) {
              continue;
            }
            cases.add(Arguments.of(api, s, size, chunk));
          }
        }
      }
    }
    return cases.stream();
  }

  private static Api oneByteApiFor(int segmentSize) {
    return segmentSize == SEGMENT_SIZES[0]
        ? Api.PUSH
        : segmentSize == SEGMENT_SIZES[1] ? Api.PULL : Api.CHANNEL;
  }

  @ParameterizedTest(name = "{0} segment={1} size={2} chunk={3}")
  @MethodSource("cases")
  void roundTrip(Api api, int segmentSize, int size, int chunk, @TempDir Path dir)
      throws IOException {
    EnvelopeEncryptor enc = RoundTrips.encryptor(KEY, segmentSize, CONTEXT);
    long expectedLength = enc.ciphertextLength(size);
    assertThat(enc.plaintextLength(expectedLength)).isEqualTo(size);

    long envelopeLength;
    byte[] decrypted;
    switch (api) {
      case PUSH:
        {
          byte[] envelope = encryptPush(enc, PLAINTEXT, size, chunk);
          envelopeLength = envelope.length;
          try (InputStream in =
              DECRYPTOR.newDecryptingStream(
                  trickle(new ByteArrayInputStream(envelope), chunk), CONTEXT)) {
            decrypted = readAll(in, chunk);
          }
          break;
        }
      case PULL:
        {
          byte[] envelope;
          try (InputStream in =
              enc.newEncryptingInputStream(
                  trickle(new ByteArrayInputStream(PLAINTEXT, 0, size), chunk))) {
            envelope = readAll(in, chunk);
          }
          envelopeLength = envelope.length;
          try (InputStream in =
              DECRYPTOR.newDecryptingStream(new ByteArrayInputStream(envelope), CONTEXT)) {
            decrypted = readAll(in, chunk);
          }
          break;
        }
      case CHANNEL:
        {
          Path file = dir.resolve("blob.byok");
          Files.write(file, encryptPush(enc, PLAINTEXT, size, MIB));
          envelopeLength = Files.size(file);
          try (SeekableByteChannel ch =
              DECRYPTOR.newDecryptingChannel(
                  FileChannel.open(file, StandardOpenOption.READ), CONTEXT)) {
            assertThat(ch.size()).isEqualTo(size);
            decrypted = readAll(ch, chunk);
          }
          break;
        }
      case FILE:
        {
          Path plain = dir.resolve("plain");
          Path cipher = dir.resolve("blob.byok");
          Path back = dir.resolve("back");
          try (var out = Files.newOutputStream(plain)) {
            out.write(PLAINTEXT, 0, size);
          }
          enc.encryptFile(plain, cipher);
          envelopeLength = Files.size(cipher);
          DECRYPTOR.decryptFile(cipher, back, CONTEXT);
          decrypted = Files.readAllBytes(back);
          break;
        }
      default:
        throw new AssertionError(api);
    }

    assertThat(envelopeLength).as("envelope length").isEqualTo(expectedLength);
    assertThat(enc.plaintextLength(envelopeLength)).isEqualTo(size);
    assertSameBytes(PLAINTEXT, 0, size, decrypted);
  }
}
