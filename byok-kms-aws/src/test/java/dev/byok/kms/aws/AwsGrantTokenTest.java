package dev.byok.kms.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.ByokConfigurationException;
import dev.byok.EncryptionContext;
import dev.byok.KeyUnusableException;
import dev.byok.kms.local.InMemoryKms;
import dev.byok.kms.local.LocalKmsServer;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyState;
import dev.byok.testkit.FakeKms;
import dev.byok.testkit.ManualClock;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * Grant tokens over the real SDK and LocalKmsServer: the customer's key policy does not allow the
 * storage host; the customer grants the host access, and the grant is not yet consistent (KMS
 * eventual consistency of five minutes on the fake's clock). Only calls carrying the grant token
 * succeed until then.
 */
class AwsGrantTokenTest {
  private static final String HOST_ROLE = "arn:aws:iam::111122223333:role/storage-host";
  private static final String ADMIN = "arn:aws:iam::111122223333:role/key-admin";
  private static final EncryptionContext CTX = EncryptionContext.of("tenant", "acme");

  private final ManualClock clock = new ManualClock();
  private final InMemoryKms kms = FakeKms.builder().clock(clock).build().api();
  private final LocalKmsServer server =
      LocalKmsServer.builder().kms(kms).principal("AKIDHOST", HOST_ROLE).start();
  private final KmsClient hostClient =
      KmsClient.builder()
          .endpointOverride(server.endpoint())
          .region(Region.US_EAST_1)
          .credentialsProvider(
              StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDHOST", "x")))
          .httpClient(software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.create())
          .overrideConfiguration(LocalKms.fastRetries())
          .build();
  private final String key = kms.createKey().arn();
  private final InMemoryKms.Grant grant;

  AwsGrantTokenTest() {
    // only the key admin is allowed by the key policy; the host gets access through a grant
    InMemoryKms admin = kms.asCaller(ADMIN);
    admin.putKeyPolicy(
        key,
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\""
            + ADMIN
            + "\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}",
        false);
    kms.eventualConsistency(Duration.ofMinutes(5));
    grant =
        admin.createGrant(
            key, HOST_ROLE, Set.of("GenerateDataKey", "Encrypt", "Decrypt", "DescribeKey"));
  }

  @AfterEach
  void tearDown() {
    hostClient.close();
    server.close();
  }

  private AwsKmsProvider host(String... tokens) {
    AwsKmsProvider.Builder b = AwsKmsProvider.builder().client(hostClient);
    for (String t : tokens) {
      b.grantToken(t);
    }
    return b.build();
  }

  @Test
  void beforeTheGrantIsConsistentOnlyCallsWithItsTokenSucceed() {
    AwsKmsProvider without = host();
    AwsKmsProvider with = host(grant.grantToken());

    assertThatThrownBy(() -> without.generateDataKey(key, CTX))
        .isInstanceOfSatisfying(
            KeyUnusableException.class,
            e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.ACCESS_DENIED));

    GeneratedDataKey dek = with.generateDataKey(key, CTX);
    assertThat(with.decrypt(key, dek.wrapped().ciphertext(), CTX))
        .isEqualTo(dek.copyPlaintextKey());
    assertThat(with.encrypt(key, dek.copyPlaintextKey(), CTX).keyArn()).isEqualTo(key);
    assertThat(with.describeKey(key).state()).isEqualTo(KeyState.ENABLED);
    assertThatThrownBy(() -> without.decrypt(key, dek.wrapped().ciphertext(), CTX))
        .isInstanceOf(KeyUnusableException.class);

    clock.advance(Duration.ofMinutes(5)); // the grant is consistent now: no token needed
    assertThat(without.decrypt(key, dek.wrapped().ciphertext(), CTX))
        .isEqualTo(dek.copyPlaintextKey());
  }

  @Test
  void aGrantAllowsOnlyItsOperations() {
    AwsKmsProvider with = host(grant.grantToken());
    assertThatThrownBy(() -> with.rotationStatus(key)) // GetKeyRotationStatus is not granted
        .isInstanceOf(KeyUnusableException.class);
  }

  @Test
  void aRevokedGrantsTokenIsRefusedAsAConfigurationError() {
    AwsKmsProvider with = host(grant.grantToken());
    kms.asCaller(ADMIN).revokeGrant(key, grant.grantId());
    assertThatThrownBy(() -> with.generateDataKey(key, CTX))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining("InvalidGrantTokenException");
  }

  @Test
  void tokensAreNotShownAndAtMostTenAreAccepted() {
    assertThat(host(grant.grantToken()).toString()).doesNotContain(grant.grantToken());
    AwsKmsProvider.Builder b = AwsKmsProvider.builder();
    for (int i = 0; i < 10; i++) {
      b.grantToken("t" + i);
    }
    assertThatIllegalArgumentException().isThrownBy(() -> b.grantToken("t10"));
    assertThatIllegalArgumentException().isThrownBy(() -> AwsKmsProvider.builder().grantToken(" "));
  }
}
