package dev.byok.kms.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.grpc.InstantiatingGrpcChannelProvider;
import com.google.cloud.kms.v1.KeyManagementServiceSettings;
import dev.byok.EncryptionContext;
import dev.byok.kms.local.gcp.GcpKms;
import dev.byok.kms.local.gcp.GcpTestServer;
import dev.byok.spi.GeneratedDataKey;
import io.grpc.ManagedChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/**
 * The test server on a loopback TCP port (what {@code byok kms serve --protocol gcp} needs),
 * reached by the client's default channel provider over plaintext gRPC, as a program in another
 * process would.
 */
class GcpTestServerTcpTest {
  @Test
  void theClientReachesTheServerOverLoopbackTcp() throws Exception {
    GcpKms kms = new GcpKms();
    String ring = kms.createKeyRing("byok-test", "global", "tcp");
    String key = kms.createCryptoKey(ring, "k");
    try (GcpTestServer server =
        GcpTestServer.start(
            kms,
            NettyServerBuilder.forAddress(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)))) {
      assertThat(server.port()).isPositive();
      assertThatThrownBy(server::newChannel).isInstanceOf(IllegalStateException.class);
      KeyManagementServiceSettings settings =
          KeyManagementServiceSettings.newBuilder()
              .setEndpoint("127.0.0.1:" + server.port())
              .setCredentialsProvider(NoCredentialsProvider.create())
              .setTransportChannelProvider(
                  InstantiatingGrpcChannelProvider.newBuilder()
                      .setEndpoint("127.0.0.1:" + server.port())
                      .setChannelConfigurator(ManagedChannelBuilder::usePlaintext)
                      .build())
              .build();
      try (GcpKmsProvider p = GcpKmsProvider.builder().settings(settings).build()) {
        EncryptionContext ctx = EncryptionContext.of("over", "tcp");
        GeneratedDataKey dk = p.generateDataKey(key, ctx);
        assertThat(dk.keyArn()).isEqualTo(key + "/cryptoKeyVersions/1");
        assertThat(p.decrypt(dk.keyArn(), dk.wrapped().ciphertext(), ctx))
            .isEqualTo(dk.copyPlaintextKey());
      }
    }
  }
}
