package dev.byok.cli;

import dev.byok.ByokConfigurationException;
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
    if (e instanceof ByokConfigurationException
        && e.getMessage() != null
        && e.getMessage().contains("allow-list")) {
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

  /** The throwable's message, or its type's simple name when it has none (never "null"). */
  static String messageOf(@Nullable Throwable t) {
    if (t == null) {
      return "no further detail";
    }
    String m = t.getMessage();
    return m != null ? m : t.getClass().getSimpleName();
  }

  /**
   * @return what went wrong and what to do about it, in one line
   */
  static String describe(Throwable t) {
    Throwable e = unwrap(t);
    if (e instanceof CliException) {
      return messageOf(e);
    }
    if (e instanceof InvalidCiphertextException ice) {
      return switch (ice.reason()) {
        case NOT_AN_ENVELOPE -> "not a byok blob (" + ice.getMessage() + ")";
        case UNSUPPORTED_VERSION -> "written by a newer byok or another tool: " + ice.getMessage();
        case TRUNCATED ->
            "the blob is truncated (" + ice.getMessage() + "); restore it from a good copy";
        case TRAILING_DATA ->
            "bytes follow the end of the blob (" + ice.getMessage() + "); it was appended to";
        case CONTEXT_MISMATCH ->
            "the encryption context does not match: "
                + ice.getMessage()
                + "; pass the --context the blob was written with (see byok inspect)";
        case KEY_COMMITMENT_MISMATCH,
            AUTHENTICATION_FAILED,
            MALFORMED_HEADER,
            WRAPPED_KEY_REJECTED ->
            "the blob failed authentication: it was modified or damaged ("
                + ice.getMessage()
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
    if (e instanceof ByokConfigurationException
        && e.getMessage() != null
        && e.getMessage().contains("allow-list")) {
      return "wrong key: "
          + e.getMessage()
          + "; pass --key with a key you trust for this data (see byok inspect)";
    }
    if (e instanceof KmsUnavailableException k) {
      return (k.throttled() ? "the KMS is throttling requests: " : "the KMS could not be reached: ")
          + k.getMessage()
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
      return messageOf(f);
    }
    if (e instanceof InterruptedIOException || e instanceof InterruptedException) {
      return "interrupted; finished files are kept, unfinished ones were not written";
    }
    if (e instanceof IOException) {
      return "I/O error: " + e.getMessage();
    }
    if (e instanceof IllegalArgumentException || e instanceof ByokConfigurationException) {
      return messageOf(e);
    }
    return "unexpected error: " + e + " (run with --verbose for details)";
  }

  private static Throwable unwrap(Throwable t) {
    Throwable e = t;
    while ((e instanceof UncheckedIOException || e.getClass() == RuntimeException.class)
        && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }
}
