package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.core.credential.AccessToken;
import com.azure.core.credential.TokenCredential;
import com.azure.core.http.HttpClient;
import com.azure.core.http.jdk.httpclient.JdkHttpClientBuilder;
import com.azure.security.keyvault.keys.cryptography.CryptographyClient;
import com.azure.security.keyvault.keys.cryptography.CryptographyClientBuilder;
import com.azure.security.keyvault.keys.cryptography.models.KeyWrapAlgorithm;
import com.azure.security.keyvault.keys.cryptography.models.UnwrapResult;
import com.azure.security.keyvault.keys.cryptography.models.WrapResult;
import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.grpc.GrpcTransportChannel;
import com.google.api.gax.rpc.FixedTransportChannelProvider;
import com.google.cloud.kms.v1.DecryptResponse;
import com.google.cloud.kms.v1.EncryptResponse;
import com.google.cloud.kms.v1.KeyManagementServiceClient;
import com.google.cloud.kms.v1.KeyManagementServiceSettings;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;

/**
 * {@code byok kms serve --protocol gcp|azure}: started as the CLI would be, reached by the vendor's
 * own client (Cloud KMS over a plaintext gRPC channel; Key Vault over HTTPS trusting the printed
 * certificate file), one round trip, then stopped.
 */
class KmsServeProtocolsTest {
  private static final byte[] SECRET =
      "a data key, 32 bytes long ......".getBytes(StandardCharsets.UTF_8);

  @Test
  void gcpServeAnswersTheCloudKmsClient() throws Exception {
    try (LiveCli serve = LiveCli.start("kms", "serve", "--protocol", "gcp", "--port", "0")) {
      String endpoint = serve.awaitOut("^export BYOK_GCP_KMS_ENDPOINT=(\\S+)$").group(1);
      String key = serve.awaitOut("^key: (\\S+)$").group(1);
      assertThat(endpoint).startsWith("127.0.0.1:");
      assertThat(key)
          .isEqualTo("projects/byok-local/locations/global/keyRings/byok/cryptoKeys/byok-demo");
      assertThat(serve.stderr()).contains("for tests only");

      ManagedChannel channel = ManagedChannelBuilder.forTarget(endpoint).usePlaintext().build();
      try (KeyManagementServiceClient client =
          KeyManagementServiceClient.create(
              KeyManagementServiceSettings.newBuilder()
                  .setTransportChannelProvider(
                      FixedTransportChannelProvider.create(GrpcTransportChannel.create(channel)))
                  .setCredentialsProvider(NoCredentialsProvider.create())
                  .build())) {
        EncryptResponse enc = client.encrypt(key, ByteString.copyFrom(SECRET));
        assertThat(enc.getName()).startsWith(key + "/cryptoKeyVersions/");
        assertThat(enc.getCiphertext().toByteArray()).isNotEqualTo(SECRET);
        DecryptResponse dec = client.decrypt(key, enc.getCiphertext());
        assertThat(dec.getPlaintext().toByteArray()).isEqualTo(SECRET);
      } finally {
        channel.shutdownNow();
        channel.awaitTermination(5, TimeUnit.SECONDS);
      }
      assertThat(serve.interrupt()).isEqualTo(ExitCodes.INTERRUPTED);
      assertClosed(Integer.parseInt(endpoint.substring(endpoint.indexOf(':') + 1)));
    }
  }

  @Test
  void azureServeAnswersTheKeyVaultClientTrustingThePrintedCertificate(@TempDir Path dir)
      throws Exception {
    Path cert = dir.resolve("vault.pem");
    try (LiveCli serve =
        LiveCli.start(
            "kms", "serve", "--protocol", "azure", "--port", "0", "--cert", cert.toString())) {
      String vault = serve.awaitOut("^export BYOK_AZURE_VAULT_URL=(\\S+)$").group(1);
      String key = serve.awaitOut("^key: (\\S+)$").group(1);
      String token = serve.awaitOut("^bearer token: (\\S+)$").group(1);
      assertThat(serve.stdout()).contains("certificate: " + cert + " (PEM; clients must trust it)");
      assertThat(key).isEqualTo(vault + "/keys/byok-demo");

      TokenCredential credential =
          request ->
              Mono.just(new AccessToken(token, OffsetDateTime.now(ZoneOffset.UTC).plusHours(1)));
      HttpClient http =
          new JdkHttpClientBuilder(java.net.http.HttpClient.newBuilder().sslContext(trust(cert)))
              .build();
      CryptographyClient crypto =
          new CryptographyClientBuilder()
              .keyIdentifier(key)
              .credential(credential)
              .httpClient(http)
              .disableChallengeResourceVerification()
              .buildClient();
      WrapResult wrapped = crypto.wrapKey(KeyWrapAlgorithm.RSA_OAEP_256, SECRET);
      assertThat(wrapped.getEncryptedKey()).isNotEqualTo(SECRET);
      UnwrapResult unwrapped =
          crypto.unwrapKey(KeyWrapAlgorithm.RSA_OAEP_256, wrapped.getEncryptedKey());
      assertThat(unwrapped.getKey()).isEqualTo(SECRET);

      // not checked: that the port is closed at once. The JDK's HttpServer.stop closes its
      // listening channel, but the socket may stay open until its selector runs again.
      assertThat(serve.interrupt()).isEqualTo(ExitCodes.INTERRUPTED);
    }
    assertThat(cert).as("a --cert file is the user's: kept").isRegularFile();
  }

  @Test
  void azureServeDeletesItsTemporaryCertificateWhenItStops() throws Exception {
    Path cert;
    try (LiveCli serve = LiveCli.start("kms", "serve", "--protocol", "azure", "--port", "0")) {
      cert = Path.of(serve.awaitOut("^certificate: (\\S+) \\(PEM").group(1));
      assertThat(Files.readString(cert)).startsWith("-----BEGIN CERTIFICATE-----");
      assertThat(serve.interrupt()).isEqualTo(ExitCodes.INTERRUPTED);
    }
    assertThat(cert).doesNotExist();
  }

  @Test
  void refusesAnUnknownProtocolAndStateForForeignProtocols(@TempDir Path dir) throws Exception {
    Cli.Result unknown = new Cli().run("kms", "serve", "--protocol", "ibm", "--port", "0");
    assertThat(unknown.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(unknown.stderr()).contains("--protocol must be aws, gcp or azure, was ibm");

    Cli.Result state =
        new Cli()
            .run(
                "kms",
                "serve",
                "--protocol",
                "gcp",
                "--port",
                "0",
                "--state",
                dir.resolve("s.json").toString());
    assertThat(state.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(state.stderr()).contains("--protocol gcp keeps no state");

    Path existing = Files.writeString(dir.resolve("taken.pem"), "mine");
    Cli.Result taken =
        new Cli()
            .run(
                "kms",
                "serve",
                "--protocol",
                "azure",
                "--port",
                "0",
                "--cert",
                existing.toString());
    assertThat(taken.exitCode()).isEqualTo(ExitCodes.IO);
    assertThat(taken.stderr()).contains("exists; give a new file");
    assertThat(Files.readString(existing)).isEqualTo("mine");
  }

  /** Nothing listens on {@code port} of 127.0.0.1 any more: the server stopped with the command. */
  private static void assertClosed(int port) {
    assertThatThrownBy(
            () -> {
              try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                s.getPort();
              }
            })
        .isInstanceOf(ConnectException.class);
  }

  /** An SSL context trusting only the PEM certificate in {@code pem}. */
  private static SSLContext trust(Path pem) throws Exception {
    X509Certificate c;
    try (InputStream in = Files.newInputStream(pem)) {
      c = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    ks.setCertificateEntry("byok-kms-serve", c);
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }
}
