package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 15, item 6: key ARNs in headers hold only KMS ARN characters (else the header is invalid,
 * with the reason), and every header field that reaches a terminal, log or exception message has
 * its control characters escaped by one helper, {@link Escaping}.
 */
class OutputHygieneTest {
  private static final String ARN = "arn:aws:kms:eu-west-1:111122223333:key/k1";

  @Test
  void escapingEscapesControlFormatAndSeparatorCharactersOnly() {
    assertThat(Escaping.forDisplay("arn:aws:kms:eu-west-1:1:key/k"))
        .isEqualTo("arn:aws:kms:eu-west-1:1:key/k");
    assertThat(Escaping.forDisplay("caf\u00e9 \u65e5\u672c \uD83D\uDE00 a\\b"))
        .isEqualTo("caf\u00e9 \u65e5\u672c \uD83D\uDE00 a\\b");
    assertThat(Escaping.forDisplay("a\u001b[2Jb\nc\rd\te\u0000f\u007fg\u0085h"))
        .isEqualTo("a\\u001b[2Jb\\u000ac\\u000dd\\u0009e\\u0000f\\u007fg\\u0085h");
    // bidi override, zero-width space, line/paragraph separators, a lone surrogate, private use
    assertThat(Escaping.forDisplay("\u202e\u200b\u2028\u2029\uD800x\uE000"))
        .isEqualTo("\\u202e\\u200b\\u2028\\u2029\\ud800x\\ue000");
  }

  @Test
  void escapingIsIdempotentAndEscapesMapKeysAndValues() {
    String once = Escaping.forDisplay("x\u001by");
    assertThat(Escaping.forDisplay(once)).isEqualTo(once);
    Map<String, String> m = new TreeMap<>(Map.of("k\n", "v\u001b", "a", "b"));
    assertThat(Escaping.forDisplay(m)).isEqualTo("{a=b, k\\u000a=v\\u001b}");
  }

  @ParameterizedTest
  @ValueSource(strings = {"\u001b[31m", "\n", "\u202e", " ", "\"", "\u00e9", "%", "*"})
  void keyArnCharactersInHeadersAreRestrictedToWhatKmsArnsHold(String bad) {
    // a header written with an ARN of the same length, then the bytes of the bad one patched in
    String good = ARN + "x".repeat(bad.getBytes(StandardCharsets.UTF_8).length);
    byte[] blob = envelopeWithSlotArn(good);
    byte[] patched =
        replace(
            blob,
            good.getBytes(StandardCharsets.UTF_8),
            (ARN + bad).getBytes(StandardCharsets.UTF_8));

    assertThatThrownBy(() -> EnvelopeHeader.read(new ByteArrayInputStream(patched)))
        .isInstanceOfSatisfying(
            InvalidCiphertextException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(InvalidCiphertextException.Reason.MALFORMED_HEADER);
              assertThat(e.getMessage())
                  .contains("key slot 0")
                  .contains(String.format("U+%04X", bad.codePointAt(0)))
                  .contains("no KMS key ARN");
              assertThat(e.getMessage().chars().noneMatch(Character::isISOControl)).isTrue();
            });
    assertThatThrownBy(() -> KeySlot.of("p", ARN + bad, new byte[] {1}))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aContextWithControlCharactersNeverReachesAnExceptionMessageRaw() {
    EncryptionContext hostile = EncryptionContext.of("tenant\u001b[2J", "a\nFAKE LOG LINE\u202e");
    EnvelopeHeader h =
        EnvelopeHeader.create(
            4096, DataKey.generate(), hostile, java.util.List.of(RobustTestSupport.SLOT));
    assertThatThrownBy(() -> h.requireContext(EncryptionContext.of("tenant", "acme")))
        .isInstanceOf(InvalidCiphertextException.class)
        .satisfies(e -> assertClean(e.getMessage()));
    assertClean(hostile.toString());
    ReadPolicy p =
        ReadPolicy.of(java.util.List.of(KeyRef.of("p", ARN)), EncryptionContext.of("t", "x"));
    assertThatThrownBy(() -> p.checkContext(h))
        .isInstanceOf(InvalidCiphertextException.class)
        .satisfies(e -> assertClean(e.getMessage()));
    assertThatThrownBy(() -> EncryptionContext.of("k\u001b", "1", "k\u001b", "2"))
        .satisfies(e -> assertClean(e.getMessage()));
    assertThatThrownBy(() -> KeySlot.of("p\u001b", ARN, new byte[] {1}))
        .satisfies(e -> assertClean(e.getMessage()));
  }

  private static void assertClean(String s) {
    assertThat(s).doesNotContain("\u001b", "\n", "\u202e");
    assertThat(s.chars().noneMatch(Character::isISOControl)).as(s).isTrue();
  }

  private static byte[] envelopeWithSlotArn(String arn) {
    DataKey key = DataKey.generate();
    EnvelopeHeader h =
        EnvelopeHeader.create(
            4096,
            key,
            EncryptionContext.of("t", "1"),
            java.util.List.of(KeySlot.of("p", arn, new byte[] {1, 2})));
    return RobustTestSupport.concat(h.toByteArray(), new byte[40]);
  }

  private static byte[] replace(byte[] in, byte[] what, byte[] with) {
    assertThat(with).hasSameSizeAs(what);
    byte[] out = in.clone();
    outer:
    for (int i = 0; i + what.length <= in.length; i++) {
      for (int j = 0; j < what.length; j++) {
        if (in[i + j] != what[j]) {
          continue outer;
        }
      }
      System.arraycopy(with, 0, out, i, with.length);
      return out;
    }
    throw new AssertionError("not found");
  }
}
