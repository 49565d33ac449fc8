package dev.byok.cli;

import dev.byok.ByokConfigurationException;
import dev.byok.ByokException;
import dev.byok.Escaping;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;

/**
 * Turns a failure into an exit code and one line a person can act on. Stateless. Library exceptions
 * never carry key material, so their messages may be shown as they are.
 */
@NullMarked
final class Failures {
  private Failures() {}

  /**
   * @return the exit code for {@code t}
   */
  static int exitCode(Throwable t) {
    Throwable e = unwrap(t);
    if (e instanceof CliException c) {
      return c.exitCode();
    }
    if (e instanceof InvalidCiphertextException) {
      return ExitCodes.INVALID_BLOB;
    }
    if (e instanceof KeyUnusableException) {
      return ExitCodes.KEY_UNUSABLE;
    }
    if (e instanceof ByokConfigurationException && message(e).contains("allow-list")) {
      return ExitCodes.KEY_UNUSABLE;
    }
    if (e instanceof KmsUnavailableException) {
      return ExitCodes.KMS_UNAVAILABLE;
    }
    if (e instanceof InterruptedIOException || e instanceof InterruptedException) {
      return ExitCodes.INTERRUPTED;
    }
    if (e instanceof IOException) {
      return ExitCodes.IO;
    }
    if (e instanceof IllegalArgumentException || e instanceof ByokConfigurationException) {
      return ExitCodes.USAGE;
    }
    return ExitCodes.FAILURE;
  }

  /**
   * @return what went wrong and what to do about it, in one line
   */
  static String describe(Throwable t) {
    // a message may quote header fields (key ARN, context): never let one reach the terminal raw
    return Escaping.forDisplay(describeRaw(t));
  }

  private static String describeRaw(Throwable t) {
    Throwable e = unwrap(t);
    if (e instanceof CliException || e instanceof StdioException) {
      return message(e);
    }
    if (e instanceof InvalidCiphertextException ice) {
      String why = reasonAndDetail(ice);
      return switch (ice.reason()) {
        case NOT_AN_ENVELOPE -> "not a byok blob (" + why + ")";
        case UNSUPPORTED_VERSION -> "written by a newer byok or another tool (" + why + ")";
        case TRUNCATED -> "the blob is truncated (" + why + "); restore it from a good copy";
        case TRAILING_DATA -> "bytes follow the end of the blob (" + why + "); it was appended to";
        case CONTEXT_MISMATCH ->
            "the encryption context does not match ("
                + why
                + "); pass the --context the blob was written with (see byok inspect)";
        case KEY_COMMITMENT_MISMATCH,
            AUTHENTICATION_FAILED,
            MALFORMED_HEADER,
            WRAPPED_KEY_REJECTED ->
            "the blob failed authentication: it was modified or damaged ("
                + why
                + "); no plaintext was released";
      };
    }
    if (e instanceof KeyUnusableException k) {
      String key = k.keyId();
      return switch (k.reason()) {
        case DISABLED ->
            "key "
                + key
                + " is disabled; enable it (byok kms enable "
                + key
                + ", or the key owner in AWS KMS) and retry";
        case PENDING_DELETION ->
            "key "
                + key
                + " is scheduled for deletion; cancel it (byok kms cancel-deletion "
                + key
                + ") before the deletion date, then enable it";
        case PENDING_IMPORT -> "key " + key + " has no key material imported; import it and retry";
        case UNAVAILABLE ->
            "key " + key + " is unavailable in its key store; reconnect the store and retry";
        case NOT_FOUND ->
            "key "
                + key
                + " does not exist in this account and Region (check --key, --region, --endpoint)";
        case ACCESS_DENIED ->
            "access to key "
                + key
                + " is denied; the key policy, IAM or a grant must allow "
                + "these credentials to use it";
        case LOCKED ->
            "key "
                + key
                + " is locked by the key-state monitor after a confirmed revocation; "
                + "reads resume once the key is usable again";
      };
    }
    if (e instanceof ByokConfigurationException && message(e).contains("allow-list")) {
      return "wrong key: "
          + message(e)
          + "; pass --key with a key you trust for this data (see byok inspect)";
    }
    if (e instanceof KmsUnavailableException k) {
      return (k.throttled() ? "the KMS is throttling requests: " : "the KMS could not be reached: ")
          + message(k)
          + "; check --endpoint / --region and the network, then retry";
    }
    if (e instanceof NoSuchFileException f) {
      return "no such file: " + f.getFile();
    }
    if (e instanceof FileAlreadyExistsException f) {
      return f.getFile() + " already exists; pass --force to overwrite it";
    }
    if (e instanceof AccessDeniedException f) {
      return "permission denied: " + f.getFile();
    }
    if (e instanceof NotDirectoryException f) {
      return "not a directory: " + f.getFile();
    }
    if (e instanceof DirectoryNotEmptyException f) {
      return "directory not empty: " + f.getFile();
    }
    if (e instanceof FileSystemException f) {
      return message(f);
    }
    if (e instanceof InterruptedIOException || e instanceof InterruptedException) {
      return "interrupted; finished files are kept, unfinished ones were not written";
    }
    if (e instanceof IOException) {
      return "I/O error: " + message(e);
    }
    if (e instanceof IllegalArgumentException || e instanceof ByokConfigurationException) {
      return message(e);
    }
    return "unexpected error: " + e + " (run with --verbose for details)";
  }

  /** {@link #message(Throwable)} of a cause that may be absent. */
  static String messageOf(@Nullable Throwable t) {
    return t == null ? "no further detail" : message(t);
  }

  /**
   * A throwable's message for a person, never {@code null} or "...: null": without a message, what
   * the AWS SDK reported (error code, HTTP status) or the exception's type stands in; a message
   * ending in ": null" (a detail that was missing) loses that ending.
   *
   * @return a non-empty one-line description
   */
  static String message(Throwable t) {
    @Nullable String m = t.getMessage();
    if (m != null) {
      m = m.strip();
      while (m.endsWith(": null")) {
        m = m.substring(0, m.length() - ": null".length()).strip();
      }
      int nl = m.indexOf('\n');
      if (nl >= 0) {
        m = m.substring(0, nl).strip();
      }
      if (!m.isEmpty() && !m.equals("null")) {
        return m;
      }
    }
    @Nullable String kms = KmsErrors.serviceError(t);
    return kms != null ? kms : t.getClass().getSimpleName();
  }

  /**
   * @return "REASON: detail": the library's reason code, then its detail
   */
  private static String reasonAndDetail(InvalidCiphertextException e) {
    String reason = e.reason().name();
    String m = message(e);
    return m.startsWith(reason) ? m : reason + ": " + m;
  }

  /**
   * The failure to report: wrappers are looked through — an unchecked wrapper of an I/O failure,
   * and an {@link IOException} (such as a stream's read failure) whose cause is a byok or CLI
   * failure, which is reported by that cause.
   */
  private static Throwable unwrap(Throwable t) {
    Throwable e = t;
    for (int depth = 0; depth < 16; depth++) {
      @Nullable Throwable cause = e.getCause();
      if (cause == null || cause == e || e instanceof StdioException) {
        return e;
      }
      boolean wrapper =
          e instanceof UncheckedIOException
              || e.getClass() == RuntimeException.class
              || (e instanceof IOException
                  && (cause instanceof ByokException || cause instanceof CliException));
      if (!wrapper) {
        return e;
      }
      e = cause;
    }
    return e;
  }
}
