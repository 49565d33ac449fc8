package dev.byok.cli;

import dev.byok.EncryptionContext;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** {@code --context} for reading commands: the exact context a blob must carry. A picocli mixin. */
@NullMarked
final class RequiredContextOption {
  @Option(
      names = "--context",
      paramLabel = "NAME=VALUE",
      description =
          "require exactly this encryption context (repeat per entry); a blob with another is refused")
  Map<String, String> context = new LinkedHashMap<>();

  /**
   * @return the required context, or {@code null} when none was given (the context is not checked)
   */
  @Nullable EncryptionContext expected() {
    return context.isEmpty() ? null : KeyRefs.context(context);
  }
}
