package dev.byok.cli;

import dev.byok.kms.local.LocalKmsServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.jspecify.annotations.NullMarked;

/**
 * The training run behind the {@code byok} launcher's class-data archive ({@code BYOK_TRAIN=1
 * byok}, done by the build): in a fresh JVM that records an AppCDS archive (JDK 17-24) or an AOT
 * cache (JDK 25+), it runs the commands a user runs first — {@code --help}, {@code kms create-key},
 * {@code encrypt}, {@code inspect}, {@code verify}, {@code decrypt} — through {@link ByokCli#run}
 * against a local KMS started in-process, on a file of {@link #DEFAULT_MIB} MiB. The archive then
 * holds the classes those commands load (the AWS SDK, picocli, byok) and, on JDK 25, the method
 * profiles of the AES-GCM path, so the JIT compiles it early.
 *
 * <p>Usage: {@code java -cp byok.jar dev.byok.cli.Training WORKDIR [MIB]}; exits 0 when every
 * command succeeded and the decrypted file equals the original, 1 otherwise. Writes only under
 * WORKDIR (deletes what it wrote). Not part of the CLI's commands; one run per JVM.
 */
@NullMarked
final class Training {
  /** The training file's size: long enough for the JIT to see the crypto path hot, a second. */
  static final int DEFAULT_MIB = 32;

  private Training() {}

  /**
   * Runs the training commands.
   *
   * @param args WORKDIR and optionally the file size in MiB
   */
  public static void main(String[] args) throws IOException {
    if (args.length < 1 || args.length > 2) {
      System.err.println("usage: java -cp byok.jar dev.byok.cli.Training WORKDIR [MIB]");
      System.exit(ExitCodes.USAGE);
    }
    int mib = args.length == 2 ? Integer.parseInt(args[1]) : DEFAULT_MIB;
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    int code = run(Path.of(args[0]), mib, log);
    if (code != ExitCodes.OK) {
      System.err.write(log.toByteArray());
      System.err.println("byok training run failed with exit code " + code);
    }
    System.exit(code == ExitCodes.OK ? 0 : 1);
  }

  /**
   * Runs the commands in {@code dir}.
   *
   * @param dir an existing directory; the files written there are deleted at the end
   * @param mib the size of the file encrypted and decrypted, in MiB
   * @param log receives the commands' standard output and error
   * @return {@link ExitCodes#OK}, or the first failing command's exit code (1 if the round trip
   *     gave other bytes)
   */
  static int run(Path dir, int mib, OutputStream log) throws IOException {
    Path plain = dir.resolve("train.bin");
    Path blob = dir.resolve("train.bin.byok");
    Path back = dir.resolve("train.back");
    byte[] data = new byte[mib * 1024 * 1024];
    new Random(1).nextBytes(data);
    Files.write(plain, data);
    PrintStream sink = new PrintStream(log, true, StandardCharsets.UTF_8);
    try (LocalKmsServer server = LocalKmsServer.builder().start()) {
      CliIo io =
          new CliIo(
              InputStream.nullInputStream(),
              sink,
              sink,
              false,
              false,
              Map.of("BYOK_KMS_ENDPOINT", server.endpoint().toString()));
      String[][] commands = {
        {"--help"},
        {"encrypt", "--help"},
        {"kms", "create-key", "--alias", "alias/train"},
        {"encrypt", "--key", "alias/train", "--context", "run=train", plain.toString()},
        {"inspect", blob.toString()},
        {"inspect", "--json", blob.toString()},
        {"verify", "--key", "alias/train", blob.toString()},
        {"decrypt", "--key", "alias/train", "-o", back.toString(), blob.toString()},
      };
      for (String[] command : commands) {
        int code = ByokCli.run(io, command);
        if (code != ExitCodes.OK) {
          sink.println("failed: byok " + String.join(" ", command));
          return code;
        }
      }
      return Arrays.equals(Files.readAllBytes(back), data) ? ExitCodes.OK : 1;
    } finally {
      for (Path p : new Path[] {plain, blob, back}) {
        Files.deleteIfExists(p);
      }
    }
  }
}
