package dev.byok.cli;

/** The CLI's exit codes; listed in {@code byok --help} and docs/cli.md. */
final class ExitCodes {
  /** Everything worked. */
  static final int OK = 0;

  /** An unexpected failure (a bug, or something this list does not name); run with --verbose. */
  static final int FAILURE = 1;

  /** Bad command line: unknown flag, missing or malformed value. */
  static final int USAGE = 2;

  /** The input is not an authentic byok blob: tampered, truncated, not a blob, wrong context. */
  static final int INVALID_BLOB = 3;

  /** The key cannot be used: disabled, pending deletion, not found, access denied, not allowed. */
  static final int KEY_UNUSABLE = 4;

  /** The KMS did not answer, or throttled us: check the endpoint or network and retry. */
  static final int KMS_UNAVAILABLE = 5;

  /**
   * A file problem: missing input, output already exists, an output that cannot be written (disk
   * full, standard output closed or a broken pipe), standard input closed.
   */
  static final int IO = 6;

  /**
   * Interrupted (Ctrl-C, SIGINT: the JVM exits 128 + 2); work already finished is kept, nothing
   * half-written looks valid.
   */
  static final int INTERRUPTED = 130;

  /**
   * Stopped by SIGTERM (the JVM exits 128 + 15 after its shutdown hooks): as {@link #INTERRUPTED},
   * finished files are kept and an unfinished output's temporary file is removed. Set by the JVM,
   * not returned by byok; listed here for the documentation.
   */
  static final int TERMINATED = 143;

  private ExitCodes() {}
}
