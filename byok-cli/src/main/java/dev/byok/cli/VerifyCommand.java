package dev.byok.cli;

import dev.byok.EncryptionContext;
import dev.byok.Escaping;
import dev.byok.kms.aws.AwsKmsProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code byok verify}: authenticates blobs end to end — data key unwrapped through the KMS, key
 * commitment, every segment, the final-segment marker — and writes no plaintext anywhere. Goes on
 * after a failure and exits with the first failure's code.
 */
@NullMarked
@Command(
    name = "verify",
    sortOptions = false,
    description = {
      "Authenticate blobs end to end (KMS unwrap, key commitment, every segment) without writing plaintext.",
      "Prints OK or FAILED per blob; exits non-zero if any failed."
    })
final class VerifyCommand extends CliCommand {
  @Mixin ReadKeyOptions trust;

  @Mixin RequiredContextOption context;

  @Parameters(
      paramLabel = "PATH",
      arity = "1..*",
      description = "blobs or directories (walked recursively)")
  List<Path> paths = new ArrayList<>();

  @Mixin KmsOptions kms;

  @Override
  public Integer call() throws IOException {
    CliIo io = io();
    @Nullable EncryptionContext expected = context.expected();
    int ok = 0;
    int firstFailure = ExitCodes.OK;
    List<BlobPaths.Entry> entries;
    try (AwsKmsProvider provider = kms.provider(io);
        Readers readers = new Readers(trust, provider)) {
      entries = BlobPaths.expand(paths);
      for (BlobPaths.Entry e : entries) {
        try (InputStream in = Files.newInputStream(e.file())) {
          CountingSink sink = new CountingSink();
          DecryptCommand.decrypt(readers, in, Files.size(e.file()), sink, expected);
          io.out()
              .println(
                  "OK      "
                      + Escaping.forDisplay(e.file().toString())
                      + " ("
                      + sink.count
                      + " bytes of plaintext authenticated)");
          ok++;
        } catch (IOException | RuntimeException ex) {
          io.out()
              .println(
                  "FAILED  "
                      + Escaping.forDisplay(e.file().toString())
                      + ": "
                      + Failures.describe(ex));
          if (firstFailure == ExitCodes.OK) {
            firstFailure = Failures.exitCode(ex);
          }
        }
        Streams.check(io.out(), "standard output"); // a lost report line stops the run
      }
    }
    int failed = entries.size() - ok;
    io.out()
        .println(
            ok
                + " of "
                + entries.size()
                + " blobs authentic"
                + (failed == 0 ? "" : ", " + failed + " FAILED"));
    return firstFailure;
  }

  /** Counts and discards. */
  private static final class CountingSink extends OutputStream {
    long count;

    @Override
    public void write(int b) {
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      count += len;
    }
  }
}
