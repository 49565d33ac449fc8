package dev.byok.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code byok demo}: the whole bring-your-own-key story in a few seconds, on a local KMS started
 * in-process — no AWS account, nothing leaves the machine. The steps are {@link DemoStory}'s; this
 * class owns the work directory (a fresh temporary one unless {@code --dir}, deleted at the end
 * unless {@code --keep}).
 *
 * <p>{@code --kms gcp} and {@code --kms azure} tell the same story on byok-kms-local's Cloud KMS
 * and Key Vault test servers, through the official clients ({@link DemoKms}).
 *
 * <p>The demo ignores {@code BYOK_KMS_ENDPOINT}, {@code AWS_REGION}, {@code AWS_PROFILE} and the
 * like: it only ever talks to the KMS it started, with throw-away credentials.
 *
 * <p>Exit 0 when every step behaved as it says, 1 when one did not (the failing step is named), 6
 * when the work directory cannot be used.
 */
@NullMarked
@Command(
    name = "demo",
    description = {
      "Runs the whole bring-your-own-key story on an embedded local KMS (the real AWS SDK over loopback; "
          + "no AWS account, nothing leaves this machine), printing each step in plain words with timings:",
      "  1 create a customer key and the alias " + DemoStory.ALIAS,
      "  2 encrypt a snapshot-like directory of files under the alias",
      "  3 inspect a blob: format, context, key slot (no KMS call)",
      "  4 disable the key: the key-state monitor locks it and reads are refused",
      "  5 enable the key: the monitor unlocks it and reads work again",
      "  6 move the alias to a new key: rotation event; new blobs name the new key",
      "  7 rewrap the old blobs under the new key (0 payload bytes re-encrypted)",
      "  8 schedule deletion of the old key: warning with the date",
      "  9 summary",
      "--kms gcp|azure tells it on Cloud KMS or Key Vault test servers instead, through the "
          + "vendors' own clients; a step says where the provider differs (no aliases, versions).",
      "The monitor probes every 250 ms here (its default is 5 min), so the demo takes a few seconds.",
      "Exit 0 if every step behaved as expected, 1 naming the step that did not."
    })
final class DemoCommand extends CliCommand {
  @Option(
      names = "--dir",
      paramLabel = "DIR",
      description =
          "work directory, new or empty: the demo writes plaintext/ and repo/ (the encrypted blobs) "
              + "there (default: a fresh temporary directory)")
  @Nullable Path dir;

  @Option(
      names = "--kms",
      paramLabel = "KMS",
      completionCandidates = KmsNames.class,
      description =
          "the provider the story runs on, against its in-process test server through the "
              + "vendor's own client: aws (default), gcp (Cloud KMS over grpc-inprocess) or azure "
              + "(Key Vault over loopback HTTPS)")
  String kms = "aws";

  /** The {@code --kms} values, for completion and help. */
  static final class KmsNames extends java.util.ArrayList<String> {
    private static final long serialVersionUID = 1L;

    KmsNames() {
      super(DemoKms.NAMES);
    }
  }

  @Option(
      names = "--keep",
      description =
          "keep the work directory's files at the end (default: delete them) to look at them "
              + "afterwards, e.g. with byok inspect")
  boolean keep;

  @Override
  public Integer call() throws IOException, InterruptedException {
    CliIo io = io();
    if (!DemoKms.NAMES.contains(kms)) {
      throw new CliException(
          ExitCodes.USAGE,
          "--kms " + kms + " is not one of " + String.join(", ", DemoKms.NAMES) + " (default aws)");
    }
    boolean created = dir == null || !Files.exists(dir);
    Path work = prepare(dir);
    try {
      // an empty environment: never the user's endpoint, Region, profile or credentials
      CliIo local =
          new CliIo(io.in(), io.out(), io.err(), io.interactive(), io.stdoutIsTerminal(), Map.of());
      DemoStory.run(
          local,
          work,
          keep ? "kept (--keep)" : "deleted at the end; --keep keeps it",
          kms,
          server -> {});
    } finally {
      if (keep) {
        io.out()
            .println(
                "Files kept in " + work + " (plaintext/, repo/); look at them with byok inspect.");
      } else {
        delete(work, created, io);
      }
      io.out().flush();
    }
    return ExitCodes.OK;
  }

  /**
   * @return the work directory, created if needed; refuses a file or a non-empty directory
   */
  private static Path prepare(@Nullable Path dir) throws IOException {
    if (dir == null) {
      return Files.createTempDirectory("byok-demo-");
    }
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new CliException(
          ExitCodes.IO, "--dir " + dir + " is a file; give a new or empty directory");
    }
    if (Files.isDirectory(dir)) {
      try (Stream<Path> s = Files.list(dir)) {
        if (s.findAny().isPresent()) {
          throw new CliException(
              ExitCodes.IO,
              "--dir "
                  + dir
                  + " is not empty; give a new or empty directory "
                  + "(the demo writes plaintext/ and repo/ there)");
        }
      }
      return dir;
    }
    return Files.createDirectories(dir);
  }

  /** Deletes what the demo wrote, and the directory itself if the demo created it. */
  private static void delete(Path work, boolean created, CliIo io) {
    try (Stream<Path> s = Files.walk(work)) {
      s.sorted(Comparator.reverseOrder())
          .filter(p -> created || !p.equals(work))
          .forEach(
              p -> {
                try {
                  Files.delete(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    } catch (IOException | UncheckedIOException e) {
      io.err()
          .println(
              "byok: warning: could not delete the demo's files in "
                  + work
                  + ": "
                  + Failures.message(e));
    }
  }
}
