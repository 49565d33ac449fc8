package dev.byok.cli;

import dev.byok.kms.local.LocalKmsServer;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code byok kms serve}: byok-kms-local's {@link LocalKmsServer} on loopback, so the CLI (and any
 * AWS SDK) can be tried without an AWS account. Keys and aliases are kept in a state file, by
 * default {@code ~/.byok/local-kms.json}: the promise is that keys survive restarts, and
 * blobs written under a local key stay readable across them, so persistence is the default; the
 * file lives in the user's home (owner-only permissions), away from project directories where it
 * could be committed by mistake. {@code --in-memory} keeps nothing.
 *
 * <p>{@code --protocol gcp|azure} serves byok-kms-local's Cloud KMS or Key Vault test server
 * instead, in memory ({@link ForeignKmsServe}).
 *
 * <p>Runs until Ctrl-C (a shutdown hook stops the server and saves its state) or until the running
 * thread is interrupted (tests), which exits with {@link ExitCodes#INTERRUPTED}.
 */
@NullMarked
@Command(
    name = "serve",
    description = {
      "Run a local KMS for tests and demos on 127.0.0.1.",
      "It speaks the AWS KMS protocol, so any AWS SDK works against it; with --protocol gcp or",
      "azure, the Google Cloud KMS or Azure Key Vault API, for those vendors' clients.",
      "FOR TESTS ONLY: key material is stored in clear in the state file and requests are not",
      "authenticated. Stop it with Ctrl-C."
    })
final class KmsServeCommand extends CliCommand {
  /** The port {@code byok kms serve} listens on unless told otherwise. */
  static final int DEFAULT_PORT = 4599;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      defaultValue = "" + DEFAULT_PORT,
      description = "port on 127.0.0.1 (default: ${DEFAULT-VALUE}; 0 = any free port)")
  int port;

  @Option(
      names = "--state",
      paramLabel = "FILE",
      description =
          "keep keys and aliases in this file across restarts (default: ~/.byok/local-kms.json)")
  @Nullable Path state;

  @Option(names = "--in-memory", description = "keep no state: keys are gone when the server stops")
  boolean inMemory;

  @Option(
      names = "--protocol",
      paramLabel = "aws|gcp|azure",
      defaultValue = "aws",
      description = {
        "aws (default): the AWS KMS JSON protocol over HTTP;",
        "gcp: the Google Cloud KMS gRPC API (plaintext HTTP/2);",
        "azure: the Azure Key Vault keys REST API over HTTPS (throw-away certificate).",
        "gcp and azure keep no state and start with one key, printed on start."
      })
  String protocol = "aws";

  @Option(
      names = "--cert",
      paramLabel = "FILE",
      description =
          "azure: write the server's throw-away certificate (PEM) to this new file for clients to "
              + "trust (default: a new temporary file, deleted when the server stops)")
  @Nullable Path cert;

  @Override
  public Integer call() {
    CliIo io = io();
    if (port < 0 || port > 65535) {
      throw new CliException(ExitCodes.USAGE, "--port must be 0 to 65535, was " + port);
    }
    switch (protocol) {
      case "aws":
        break;
      case "gcp":
      case "azure":
        if (state != null || inMemory) {
          throw new CliException(
              ExitCodes.USAGE,
              "--protocol " + protocol + " keeps no state: drop --state and --in-memory");
        }
        return ForeignKmsServe.serve(io, protocol, port, cert);
      default:
        throw new CliException(
            ExitCodes.USAGE, "--protocol must be aws, gcp or azure, was " + protocol);
    }
    if (cert != null) {
      throw new CliException(ExitCodes.USAGE, "--cert is for --protocol azure only");
    }
    if (inMemory && state != null) {
      throw new CliException(ExitCodes.USAGE, "give --state or --in-memory, not both");
    }
    Path file = inMemory ? null : stateFile();
    boolean existed = file != null && Files.exists(file);
    LocalKmsServer server = start(file);
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              server.close();
              io.err()
                  .println(
                      "byok local KMS stopped" + (file == null ? "" : "; state saved in " + file));
              io.err().flush();
              stopped.countDown();
            },
            "byok-kms-serve-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      // the warning first: the export line below is what scripts and tests wait for
      io.err()
          .println(
              "warning: for tests only: key material is stored in clear"
                  + (file == null ? "" : " in " + file)
                  + " and requests are not authenticated (no SigV4 check)");
      io.err().flush();
      PrintStream out = io.out();
      out.println(
          "byok local KMS listening on "
              + server.endpoint()
              + " (region "
              + server.kms().region()
              + ", account "
              + server.kms().accountId()
              + ")");
      out.println(
          file == null
              ? "state: in memory (keys are lost when it stops)"
              : "state: " + file + (existed ? " (loaded)" : " (new)"));
      out.println("point byok and AWS SDKs at it:");
      out.println("export BYOK_KMS_ENDPOINT=" + server.endpoint());
      out.println("then e.g.: byok kms create-key --alias alias/demo    (Ctrl-C stops the server)");
      out.flush();
      stopped.await();
      return ExitCodes.OK;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ExitCodes.INTERRUPTED;
    } finally {
      server.close();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or has run
      }
    }
  }

  private Path stateFile() {
    Path file = state;
    if (file == null) {
      Path dir = Path.of(System.getProperty("user.home"), ".byok");
      try {
        if (!Files.isDirectory(dir)) {
          Files.createDirectories(dir);
          try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
          } catch (UnsupportedOperationException notPosix) {
            // the directory keeps the default permissions
          }
        }
      } catch (IOException e) {
        throw new CliException(
            ExitCodes.IO,
            "cannot create "
                + dir
                + " for the KMS state ("
                + e.getMessage()
                + "); pass --state FILE or --in-memory",
            e);
      }
      return dir.resolve("local-kms.json");
    }
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null && !Files.isDirectory(parent)) {
      throw new CliException(ExitCodes.IO, "no directory " + parent + " for --state " + file);
    }
    return file;
  }

  private LocalKmsServer start(@Nullable Path file) {
    LocalKmsServer.Builder b = LocalKmsServer.builder().port(port);
    if (file != null) {
      b.stateFile(file);
    }
    LocalKmsServer server;
    try {
      server = b.start();
    } catch (IllegalArgumentException e) {
      // the state file does not parse
      throw new CliException(
          ExitCodes.IO,
          e.getMessage() + "; move it away to start empty, or pass another --state",
          e);
    } catch (UncheckedIOException e) {
      if (e.getCause() instanceof BindException) {
        throw new CliException(
            ExitCodes.FAILURE,
            "port "
                + port
                + " on 127.0.0.1 is in use (another `byok kms "
                + "serve`?); pass --port N, or --port 0 for any free port",
            e);
      }
      throw new CliException(
          ExitCodes.IO, e.getMessage() + " (" + Failures.messageOf(e.getCause()) + ")", e);
    }
    if (file != null) {
      try {
        server.saveState(); // fail now, not at the first key change, if the file cannot be written
      } catch (UncheckedIOException e) {
        server.close();
        throw new CliException(
            ExitCodes.IO,
            e.getMessage()
                + " ("
                + Failures.messageOf(e.getCause())
                + "); pass a writable --state FILE or --in-memory",
            e);
      }
    }
    return server;
  }
}
