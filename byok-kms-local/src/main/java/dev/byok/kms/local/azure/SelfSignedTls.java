package dev.byok.kms.local.azure;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.HexFormat;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A throw-away self-signed TLS identity for 127.0.0.1 and localhost, made in memory at start (an EC
 * P-256 key and a certificate encoded here); nothing is written to disk and no tool is run.
 */
final class SelfSignedTls {
  private final SSLContext serverContext;
  private final X509Certificate certificate;

  private SelfSignedTls(SSLContext serverContext, X509Certificate certificate) {
    this.serverContext = serverContext;
    this.certificate = certificate;
  }

  static SelfSignedTls generate() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair pair = g.generateKeyPair();
      X509Certificate cert = selfSigned(pair, Instant.now());
      char[] password = new char[0];
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("vault", pair.getPrivate(), password, new Certificate[] {cert});
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, password);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), null, null);
      return new SelfSignedTls(ctx, cert);
    } catch (IOException e) {
      throw new UncheckedIOException("could not make a throw-away certificate", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("could not make a throw-away certificate", e);
    }
  }

  /**
   * A minimal X.509 v3 certificate, DER by hand (the JDK has no public API to issue one): subject =
   * issuer = CN=127.0.0.1, valid from an hour ago for two days, subjectAltName IP 127.0.0.1 and DNS
   * localhost, signed SHA256withECDSA by its own key.
   */
  static X509Certificate selfSigned(KeyPair pair, Instant now) throws GeneralSecurityException {
    byte[] ecdsaSha256 = der(0x30, hex("06082a8648ce3d040302"));
    byte[] name = der(0x30, der(0x31, der(0x30, hex("0603550403"), der(0x0c, ascii("127.0.0.1")))));
    DateTimeFormatter utc = DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'").withZone(ZoneOffset.UTC);
    byte[] validity =
        der(
            0x30,
            der(0x17, ascii(utc.format(now.minus(Duration.ofHours(1))))),
            der(0x17, ascii(utc.format(now.plus(Duration.ofDays(2))))));
    byte[] serial = new byte[16];
    new SecureRandom().nextBytes(serial);
    serial[0] = (byte) ((serial[0] & 0x7f) | 0x01); // positive, no leading zero
    byte[] san = der(0x30, der(0x87, new byte[] {127, 0, 0, 1}), der(0x82, ascii("localhost")));
    byte[] extensions = der(0xa3, der(0x30, der(0x30, hex("0603551d11"), der(0x04, san))));
    byte[] tbs =
        der(
            0x30,
            hex("a003020102"),
            der(0x02, serial),
            ecdsaSha256,
            name,
            validity,
            name,
            pair.getPublic().getEncoded(),
            extensions);
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(pair.getPrivate());
    signer.update(tbs);
    byte[] sig = signer.sign();
    byte[] bits = new byte[sig.length + 1];
    System.arraycopy(sig, 0, bits, 1, sig.length);
    byte[] cert = der(0x30, tbs, ecdsaSha256, der(0x03, bits));
    return (X509Certificate)
        CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(cert));
  }

  private static byte[] der(int tag, byte[]... parts) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      body.writeBytes(p);
    }
    int n = body.size();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    if (n < 0x80) {
      out.write(n);
    } else if (n < 0x100) {
      out.write(0x81);
      out.write(n);
    } else {
      out.write(0x82);
      out.write(n >> 8);
      out.write(n & 0xff);
    }
    out.writeBytes(body.toByteArray());
    return out.toByteArray();
  }

  private static byte[] hex(String h) {
    return HexFormat.of().parseHex(h);
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
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
