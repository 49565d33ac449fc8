package dev.byok.examples.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.EncryptionContext;
import dev.byok.kms.aws.AwsKmsProvider;
import dev.byok.kms.local.InMemoryKms;
import dev.byok.kms.local.LocalKmsServer;
import dev.byok.spi.GeneratedDataKey;
import java.net.URI;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * The multi-Region-key and grant-token samples of docs/aws-kms.md, against two {@link
 * LocalKmsServer}s (us-east-1 with the primary key, eu-west-1 with its replica).
 */
class AwsMultiRegionDocsTest {
  private static final EncryptionContext CTX = EncryptionContext.of("repository", "r1");

  static AwsKmsProvider replicaAware(String replicaArn, String grantToken) {
    // docs:begin aws-kms-mrk-replica
    AwsKmsProvider kms = AwsKmsProvider.builder()
        .region("eu-west-1")
        .multiRegionKey(replicaArn)    // e.g. arn:aws:kms:eu-west-1:111122223333:key/mrk-…: serves every Region's ARN of that key
        .grantToken(grantToken)        // from the customer's CreateGrant, until the grant is consistent
        .build();
    // docs:end aws-kms-mrk-replica
    return kms;
  }

  @Test
  void aSlotOfThePrimaryDecryptsThroughTheLocalReplicaWithTheGrantToken() {
    InMemoryKms east = InMemoryKms.builder().region("us-east-1").build();
    InMemoryKms west = InMemoryKms.builder().region("eu-west-1").build();
    String primary = east.createMultiRegionKey("orders").arn();
    String replica = east.replicateKey(primary, west).arn();
    InMemoryKms.Grant grant =
        west.createGrant(replica, "arn:aws:iam::111122223333:user/AKIDEXAMPLE", Set.of("Decrypt"));
    try (LocalKmsServer eastServer = LocalKmsServer.start(east);
        LocalKmsServer westServer = LocalKmsServer.start(west)) {
      Map<Region, URI> endpoints =
          Map.of(Region.US_EAST_1, eastServer.endpoint(), Region.EU_WEST_1, westServer.endpoint());
      GeneratedDataKey dek;
      try (AwsKmsProvider writer = provider(AwsKmsProvider.builder(), endpoints)) {
        dek = writer.generateDataKey(primary, CTX);
      }
      east.startOutage(); // us-east-1 is down
      try (AwsKmsProvider reader =
          provider(
              AwsKmsProvider.builder().multiRegionKey(replica).grantToken(grant.grantToken()),
              endpoints)) {
        assertThat(reader.decrypt(primary, dek.wrapped().ciphertext(), CTX))
            .isEqualTo(dek.copyPlaintextKey());
      }
      assertThat(westServer.requests("Decrypt")).isEqualTo(1);
    }
    try (AwsKmsProvider sample = replicaAware(replica, grant.grantToken())) {
      assertThat(sample.toString()).contains(replica).doesNotContain(grant.grantToken());
    }
  }

  private static AwsKmsProvider provider(AwsKmsProvider.Builder b, Map<Region, URI> endpoints) {
    return b.clientFactory(
            r ->
                KmsClient.builder()
                    .region(r)
                    .endpointOverride(endpoints.get(r))
                    .credentialsProvider(
                        StaticCredentialsProvider.create(
                            AwsBasicCredentials.create("AKIDEXAMPLE", "x")))
                    .httpClient(UrlConnectionHttpClient.create())
                    .build())
        .build();
  }
}
