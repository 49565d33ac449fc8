package dev.byok.testkit;

import static dev.byok.testkit.Envelopes.DECRYPTOR;
import static dev.byok.testkit.Envelopes.FIRST_PLAIN;
import static dev.byok.testkit.Envelopes.PLAIN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.EncryptionContext;
import dev.byok.EnvelopeDecryptor;
import dev.byok.EnvelopeHeader;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole suite against byok-core's stream, channel and file decryption: every report is clean.
 */
class TamperSuiteCoreTest {
  enum Route {
    STREAM,
    CHANNEL,
    FILE;

    TamperSuite.Decryptor of(
        EnvelopeDecryptor d, @Nullable EncryptionContext required, Path tempDir) {
      switch (this) {
        case STREAM:
          return TamperSuite.streaming(d, required);
        case CHANNEL:
          return TamperSuite.channel(d, required);
        default:
          return TamperSuite.file(d, required, tempDir);
      }
    }
  }

  /** Empty, one byte, one exactly full segment, three full segments, four with a short last one. */
  static Stream<Arguments> sizesAndRoutes() {
    int[] sizes = {0, 1, FIRST_PLAIN, FIRST_PLAIN + 2 * PLAIN, FIRST_PLAIN + 2 * PLAIN + 100};
    return Stream.of(Route.values())
        .flatMap(r -> java.util.Arrays.stream(sizes).mapToObj(s -> Arguments.of(s, r)));
  }

  @ParameterizedTest(name = "{0} bytes via {1}")
  @MethodSource("sizesAndRoutes")
  void everyTamperingIsRejectedAndNoBadByteIsReleased(int size, Route route, @TempDir Path tmp) {
    byte[] plaintext = Envelopes.plaintext(size, size);
    byte[] envelope = Envelopes.encrypt(Envelopes.ENCRYPTOR, plaintext);
    byte[] other = Envelopes.encrypt(Envelopes.REPLICA, Envelopes.plaintext(size, size + 1L));

    TamperReport report =
        TamperSuite.run(envelope, plaintext, other, route.of(DECRYPTOR, null, tmp));

    report.assertClean();
    // at least one flip per header byte ran, plus the segment variants
    assertThat(report.variantsRun()).isGreaterThan(EnvelopeHeader.parse(envelope).length());
  }

  @ParameterizedTest(name = "{0} bytes via {1}")
  @MethodSource("sizesAndRoutes")
  void wrongKeyAndWrongContextAreRejected(int size, Route route, @TempDir Path tmp) {
    byte[] plaintext = Envelopes.plaintext(size, size);
    byte[] envelope = Envelopes.encrypt(Envelopes.ENCRYPTOR, plaintext);

    TamperReport report =
        TamperSuite.wrongKey(
                envelope, plaintext, r -> route.of(EnvelopeDecryptor.create(r), null, tmp))
            .and(TamperSuite.wrongContext(envelope, plaintext, c -> route.of(DECRYPTOR, c, tmp)));

    report.assertClean();
    assertThat(report.variantsRun())
        .isEqualTo(5); // wrong key, control, extra entry, empty, changed value
  }
}
