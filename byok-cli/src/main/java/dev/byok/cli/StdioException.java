package dev.byok.cli;

import java.io.IOException;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;

/**
 * Standard input or output cannot be used: closed, broken pipe, full disk. Its message is the one
 * line the CLI prints (exit 6).
 */
@NullMarked
final class StdioException extends IOException {
  private static final long serialVersionUID = 1L;

  StdioException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }

  /**
   * @param stream "standard output"
   * @param cause the write failure, if known
   * @return "cannot write standard output: No space left on device"
   */
  static StdioException cannotWrite(String stream, @Nullable Throwable cause) {
    return new StdioException(
        "cannot write "
            + stream
            + (cause == null ? "" : ": " + Failures.message(cause))
            + "; the output is incomplete",
        cause);
  }
}
