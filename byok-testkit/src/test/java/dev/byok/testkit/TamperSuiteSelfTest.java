package dev.byok.testkit;

import static dev.byok.testkit.Envelopes.DECRYPTOR;
import static dev.byok.testkit.Envelopes.FIRST_PLAIN;
import static dev.byok.testkit.Envelopes.PLAIN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.EnvelopeHeader;
import dev.byok.InvalidCiphertextException;
import dev.byok.InvalidCiphertextIOException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The suite itself can fail: each broken decryptor here is caught, and only where it is broken. */
class TamperSuiteSelfTest {
  private static final byte[] PLAINTEXT =
      Envelopes.plaintext(FIRST_PLAIN + 2 * PLAIN + 100, 7); // 4 segments
  private static final byte[] ENVELOPE = Envelopes.encrypt(Envelopes.ENCRYPTOR, PLAINTEXT);
  private static final byte[] OTHER =
      Envelopes.encrypt(Envelopes.REPLICA, Envelopes.plaintext(PLAINTEXT.length, 8));
  private static final EnvelopeHeader HEADER = EnvelopeHeader.parse(ENVELOPE);
  private static final TamperSuite.Decryptor CORRECT = TamperSuite.streaming(DECRYPTOR);

  private static List<String> failed(TamperReport report) {
    return report.failures().stream()
        .map(TamperReport.Failure::variant)
        .collect(Collectors.toList());
  }

  /**
   * A whole-buffer path over the correct one that turns its rejections into {@code wrap}'s
   * exception.
   */
  private static TamperSuite.Decryptor rethrowing(
      Function<InvalidCiphertextException, Exception> wrap) {
    return envelope -> {
      try {
        return new ByteArrayInputStream(CORRECT.decrypt(envelope).readAllBytes());
      } catch (InvalidCiphertextException e) {
        throw wrap.apply(e);
      }
    };
  }

  private static long controls() {
    return TamperSuite.variants(ENVELOPE, OTHER).stream()
        .filter(t -> t.expected() != Tampering.Expected.REJECTED)
        .count();
  }

  @Test
  void aDecryptorThatAlwaysReturnsThePlaintextFailsEveryRejection() {
    TamperReport report =
        TamperSuite.run(ENVELOPE, PLAINTEXT, OTHER, e -> new ByteArrayInputStream(PLAINTEXT));

    assertThat(report.isClean()).isFalse();
    // every variant that must be rejected is reported; controls and slot changes pass
    assertThat(report.failures()).hasSize((int) (report.variantsRun() - controls()));
    assertThat(report.failures().get(0).problem())
        .isEqualTo("decrypted to the original plaintext without an exception");
    assertThatThrownBy(report::assertClean)
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("flip bit");
  }

  @Test
  void aDecryptorThatSilentlyStopsAtTruncationIsCaughtOnlyThere() {
    // a classic bug: treating "input ended early" as a normal end of stream
    TamperSuite.Decryptor lenient =
        envelope -> {
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          try (InputStream in = CORRECT.decrypt(envelope)) {
            in.transferTo(out);
          } catch (InvalidCiphertextIOException e) { // what a stream's read reports
            if (e.reason() != InvalidCiphertextException.Reason.TRUNCATED) {
              throw e;
            }
          } catch (InvalidCiphertextException e) { // what opening the stream reports
            if (e.reason() != InvalidCiphertextException.Reason.TRUNCATED) {
              throw e;
            }
          }
          return new ByteArrayInputStream(out.toByteArray());
        };

    TamperReport report = TamperSuite.run(ENVELOPE, PLAINTEXT, OTHER, lenient);

    assertThat(failed(report))
        .contains(
            "truncate at " + (HEADER.payloadOffset() + 4096) + ", segment 1 boundary",
            "drop segment 3")
        .noneMatch(v -> v.startsWith("flip") && v.matches(".*\\(segment \\d.*"))
        .noneMatch(v -> v.contains("from the other blob"));
    assertThat(report.failures())
        .filteredOn(
            f -> !f.variant().contains("(key slots)")) // a cut-short slot section may also pass
        .allMatch(f -> f.problem().contains("without an exception"));
  }

  @Test
  void aDecryptorThatReleasesABadSegmentBeforeFailingIsCaught() {
    // releases everything it has (here: the original plaintext) before throwing the right exception
    TamperSuite.Decryptor leaky =
        envelope ->
            new SequenceInputStream(new ByteArrayInputStream(PLAINTEXT), CORRECT.decrypt(envelope));

    TamperReport report = TamperSuite.run(ENVELOPE, PLAINTEXT, OTHER, leaky);

    int tagOfSegment1 = HEADER.payloadOffset() + 2 * 4096 - 1;
    assertThat(report.failures())
        .filteredOn(
            f ->
                f.variant()
                    .equals(
                        "flip bit "
                            + tagOfSegment1 % 8
                            + " of byte "
                            + tagOfSegment1
                            + " (segment 1 tag)"))
        .singleElement()
        .satisfies(
            f ->
                assertThat(f.problem())
                    .endsWith(
                        "released "
                            + (PLAINTEXT.length + FIRST_PLAIN)
                            + " plaintext bytes before failing, but only the "
                            + FIRST_PLAIN
                            + " bytes of whole segments before the tampered one may be released"));
  }

  @Test
  void aDecryptorThatReleasesWrongBytesBeforeFailingIsCaught() {
    TamperSuite.Decryptor garbage =
        envelope -> {
          InputStream real =
              CORRECT.decrypt(envelope); // header failures throw here, before the garbage
          return new SequenceInputStream(
              new ByteArrayInputStream(new byte[] {(byte) ~PLAINTEXT[0]}), real);
        };

    TamperReport report = TamperSuite.run(ENVELOPE, PLAINTEXT, OTHER, garbage);

    assertThat(report.failures())
        .filteredOn(f -> f.variant().startsWith("flip") && f.variant().contains("(segment 0"))
        .isNotEmpty()
        .allSatisfy(
            f ->
                assertThat(f.problem())
                    .isEqualTo(
                        "released 1 bytes before failing that are not a prefix of the plaintext;"
                            + " released 1 plaintext bytes before failing, but only the 0 bytes of whole segments"
                            + " before the tampered one may be released"));
    // the control decrypts to one byte too many
    assertThat(failed(report)).contains("untouched envelope (control)");
  }

  @Test
  void aDecryptorThatThrowsTheWrongTypeIsCaught() {
    // the cause is lost: callers cannot tell tampering from I/O
    TamperSuite.Decryptor wrongType = rethrowing(e -> new IOException("read failed"));

    TamperReport report = TamperSuite.run(ENVELOPE, PLAINTEXT, null, wrongType);

    assertThat(report.failures())
        .isNotEmpty()
        .allMatch(
            f ->
                f.problem()
                    .equals(
                        "threw java.io.IOException (read failed), expected "
                            + InvalidCiphertextException.class.getName()));
  }

  @Test
  void aWrappedExceptionCountsWhenItsCauseIsTheExpectedType() {
    TamperSuite.Decryptor wrapping = rethrowing(e -> new IOException("blob store read failed", e));

    TamperSuite.run(ENVELOPE, PLAINTEXT, OTHER, wrapping).assertClean();
  }

  @Test
  void aDecryptorThatRejectsEverythingFailsTheControls() {
    TamperReport report =
        TamperSuite.run(
            ENVELOPE,
            PLAINTEXT,
            OTHER,
            envelope -> {
              throw new InvalidCiphertextException(
                  InvalidCiphertextException.Reason.AUTHENTICATION_FAILED, "no");
            });

    assertThat(failed(report))
        .containsExactly("untouched envelope (control)", "key slot section from the other blob");
  }

  @Test
  void wrongKeyAndWrongContextCatchADecryptorThatIgnoresThem() {
    TamperReport key = TamperSuite.wrongKey(ENVELOPE, PLAINTEXT, resolver -> CORRECT);
    TamperReport context = TamperSuite.wrongContext(ENVELOPE, PLAINTEXT, required -> CORRECT);

    assertThat(failed(key)).containsExactly("wrong data key with the same DEK id");
    assertThat(failed(context))
        .containsExactly(
            "requiring context with an extra entry",
            "requiring empty context",
            "requiring context with the value of 'repository' changed");
  }

  @Test
  void anEmptyReportIsNotClean() {
    TamperReport report =
        TamperSuite.run(List.of(), PLAINTEXT, CORRECT, InvalidCiphertextException.class);

    assertThat(report.isClean()).isFalse();
    assertThatThrownBy(report::assertClean).hasMessage("tamper suite ran no variant");
  }
}
