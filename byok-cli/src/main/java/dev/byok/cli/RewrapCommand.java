package dev.byok.cli;

import dev.byok.Byok;
import dev.byok.EncryptionContext;
import dev.byok.EnvelopeFormat;
import dev.byok.EnvelopeHeader;
import dev.byok.Escaping;
import dev.byok.KeyRef;
import dev.byok.KeySlot;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.ReadPolicy;
import dev.byok.RewrapResult;
import dev.byok.kms.aws.AwsKmsProvider;
import dev.byok.spi.KeyDescription;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code byok rewrap}: moves blobs to a new set of KEKs — add a replica key, replace the old key —
 * by rewriting only their headers. Payloads are copied verbatim, never decrypted into a file or
 * re-encrypted; the summary reports the bytes re-encrypted (always 0).
 *
 * <p>Each blob is rewritten in place atomically (temporary file, fsync, move), so an interrupted
 * run leaves every file either as it was or fully rewrapped. A blob whose key slots already name
 * exactly the target keys is skipped, which makes a re-run finish an interrupted one. Temporary
 * files a killed run left behind are removed. A failing blob (not a blob, tampered, wrong key) is
 * reported and the others are still done; an unreachable KMS stops the run at once.
 */
@NullMarked
@Command(
    name = "rewrap",
    description = {
      "Move blobs to a new key set without re-encrypting their payloads: only the header's key slots "
          + "change (e.g. add a replica key, or replace the old key). Files are rewritten in place, "
          + "atomically; a re-run skips blobs already on the target keys, so an interrupted run is "
          + "finished by running it again.",
      "Add a replica:    byok rewrap --key alias/a --any-context --to alias/a --to alias/b DIR",
      "Replace the key:  byok rewrap --key alias/a --context tenant=acme --to alias/b DIR"
    })
final class RewrapCommand extends CliCommand {
  @Mixin KmsOptions kms = new KmsOptions();

  @Mixin ReadKeyOptions read = new ReadKeyOptions();

  @Mixin RequiredContextOption context = new RequiredContextOption();

  @Option(
      names = "--any-context",
      description =
          "rewrap blobs whatever encryption context they carry (they must still be under a --key "
              + "key); without it, --context is required")
  boolean anyContext;

  @Option(
      names = "--to",
      paramLabel = "KEY",
      description =
          "a key the blobs end up wrapped under (repeatable; the complete new key set, in slot "
              + "order): aws-kms://ARN, an alias or key id. These keys are trusted for reading too")
  List<String> to = new ArrayList<>();

  @Option(names = "--dry-run", description = "list what would change; write and delete nothing")
  boolean dryRun;

  @Parameters(
      paramLabel = "PATH",
      arity = "1..*",
      description = "blob files, or directories (walked recursively)")
  List<Path> paths = new ArrayList<>();

  @Override
  public Integer call() throws IOException {
    if (to.isEmpty()) {
      throw new CliException(
          ExitCodes.USAGE,
          "say which keys the blobs should end up under: --to KEY "
              + "(repeatable, the complete new set: --to OLD --to REPLICA adds a replica, --to NEW replaces OLD)");
    }
    read.check();
    if (!read.fixed()) {
      throw new CliException(
          ExitCodes.USAGE,
          "rewrap moves data keys to new keys for good: name the keys the blobs are under now with"
              + " --key KEY (repeatable); --any-key would let a planted blob, wrapped under any key,"
              + " be carried to the new keys");
    }
    EncryptionContext expected = context.expected();
    if (expected == null && !anyContext) {
      throw new CliException(
          ExitCodes.USAGE,
          "say which encryption context the blobs carry: --context NAME=VALUE (repeatable, exact)"
              + " or --any-context");
    }
    if (expected != null && anyContext) {
      throw new CliException(ExitCodes.USAGE, "give --context or --any-context, not both");
    }
    List<BlobPaths.Entry> blobs = BlobPaths.expand(paths);
    PrintStream out = io().out();
    removeStaleTemporaryFiles(out);
    try (AwsKmsProvider provider = kms.provider(io())) {
      List<String> target = targetArns(provider);
      Byok.Builder b = Byok.builder().provider(provider);
      target.forEach(arn -> b.encryptUnder(KeyRef.of(AwsKmsProvider.PROVIDER_ID, arn)));
      // the keys the blobs may be under now: the --key keys, and the --to keys (an interrupted run
      // leaves some blobs on them); a slot under any other key is never unwrapped, let alone moved
      List<KeyRef> from = new ArrayList<>();
      for (String k : read.keys) {
        String id = KeyRefs.parse(k).keyId();
        from.add(
            KeyRef.of(
                AwsKmsProvider.PROVIDER_ID,
                KeyRefs.isKeyArn(id) ? id : provider.describeKey(id).keyArn()));
      }
      for (String arn : target) {
        KeyRef r = KeyRef.of(AwsKmsProvider.PROVIDER_ID, arn);
        if (!from.contains(r) && from.size() < EnvelopeFormat.MAX_KEY_SLOTS) {
          from.add(r);
        }
      }
      ReadPolicy policy =
          expected == null ? ReadPolicy.matching(from, c -> true) : ReadPolicy.of(from, expected);
      try (Byok byok = b.build()) {
        return new Run(byok, policy, target, out).all(blobs);
      }
    }
  }

  /** One pass over the blobs: counts, and the first failure to exit with. */
  private final class Run {
    private final Byok byok;
    private final ReadPolicy policy;
    private final List<String> target;
    private final PrintStream out;
    private int rewrapped;
    private int done;
    private int failed;
    private long copied;
    private long reencrypted;
    private @Nullable Exception firstFailure;
    private @Nullable String firstFailed;

    Run(Byok byok, ReadPolicy policy, List<String> target, PrintStream out) {
      this.byok = byok;
      this.policy = policy;
      this.target = target;
      this.out = out;
    }

    int all(List<BlobPaths.Entry> blobs) {
      for (int i = 0; i < blobs.size(); i++) {
        Path file = blobs.get(i).file();
        try {
          one(file);
        } catch (KmsUnavailableException e) {
          failed(file, e);
          summary();
          int left = blobs.size() - i - 1;
          throw new CliException(
              ExitCodes.KMS_UNAVAILABLE,
              "stopped: "
                  + Failures.describe(e)
                  + ". "
                  + file
                  + " and "
                  + left
                  + " more blob(s) were not rewrapped; every file is either as it was or fully "
                  + "rewrapped: run the same command again to finish",
              e);
        } catch (IOException | RuntimeException e) {
          failed(file, e);
        }
      }
      summary();
      if (firstFailure != null) {
        throw new CliException(
            Failures.exitCode(firstFailure),
            failed
                + " blob(s) failed, the others are done; first: "
                + firstFailed
                + ": "
                + Failures.describe(firstFailure),
            firstFailure);
      }
      return ExitCodes.OK;
    }

    private void one(Path file) throws IOException {
      EnvelopeHeader h = BlobPaths.header(file);
      Readers.requireReadableSlot(h);
      String from = arns(h.keySlots());
      if (onTarget(h.keySlots())) {
        done++;
        out.println("already on target keys: " + shown(file) + " " + from);
      } else if (dryRun) {
        rewrapped++;
        out.println("would rewrap " + shown(file) + ": " + from + " -> " + target);
      } else {
        RewrapResult r = byok.rewrap(file, file, policy);
        rewrapped++;
        copied += r.payloadBytesCopied();
        reencrypted += r.payloadBytesReencrypted();
        out.println("rewrapped " + shown(file) + ": " + from + " -> " + arns(r.newSlots()));
      }
      out.flush();
    }

    private boolean onTarget(List<KeySlot> slots) {
      if (slots.size() != target.size()) {
        return false;
      }
      for (int i = 0; i < slots.size(); i++) {
        KeySlot s = slots.get(i);
        if (!s.providerId().equals(AwsKmsProvider.PROVIDER_ID)
            || !s.keyArn().equals(target.get(i))) {
          return false;
        }
      }
      return true;
    }

    private void failed(Path file, Exception e) {
      failed++;
      if (firstFailure == null) {
        firstFailure = e;
        firstFailed = shown(file);
      }
      out.println("FAILED " + shown(file) + ": " + Failures.describe(e));
      out.flush();
    }

    private void summary() {
      if (dryRun) {
        out.println(
            "dry run, nothing written: "
                + rewrapped
                + " blob(s) would be rewrapped, "
                + done
                + " already on target keys, "
                + failed
                + " failed");
      } else {
        out.println(
            rewrapped
                + " blob(s) rewrapped, "
                + done
                + " already on target keys, "
                + failed
                + " failed");
        out.println("payload bytes copied verbatim: " + copied);
        out.println("payload bytes re-encrypted: " + reencrypted);
      }
      out.flush();
    }
  }

  /** Resolves each {@code --to} key to its ARN once, and refuses an unusable or repeated one. */
  private List<String> targetArns(AwsKmsProvider provider) {
    List<String> arns = new ArrayList<>();
    for (String k : to) {
      KeyDescription d = provider.describeKey(KeyRefs.parse(k).keyId());
      if (!d.state().usable()) {
        throw new KeyUnusableException(
            KeyUnusableException.Reason.of(d.state()),
            d.keyArn(),
            "target key (--to " + k + ") is " + d.state(),
            null);
      }
      if (arns.contains(d.keyArn())) {
        throw new CliException(
            ExitCodes.USAGE, "--to " + k + " names " + d.keyArn() + " again; give each key once");
      }
      arns.add(d.keyArn());
    }
    return List.copyOf(arns);
  }

  /** A file name as printed: an untrusted name cannot move the cursor or forge a line. */
  private static String shown(Path file) {
    return Escaping.forDisplay(file.toString());
  }

  private static String arns(List<KeySlot> slots) {
    return slots.stream()
        .map(s -> Escaping.forDisplay(s.keyArn()))
        .collect(Collectors.joining(", ", "[", "]"));
  }

  /**
   * Deletes the temporary files an interrupted run (killed during a write) left: {@code *.byok-tmp}
   * anywhere under a directory argument, and the ones beside a file argument that belong to it.
   */
  private void removeStaleTemporaryFiles(PrintStream out) throws IOException {
    List<Path> stale = new ArrayList<>();
    for (Path p : paths) {
      if (Files.isDirectory(p)) {
        try (Stream<Path> s = Files.walk(p)) {
          s.filter(f -> isTemp(f.getFileName().toString()))
              .filter(Files::isRegularFile)
              .forEach(stale::add);
        }
      } else {
        Path dir = p.toAbsolutePath().getParent();
        String prefix = "." + p.getFileName() + ".";
        try (Stream<Path> s = Files.list(dir)) {
          s.filter(
                  f ->
                      f.getFileName().toString().startsWith(prefix)
                          && isTemp(f.getFileName().toString()))
              .filter(Files::isRegularFile)
              .forEach(stale::add);
        }
      }
    }
    for (Path t : stale.stream().distinct().sorted().toList()) {
      if (dryRun) {
        out.println(
            "would remove stale temporary file " + shown(t) + " (left by an interrupted run)");
      } else if (Files.deleteIfExists(t)) {
        out.println("removed stale temporary file " + shown(t) + " (left by an interrupted run)");
      }
    }
  }

  private static boolean isTemp(String name) {
    return name.endsWith(BlobPaths.TEMP_SUFFIX);
  }
}
