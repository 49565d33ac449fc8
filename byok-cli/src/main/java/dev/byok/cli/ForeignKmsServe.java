package dev.byok.cli;

import dev.byok.kms.local.azure.AzureKeyVaultServer;
import dev.byok.kms.local.gcp.GcpKms;
import dev.byok.kms.local.gcp.GcpTestServer;
import io.grpc.InsecureServerCredentials;
import io.grpc.okhttp.OkHttpServerBuilder;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;

/**
 * {@code byok kms serve --protocol gcp|azure}: byok-kms-local's Cloud KMS test server (gRPC over
 * grpc-okhttp's server on 127.0.0.1, plaintext) or Key Vault test server (HTTPS on 127.0.0.1 with a
 * throw-away certificate), each in memory with one key created on start. Runs until Ctrl-C or until
 * the running thread is interrupted (tests), like the AWS-protocol server.
 */
@NullMarked
final class ForeignKmsServe {
  /** The key ring {@code --protocol gcp} starts with. */
  static final String GCP_PROJECT = "byok-local";

  static final String GCP_LOCATION = "global";
  static final String GCP_KEY_RING = "byok";

  /** The key both protocols start with. */
  static final String KEY = "byok-demo";

  private ForeignKmsServe() {}

  static int serve(CliIo io, String protocol, int port, @Nullable Path cert) {
    if (protocol.equals("gcp")) {
      if (cert != null) {
        throw new CliException(ExitCodes.USAGE, "--cert is for --protocol azure only");
      }
      return serveGcp(io, port);
    }
    return serveAzure(io, port, cert);
  }

  private static int serveGcp(CliIo io, int port) {
    GcpKms kms = new GcpKms();
    String ring = kms.createKeyRing(GCP_PROJECT, GCP_LOCATION, GCP_KEY_RING);
    String key = kms.createCryptoKey(ring, KEY);
    GcpTestServer server;
    try {
      server =
          GcpTestServer.start(
              kms,
              OkHttpServerBuilder.forPort(
                  new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                  InsecureServerCredentials.create()));
    } catch (UncheckedIOException e) {
      throw startFailure(port, e);
    }
    String endpoint = "127.0.0.1:" + server.port();
    return runUntilStopped(
        io,
        server,
        "byok local Cloud KMS stopped",
        null,
        "warning: for tests only: keys live in memory and requests are not authenticated "
            + "(no IAM, no TLS)",
        out -> {
          out.println(
              "byok local Cloud KMS listening on "
                  + endpoint
                  + " (Google Cloud KMS gRPC API, plaintext HTTP/2)");
          out.println("state: in memory (keys are lost when it stops)");
          out.println("key: " + key);
          out.println(
              "point a Cloud KMS client at it: endpoint "
                  + endpoint
                  + ", a plaintext channel, no credentials (docs/gcp-kms.md)");
          out.println("export BYOK_GCP_KMS_ENDPOINT=" + endpoint);
          out.println("(Ctrl-C stops the server)");
        });
  }

  private static int serveAzure(CliIo io, int port, @Nullable Path cert) {
    AzureKeyVaultServer server;
    try {
      server = AzureKeyVaultServer.builder().port(port).start();
    } catch (UncheckedIOException e) {
      throw startFailure(port, e);
    }
    Path pem;
    try {
      pem = writeCertificate(server, cert);
    } catch (CliException e) {
      server.close();
      throw e;
    }
    String key = server.createRsaKey(KEY);
    Path delete = cert == null ? pem : null;
    return runUntilStopped(
        io,
        server,
        "byok local Key Vault stopped",
        delete,
        "warning: for tests only: keys live in memory, the bearer token is a fixed test value and "
            + "the certificate is a throw-away self-signed one",
        out -> {
          out.println(
              "byok local Key Vault listening on "
                  + server.vaultUrl()
                  + " (Azure Key Vault keys REST API, HTTPS)");
          out.println("state: in memory (keys are lost when it stops)");
          out.println("key: " + key);
          out.println(
              "certificate: "
                  + pem
                  + " (PEM; clients must trust it"
                  + (delete == null ? ")" : "; deleted when the server stops)"));
          out.println("bearer token: " + server.accessToken());
          out.println("export BYOK_AZURE_VAULT_URL=" + server.vaultUrl());
          out.println("(Ctrl-C stops the server)");
        });
  }

  /** Writes the certificate to {@code cert} (a new file) or to a new temporary file. */
  private static Path writeCertificate(AzureKeyVaultServer server, @Nullable Path cert) {
    byte[] pem = server.certificatePem().getBytes(StandardCharsets.US_ASCII);
    try {
      if (cert == null) {
        Path tmp = Files.createTempFile("byok-kms-azure-", ".pem");
        Files.write(tmp, pem, StandardOpenOption.TRUNCATE_EXISTING);
        return tmp;
      }
      return Files.write(cert, pem, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    } catch (FileAlreadyExistsException e) {
      throw new CliException(
          ExitCodes.IO, "--cert " + cert + " exists; give a new file for the certificate", e);
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.IO,
          "cannot write the certificate"
              + (cert == null ? "" : " to " + cert)
              + " ("
              + Failures.messageOf(e)
              + ")",
          e);
    }
  }

  private static CliException startFailure(int port, UncheckedIOException e) {
    Throwable cause = e.getCause();
    while (cause != null && !(cause instanceof BindException)) {
      cause = cause.getCause();
    }
    if (cause != null) {
      return new CliException(
          ExitCodes.FAILURE,
          "port "
              + port
              + " on 127.0.0.1 is in use (another `byok kms "
              + "serve`?); pass --port N, or --port 0 for any free port",
          e);
    }
    return new CliException(
        ExitCodes.IO, e.getMessage() + " (" + Failures.messageOf(e.getCause()) + ")", e);
  }

  /** Prints the banner to stdout. */
  @FunctionalInterface
  private interface Banner {
    void print(PrintStream out);
  }

  private static int runUntilStopped(
      CliIo io,
      AutoCloseable server,
      String stoppedLine,
      @Nullable Path deleteAtStop,
      String warning,
      Banner banner) {
    CountDownLatch stopped = new CountDownLatch(1);
    Runnable stop =
        () -> {
          try {
            server.close();
          } catch (Exception e) {
            io.err().println("byok: warning: " + Failures.message(e));
          }
          if (deleteAtStop != null) {
            try {
              Files.deleteIfExists(deleteAtStop);
            } catch (IOException e) {
              io.err()
                  .println(
                      "byok: warning: could not delete "
                          + deleteAtStop
                          + ": "
                          + Failures.message(e));
            }
          }
        };
    Thread hook =
        new Thread(
            () -> {
              stop.run();
              io.err().println(stoppedLine);
              io.err().flush();
              stopped.countDown();
            },
            "byok-kms-serve-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      io.err().println(warning);
      io.err().flush();
      PrintStream out = io.out();
      banner.print(out);
      out.flush();
      stopped.await();
      return ExitCodes.OK;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ExitCodes.INTERRUPTED;
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
        stop.run();
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or has run
      }
    }
  }
}
