package dev.byok.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.util.HexFormat;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Kdf#hkdfSha256} against the SHA-256 test cases of RFC 5869 Appendix A (A.1 to A.3), and
 * its length checks. The Wycheproof vectors are in {@link WycheproofTest}; the comparison with Tink
 * in {@link HkdfProperties}.
 */
class HkdfTest {
  private static final HexFormat HEX = HexFormat.of();

  private static byte[] range(int from, int toExclusive) {
    byte[] b = new byte[toExclusive - from];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (from + i);
    }
    return b;
  }

  private static byte[] repeat(int value, int n) {
    byte[] b = new byte[n];
    java.util.Arrays.fill(b, (byte) value);
    return b;
  }

  /** The inputs of RFC 5869 A.1 to A.3, by name (A.2's are the long 80-octet ranges). */
  private static byte[][] inputs(String testCase) {
    return switch (testCase) {
      case "A.1" -> new byte[][] {repeat(0x0b, 22), range(0x00, 0x0d), range(0xf0, 0xfa)};
      case "A.2" -> new byte[][] {range(0x00, 0x50), range(0x60, 0xb0), range(0xb0, 0x100)};
      case "A.3" -> new byte[][] {repeat(0x0b, 22), new byte[0], new byte[0]};
      default -> throw new IllegalArgumentException(testCase);
    };
  }

  @ParameterizedTest(name = "RFC 5869 {0}")
  @CsvSource({
    "A.1, 42, 3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
    "A.2, 82, b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e"
        + "590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87",
    "A.3, 42, 8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
  })
  void rfc5869AppendixA(String testCase, int length, String okm) {
    byte[][] in = inputs(testCase);
    byte[][] copies = {in[0].clone(), in[1].clone(), in[2].clone()};
    assertThat(HEX.formatHex(Kdf.hkdfSha256(in[0], in[1], in[2], length))).isEqualTo(okm);
    assertThat(in).as("the inputs are not modified").isDeepEqualTo(copies);
  }

  /** RFC 5869 section 2.3: {@code L <= 255*HashLen}; an empty output is a caller bug. */
  @ParameterizedTest
  @ValueSource(ints = {Integer.MIN_VALUE, -1, 0, 255 * 32 + 1, Integer.MAX_VALUE})
  void lengthsOutsideOneTo255HashLenAreRefusedNamingTheValue(int length) {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> Kdf.hkdfSha256(new byte[32], new byte[0], new byte[0], length))
        .withMessage("HKDF-SHA256 output length must be 1..8160 bytes, was " + length);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 31, 32, 33, 64, 255 * 32 - 1, 255 * 32})
  void lengthsAtTheEdgesOfABlockAndOfTheLimit(int length) {
    byte[] ikm = range(0, 32);
    byte[] longest = Kdf.hkdfSha256(ikm, range(1, 17), range(2, 9), 255 * 32);
    byte[] okm = Kdf.hkdfSha256(ikm, range(1, 17), range(2, 9), length);
    assertThat(okm).hasSize(length);
    // T(1) | T(2) | ... does not depend on L: every output is a prefix of the longest
    assertThat(okm).isEqualTo(java.util.Arrays.copyOf(longest, length));
  }
}
