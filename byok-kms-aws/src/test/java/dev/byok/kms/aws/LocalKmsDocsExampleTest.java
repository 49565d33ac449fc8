package dev.byok.kms.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.Byok;
import dev.byok.EncryptionContext;
import dev.byok.KeyUnusableException;
import dev.byok.testkit.FakeKms;
import dev.byok.testkit.LocalKmsServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/** The sample in docs/aws-kms.md, "Against a local KMS in your own tests"; keep the two in step. */
class LocalKmsDocsExampleTest {
  @Test
  void hostTestsItsAwsSetupAgainstALocalKms() throws Exception {
    // --- docs sample begins
    FakeKms kms = FakeKms.create();
    try (LocalKmsServer server = LocalKmsServer.start(kms);              // 127.0.0.1, a free port
        AwsKmsProvider aws = AwsKmsProvider.builder()
            .endpoint(server.endpoint())
            .region("us-east-1")
            .credentials(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
            .build();
        Byok byok = Byok.builder()
            .provider(aws)
            .encryptUnder("aws-kms://alias/snapshots")
            .allowDecryptWith("arn:aws:kms:us-east-1:111122223333:key/*")
            .build()) {
      String arn = kms.api().createKey().arn();                         // set up keys like an admin would
      kms.api().createAlias("alias/snapshots", arn);
      EncryptionContext ctx = EncryptionContext.of("repository", "r1");

      ByteArrayOutputStream blob = new ByteArrayOutputStream();
      try (OutputStream out = byok.newEncryptingStream(blob, ctx)) {
        out.write("hello".getBytes(StandardCharsets.UTF_8));
      }
      assertThat(Byok.inspect(new ByteArrayInputStream(blob.toByteArray())).keySlots().get(0).keyArn())
          .isEqualTo(arn);                                              // the slot records the ARN, not the alias

      byok.keys().invalidate(arn);                                      // forget the cached data key
      kms.api().disableKey(arn);                                        // the customer disables the key
      assertThatThrownBy(() -> {
        try (InputStream in = byok.newDecryptingStream(new ByteArrayInputStream(blob.toByteArray()), ctx)) {
          in.readAllBytes();
        }
      }).isInstanceOfSatisfying(KeyUnusableException.class,
          e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.DISABLED));
      assertThat(kms.api().calls("Decrypt", "DisabledException")).isEqualTo(1); // it went over the wire
    }
    // --- docs sample ends
  }
}
