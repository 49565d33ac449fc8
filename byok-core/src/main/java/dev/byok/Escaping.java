package dev.byok;

import java.util.Map;

/**
 * Makes untrusted text (a header's key ARN, encryption context, provider id) safe to print to a
 * terminal, a log line or an exception message: every control character, every Unicode format or
 * separator character that could reorder or hide text (bidirectional overrides, zero-width
 * characters, line and paragraph separators), unassigned and private-use characters and lone
 * surrogates are written as a backslash, {@code u} and four hex digits, so one field can never
 * start a new line, move the cursor, recolour the terminal or pose as another field. Printable
 * text, including non-ASCII letters and the backslash, is unchanged: escaping is idempotent
 * (escaped text has nothing left to escape), so a message built from escaped fields may be escaped
 * again where it is printed.
 *
 * <p>Stateless and thread-safe.
 */
public final class Escaping {
  private Escaping() {}

  /**
   * Escapes {@code text} for display.
   *
   * @param text untrusted text
   * @return the text with control, format and separator characters escaped
   */
  public static String forDisplay(CharSequence text) {
    StringBuilder out = null;
    int i = 0;
    while (i < text.length()) {
      int cp = Character.codePointAt(text, i);
      int n = Character.charCount(cp);
      boolean escape = needsEscape(cp);
      if (escape && out == null) {
        out = new StringBuilder(text.length() + 16);
        out.append(text, 0, i);
      }
      if (out != null) {
        if (escape) {
          for (int j = i; j < i + n; j++) {
            out.append(String.format("\\u%04x", (int) text.charAt(j)));
          }
        } else {
          out.append(text, i, i + n);
        }
      }
      i += n;
    }
    return out == null ? text.toString() : out.toString();
  }

  /**
   * Escapes every key and value of a map (an encryption context) for display, in the map's order,
   * as {@code {key=value, ...}}.
   *
   * @param map untrusted entries
   * @return the escaped form
   */
  public static String forDisplay(Map<String, String> map) {
    StringBuilder b = new StringBuilder("{");
    for (Map.Entry<String, String> e : map.entrySet()) {
      if (b.length() > 1) {
        b.append(", ");
      }
      b.append(forDisplay(e.getKey())).append('=').append(forDisplay(e.getValue()));
    }
    return b.append('}').toString();
  }

  private static boolean needsEscape(int cp) {
    int type = Character.getType(cp);
    return type == Character.CONTROL
        || type == Character.FORMAT
        || type == Character.LINE_SEPARATOR
        || type == Character.PARAGRAPH_SEPARATOR
        || type == Character.SURROGATE // a lone surrogate: a pair is one code point
        || type == Character.UNASSIGNED
        || type == Character.PRIVATE_USE;
  }
}
