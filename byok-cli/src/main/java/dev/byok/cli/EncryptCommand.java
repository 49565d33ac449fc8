package dev.byok.cli;

import dev.byok.Byok;
import dev.byok.EncryptionContext;
import dev.byok.kms.aws.AwsKmsProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code byok encrypt}: files, directories or standard input into byok blobs under one or more KMS
 * keys. File outputs are written atomically (complete or absent).
 */
@NullMarked
@Command(
    name = "encrypt",
    sortOptions = false,
    description = {
      "Encrypt files, directories or standard input under KMS keys.",
      "FILE -> FILE.byok (or -o); several inputs or a directory -> -o DIR, mirrored with .byok added;",
      "no input or '-' -> standard input to -o or standard output."
    })
final class EncryptCommand extends CliCommand {
  @Option(
      names = "--key",
      required = true,
      paramLabel = "KEY",
      description =
          "key to encrypt under: aws-kms://ARN, alias/NAME or a key id; repeat to add replica keys")
  List<String> keys = new ArrayList<>();

  @Option(
      names = "--context",
      paramLabel = "NAME=VALUE",
      description =
          "encryption context entry, bound to the blob (not secret; needed to decrypt if checked); repeatable")
  Map<String, String> context = new LinkedHashMap<>();

  @Option(
      names = "--segment-size",
      paramLabel = "BYTES",
      description = "plaintext segment size, 4096..8388608 (default 65536)")
  @Nullable Integer segmentSize;

  @Mixin OutputOptions out;

  @Parameters(
      paramLabel = "INPUT",
      arity = "0..*",
      description = "files or directories; '-' or none = stdin")
  List<Path> inputs = new ArrayList<>();

  @Mixin KmsOptions kms;

  @Override
  public Integer call() throws IOException {
    CliIo io = io();
    EncryptionContext ctx = KeyRefs.context(context);
    try (AwsKmsProvider provider = kms.provider(io)) {
      Byok.Builder b = Byok.builder().provider(provider);
      keys.forEach(k -> b.encryptUnder(KeyRefs.parse(k)));
      if (segmentSize != null) {
        b.segmentSize(segmentSize);
      }
      try (Byok byok = b.build()) {
        if (Streams.isStdin(inputs)) {
          encryptStdin(byok, ctx, io);
          return ExitCodes.OK;
        }
        for (Streams.Job job : Streams.plan(inputs, out.output, Streams.Naming.ADD_SUFFIX)) {
          encryptFile(byok, ctx, io, job.source(), job.target());
        }
      }
    }
    return ExitCodes.OK;
  }

  private void encryptStdin(Byok byok, EncryptionContext ctx, CliIo io) throws IOException {
    if (out.toStdout()) {
      Streams.refuseBinaryToTerminal(io, "ciphertext");
      // closing flushes and checks every write: a full disk or a broken pipe fails the run
      try (OutputStream stdout = Streams.stdout(io)) {
        InputStream in = out.progress.wrap(Streams.stdin(io), -1, "encrypt", io);
        try (OutputStream enc = byok.newEncryptingStream(stdout, ctx)) {
          in.transferTo(enc);
        }
      }
      return;
    }
    InputStream in = out.progress.wrap(Streams.stdin(io), -1, "encrypt", io);
    try (AtomicOutput file = AtomicOutput.create(Objects.requireNonNull(out.output), out.force)) {
      try (OutputStream enc = byok.newEncryptingStream(file.stream(), ctx)) {
        in.transferTo(enc);
      }
      file.commit();
    }
    io.err()
        .println(
            "encrypted stdin -> "
                + out.output
                + " ("
                + Files.size(Objects.requireNonNull(out.output))
                + " bytes)");
  }

  private void encryptFile(Byok byok, EncryptionContext ctx, CliIo io, Path source, Path target)
      throws IOException {
    long size = Files.size(source);
    try (InputStream in =
            out.progress.wrap(
                Files.newInputStream(source), size, source.getFileName().toString(), io);
        AtomicOutput file = AtomicOutput.create(target, out.force)) {
      try (OutputStream enc = byok.newEncryptingStream(file.stream(), ctx)) {
        in.transferTo(enc);
      }
      file.commit();
    }
    io.out()
        .println(
            "encrypted "
                + source
                + " -> "
                + target
                + " ("
                + size
                + " -> "
                + Files.size(target)
                + " bytes)");
    Streams.check(io.out(), "standard output"); // stop at once if the report cannot be written
  }
}
