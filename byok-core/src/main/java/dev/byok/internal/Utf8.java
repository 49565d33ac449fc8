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
}
