package dev.byok.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.NullMarked;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Parses durations on the command line: {@code 200ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code
 * 2d}, or ISO-8601 ({@code PT30S}). A picocli converter; stateless.
 */
@NullMarked
final class Durations implements ITypeConverter<Duration> {
  private static final Pattern SHORT = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");

  @Override
  public Duration convert(String value) {
    return parse(value);
  }

  /**
   * @param value e.g. {@code 30s}, {@code 200ms}, {@code 5m}, {@code 1h}, {@code 2d} or {@code
   *     PT30S}
   * @return the duration (zero or positive)
   * @throws TypeConversionException naming the accepted forms
   */
  static Duration parse(String value) {
    String v = value.strip().toLowerCase(Locale.ROOT);
    Matcher m = SHORT.matcher(v);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      };
    }
    if (v.startsWith("p")) {
      try {
        Duration d = Duration.parse(v.toUpperCase(Locale.ROOT));
        if (!d.isNegative()) {
          return d;
        }
      } catch (DateTimeParseException e) {
        // fall through to the message below
      }
    }
    throw new TypeConversionException(
        "'" + value + "' is not a duration; write e.g. 200ms, 30s, 5m, 1h, 2d or PT30S");
  }

  /**
   * @return {@code d} the way a person writes it: {@code 200ms}, {@code 30s}, {@code 5m}, {@code
   *     1h30m}
   */
  static String format(Duration d) {
    if (d.toMillisPart() != 0 || d.isZero()) {
      return d.toMillis() + "ms";
    }
    StringBuilder b = new StringBuilder();
    long h = d.toHours();
    if (h > 0) {
      b.append(h).append('h');
    }
    if (d.toMinutesPart() > 0) {
      b.append(d.toMinutesPart()).append('m');
    }
    if (d.toSecondsPart() > 0) {
      b.append(d.toSecondsPart()).append('s');
    }
    return b.toString();
  }
}
