package dev.byok.cli;

import dev.byok.Byok;
import dev.byok.EncryptionContext;
import dev.byok.EnvelopeHeader;
import dev.byok.kms.aws.AwsKmsProvider;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code byok decrypt}: blobs back to plaintext. A file output appears only once every segment has
 * authenticated (temporary file, then an atomic move); a blob that fails leaves no output. To
 * standard output, each segment is written as soon as it authenticates, so on a non-zero exit the
 * consumer must discard what it received.
 */
@NullMarked
@Command(
    name = "decrypt",
    sortOptions = false,
    description = {
      "Decrypt byok blobs. FILE.byok -> FILE (or -o); several inputs or a directory -> -o DIR;",
      "no input or '-' -> standard input to -o or standard output.",
      "A failed blob leaves no output file. To stdout, discard the output on a non-zero exit."
    })
final class DecryptCommand extends CliCommand {
  @Mixin ReadKeyOptions trust;

  @Mixin RequiredContextOption context;

  @Mixin OutputOptions out;

  @Parameters(
      paramLabel = "INPUT",
      arity = "0..*",
      description = "blobs or directories; '-' or none = stdin")
  List<Path> inputs = new ArrayList<>();

  @Mixin KmsOptions kms;

  @Override
  public Integer call() throws IOException {
    CliIo io = io();
    @Nullable EncryptionContext expected = context.expected();
    try (AwsKmsProvider provider = kms.provider(io);
        Readers readers = new Readers(trust, provider)) {
      if (Streams.isStdin(inputs)) {
        decryptStdin(readers, expected, io);
        return ExitCodes.OK;
      }
      for (Streams.Job job : Streams.plan(inputs, out.output, Streams.Naming.DROP_SUFFIX)) {
        long size = Files.size(job.source());
        try (InputStream raw =
                out.progress.wrap(
                    Files.newInputStream(job.source()),
                    size,
                    job.source().getFileName().toString(),
                    io);
            AtomicOutput file = AtomicOutput.create(job.target(), out.force)) {
          decrypt(readers, raw, size, file.stream(), expected);
          file.commit();
        }
        io.out()
            .println(
                "decrypted "
                    + job.source()
                    + " -> "
                    + job.target()
                    + " ("
                    + Files.size(job.target())
                    + " bytes)");
        Streams.check(io.out(), "standard output"); // stop at once if the report is lost
      }
    }
    return ExitCodes.OK;
  }

  private void decryptStdin(Readers readers, @Nullable EncryptionContext expected, CliIo io)
      throws IOException {
    if (out.toStdout()) {
      Streams.refuseBinaryToTerminal(io, "plaintext");
      // closing flushes and checks every write: a full disk or a broken pipe fails the run
      try (OutputStream stdout = Streams.stdout(io)) {
        InputStream in = out.progress.wrap(Streams.stdin(io), -1, "decrypt", io);
        decrypt(readers, in, -1, stdout, expected);
      }
      return;
    }
    InputStream in = out.progress.wrap(Streams.stdin(io), -1, "decrypt", io);
    try (AtomicOutput file = AtomicOutput.create(Objects.requireNonNull(out.output), out.force)) {
      decrypt(readers, in, -1, file.stream(), expected);
      file.commit();
    }
    io.err()
        .println(
            "decrypted stdin -> "
                + out.output
                + " ("
                + Files.size(Objects.requireNonNull(out.output))
                + " bytes)");
  }

  /**
   * Reads the header to choose the reader, then decrypts the whole blob (header replayed) into
   * {@code sink}. With a known size, a blob whose length no plaintext can have is refused as
   * truncated before any KMS call.
   */
  static void decrypt(
      Readers readers,
      InputStream in,
      long size,
      OutputStream sink,
      @Nullable EncryptionContext expected)
      throws IOException {
    EnvelopeHeader header = EnvelopeHeader.read(in);
    if (size >= 0) {
      header.plaintextLength(size);
    }
    Readers.requireReadableSlot(header);
    Byok reader = readers.forHeader(header);
    InputStream whole = new SequenceInputStream(new ByteArrayInputStream(header.toByteArray()), in);
    try (InputStream plain = reader.newDecryptingStream(whole, expected)) {
      plain.transferTo(sink);
    }
  }
}
