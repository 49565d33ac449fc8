package dev.byok.internal;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The allocation-free UTF-8 checks agree with the JDK's strict decoder and encoder. */
class Utf8Test {
  private static boolean jdkAccepts(byte[] b) {
    try {
      Utf8.decodeStrict(b, 0, b.length);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  @Test
  void wellFormedMatchesTheStrictDecoderOnEveryShortSequenceAndRandomInput() {
    // every 1- and 2-byte sequence, and 3- and 4-byte ones around every lead byte's bounds
    int[] edges = {0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff};
    for (int a = 0; a < 256; a++) {
      check(new byte[] {(byte) a});
      for (int b : edges) {
        check(new byte[] {(byte) a, (byte) b});
        for (int c : edges) {
          check(new byte[] {(byte) a, (byte) b, (byte) c});
          check(new byte[] {(byte) a, (byte) b, (byte) c, (byte) 0x80});
          check(new byte[] {(byte) a, (byte) b, (byte) c, (byte) 0xc0});
        }
      }
    }
    Random r = new Random(1);
    for (int i = 0; i < 5_000; i++) {
      byte[] b = new byte[r.nextInt(12)];
      r.nextBytes(b);
      check(b);
      String s = randomString(r);
      check(s.getBytes(StandardCharsets.UTF_8));
    }
  }

  private static void check(byte[] b) {
    if (Utf8.isWellFormed(b, 0, b.length) != jdkAccepts(b)) {
      throw new AssertionError("disagree on " + Arrays.toString(b));
    }
  }

  @Test
  void compareIsTheUnsignedOrderOfTheUtf8Bytes() {
    Random r = new Random(2);
    for (int i = 0; i < 5_000; i++) {
      String a = randomString(r);
      String b = r.nextInt(4) == 0 ? a + randomString(r) : randomString(r);
      int expected =
          Integer.signum(
              Arrays.compareUnsigned(
                  a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8)));
      if (Integer.signum(Utf8.compare(a, b)) != expected) {
        throw new AssertionError(a + " vs " + b);
      }
    }
  }

  private static String randomString(Random r) {
    StringBuilder s = new StringBuilder();
    int n = r.nextInt(5);
    for (int i = 0; i < n; i++) {
      int cp =
          switch (r.nextInt(4)) {
            case 0 -> 0x20 + r.nextInt(0x60);
            case 1 -> 0x80 + r.nextInt(0x780);
            case 2 -> 0xe000 + r.nextInt(0x2000);
            default -> 0x10000 + r.nextInt(0x100000);
          };
      s.appendCodePoint(cp);
    }
    return s.toString();
  }
}
