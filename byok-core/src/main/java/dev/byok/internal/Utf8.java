package dev.byok.internal;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict UTF-8: malformed input is an error, never replaced. */
public final class Utf8 {
  private Utf8() {}

  /** Encodes, replacing nothing; for strings already validated. */
  public static byte[] encode(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Encodes, rejecting lone surrogates with {@link IllegalArgumentException}. */
  public static byte[] encodeStrict(String s) {
    try {
      ByteBuffer b =
          StandardCharsets.UTF_8
              .newEncoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .encode(CharBuffer.wrap(s));
      byte[] out = new byte[b.remaining()];
      b.get(out);
      return out;
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("not well-formed UTF-16", e);
    }
  }

  /** Decodes, rejecting malformed UTF-8 with {@link IllegalArgumentException}. */
  public static String decodeStrict(byte[] b, int off, int len) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b, off, len))
          .toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("malformed UTF-8", e);
    }
  }

  /**
   * Decodes well-formed UTF-8 without the decoder's buffers: checks the bytes first (no overlong
   * forms, no surrogates, nothing above U+10FFFF, no truncated sequence), then builds the string.
   *
   * @throws IllegalArgumentException if the bytes are not well-formed UTF-8
   */
  public static String decodeValid(byte[] b, int off, int len) {
    if (!isWellFormed(b, off, len)) {
      throw new IllegalArgumentException("malformed UTF-8");
    }
    return new String(b, off, len, StandardCharsets.UTF_8);
  }

  /** Whether {@code b[off, off + len)} is well-formed UTF-8 (Unicode 15, table 3-7). */
  public static boolean isWellFormed(byte[] b, int off, int len) {
    int i = off;
    int end = off + len;
    while (i < end) {
      int c = b[i] & 0xff;
      if (c < 0x80) {
        i++;
        continue;
      }
      int n;
      int lo = 0x80;
      int hi = 0xbf;
      if (c >= 0xc2 && c <= 0xdf) {
        n = 1;
      } else if (c >= 0xe0 && c <= 0xef) {
        n = 2;
        if (c == 0xe0) {
          lo = 0xa0; // no overlong forms
        } else if (c == 0xed) {
          hi = 0x9f; // no surrogates
        }
      } else if (c >= 0xf0 && c <= 0xf4) {
        n = 3;
        if (c == 0xf0) {
          lo = 0x90;
        } else if (c == 0xf4) {
          hi = 0x8f; // nothing above U+10FFFF
        }
      } else {
        return false;
      }
      if (end - i <= n) {
        return false;
      }
      int second = b[i + 1] & 0xff;
      if (second < lo || second > hi) {
        return false;
      }
      for (int k = 2; k <= n; k++) {
        int cont = b[i + k] & 0xff;
        if (cont < 0x80 || cont > 0xbf) {
          return false;
        }
      }
      i += n + 1;
    }
    return true;
  }

  /**
   * Compares two well-formed strings in the order of their UTF-8 bytes compared unsigned, without
   * encoding them: that order is the order of their code points.
   */
  public static int compare(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int x = a.codePointAt(i);
      int y = b.codePointAt(j);
      if (x != y) {
        return Integer.compare(x, y);
      }
      i += Character.charCount(x);
      j += Character.charCount(y);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }
}
