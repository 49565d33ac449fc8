package dev.byok.kms.local.azure;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A throw-away self-signed TLS identity for 127.0.0.1 and localhost, made at start by the JDK's own
 * {@code keytool} (the JDK has no public API to sign a certificate) in a temporary directory that
 * is deleted at once; the private key lives only in memory afterwards.
 */
final class SelfSignedTls {
  private final SSLContext serverContext;
  private final X509Certificate certificate;

  private SelfSignedTls(SSLContext serverContext, X509Certificate certificate) {
    this.serverContext = serverContext;
    this.certificate = certificate;
  }

  static SelfSignedTls generate() {
    byte[] pw = new byte[12];
    new SecureRandom().nextBytes(pw);
    char[] password = HexFormat.of().formatHex(pw).toCharArray();
    Path dir = null;
    try {
      dir = Files.createTempDirectory("byok-azure-tls");
      Path store = dir.resolve("vault.p12");
      Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
      Process p =
          new ProcessBuilder(
                  keytool.toString(),
                  "-genkeypair",
                  "-keystore",
                  store.toString(),
                  "-storetype",
                  "PKCS12",
                  "-storepass",
                  new String(password),
                  "-alias",
                  "vault",
                  "-keyalg",
                  "EC",
                  "-dname",
                  "CN=127.0.0.1",
                  "-ext",
                  "san=ip:127.0.0.1,dns:localhost",
                  "-validity",
                  "2")
              .redirectErrorStream(true)
              .start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) {
        throw new IllegalStateException("keytool could not make a certificate: " + output);
      }
      KeyStore ks = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(store)) {
        ks.load(in, password);
      }
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, password);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), null, null);
      X509Certificate cert = (X509Certificate) ks.getCertificate("vault");
      return new SelfSignedTls(ctx, cert);
    } catch (IOException e) {
      throw new UncheckedIOException("could not make a throw-away certificate", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("could not make a throw-away certificate", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while making a certificate", e);
    } finally {
      if (dir != null) {
        deleteQuietly(dir.resolve("vault.p12"));
        deleteQuietly(dir);
      }
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      p.toFile().deleteOnExit();
    }
  }

  SSLContext serverContext() {
    return serverContext;
  }

  X509Certificate certificate() {
    return certificate;
  }

  String certificatePem() {
    try {
      return "-----BEGIN CERTIFICATE-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
              .encodeToString(certificate.getEncoded())
          + "\n-----END CERTIFICATE-----\n";
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An SSL context that trusts this certificate only. */
  SSLContext clientContext() {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("vault", certificate);
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
