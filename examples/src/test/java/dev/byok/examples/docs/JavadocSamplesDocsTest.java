package dev.byok.examples.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.byok.Byok;
import dev.byok.DataKey;
import dev.byok.DataKeyResolver;
import dev.byok.EncryptionContext;
import dev.byok.EnvelopeDecryptor;
import dev.byok.EnvelopeEncryptor;
import dev.byok.KeySlot;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.kms.local.InMemoryKms;
import dev.byok.kms.local.LocalKmsServer;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyProvider;
import dev.byok.testkit.FakeKms;
import dev.byok.testkit.FakeKmsExtension;
import dev.byok.testkit.ManualClock;
import dev.byok.testkit.TamperSuite;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * The {@code <pre>{@code ...}</pre>} samples in the javadoc of byok-core, byok-kms-local and
 * byok-testkit, compiled and run; {@link DocsTest} keeps each one in step with its region here.
 */
class JavadocSamplesDocsTest {
  private static final byte[] DATA =
      "a blob of bytes".repeat(10_000).getBytes(StandardCharsets.UTF_8);

  /** {@link Byok}'s class javadoc. */
  static byte[] byok(KeyProvider kms, Path blob, EncryptionContext context, byte[] data)
      throws IOException {
    // docs:begin javadoc-byok
    Byok byok = Byok.builder().provider(kms).encryptUnder("aws-kms://alias/snapshots").build();
    try (OutputStream out = byok.newEncryptingStream(Files.newOutputStream(blob), context)) {
      out.write(data);
    }
    byte[] back;
    try (InputStream in = byok.newDecryptingStream(Files.newInputStream(blob))) {
      back = in.readAllBytes();
    }
    // docs:end javadoc-byok
    byok.close();
    return back;
  }

  @Test
  void byokEncryptsUnderTheAliasAndDecrypts(@TempDir Path dir) throws IOException {
    FakeKms kms = FakeKms.builder().providerId("aws-kms").build();
    String arn = kms.api().createKey().arn();
    kms.api().createAlias("alias/snapshots", arn);
    Path blob = dir.resolve("blob");
    EncryptionContext context = EncryptionContext.of("repository", "snapshots");

    assertThat(byok(kms, blob, context, DATA)).isEqualTo(DATA);
    try (InputStream in = Files.newInputStream(blob)) {
      assertThat(Byok.inspect(in).keySlots())
          .singleElement()
          .satisfies(
              slot -> {
                assertThat(slot.providerId()).isEqualTo("aws-kms");
                assertThat(slot.keyArn()).isEqualTo(arn);
              });
    }
  }

  /** {@link EnvelopeEncryptor}'s class javadoc. */
  static EnvelopeEncryptor envelopeEncryptor(
      DataKey dataKey, String keyArn, byte[] wrappedKey, Path path, byte[] data)
      throws IOException {
    // docs:begin javadoc-envelope-encryptor
    EnvelopeEncryptor enc = EnvelopeEncryptor.builder()
        .dataKey(dataKey)
        .keySlot(KeySlot.of("aws-kms", keyArn, wrappedKey))
        .encryptionContext(EncryptionContext.of("repository", "snapshots"))
        .build();
    try (OutputStream out = enc.newEncryptingStream(Files.newOutputStream(path))) {
      out.write(data);
    }
    // docs:end javadoc-envelope-encryptor
    return enc;
  }

  @Test
  void envelopeEncryptorWritesAnEnvelopeTheDataKeyOpens(@TempDir Path dir) throws IOException {
    DataKey dataKey = DataKey.generate();
    String keyArn = "arn:aws:kms:eu-west-1:111122223333:key/k1";
    Path path = dir.resolve("blob");

    EnvelopeEncryptor enc = envelopeEncryptor(dataKey, keyArn, new byte[] {1, 2, 3}, path, DATA);

    assertThat(Files.size(path)).isEqualTo(enc.ciphertextLength(DATA.length));
    assertThat(enc.header().keySlots())
        .singleElement()
        .satisfies(slot -> assertThat(slot.keyArn()).isEqualTo(keyArn));
    EnvelopeDecryptor decryptor = EnvelopeDecryptor.create(DataKeyResolver.of(dataKey));
    try (InputStream in =
        decryptor.newDecryptingStream(
            Files.newInputStream(path), EncryptionContext.of("repository", "snapshots"))) {
      assertThat(in.readAllBytes()).isEqualTo(DATA);
    }
  }

  @Test
  void fakeKmsDisablesAKeyAsItsJavadocSays() {
    // docs:begin javadoc-fake-kms
    ManualClock clock = new ManualClock();
    FakeKms kms = FakeKms.builder().clock(clock).build();
    String arn = kms.api().createKey().arn();
    kms.api().createAlias("alias/app", arn);
    GeneratedDataKey dek = kms.generateDataKey("alias/app", EncryptionContext.of("tenant", "t1"));
    kms.api().disableKey(arn);   // now decrypt(arn, ...) throws KeyUnusableException(DISABLED)
    // docs:end javadoc-fake-kms

    assertThat(dek.keyArn()).isEqualTo(arn);
    assertThatThrownBy(
            () ->
                kms.decrypt(arn, dek.wrapped().ciphertext(), EncryptionContext.of("tenant", "t1")))
        .isInstanceOfSatisfying(
            KeyUnusableException.class,
            e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.DISABLED));
  }

  /** {@link FakeKmsExtension}'s class javadoc, as the test class a host writes. */
  @Nested
  class FakeKmsExtensionSample {
    // docs:begin javadoc-fake-kms-extension
    @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();

    @Test void survivesThrottling() {
      String arn = fake.api().createKey().arn();
      byte[] wrapped = fake.kms().generateDataKey(arn, EncryptionContext.empty()).wrapped().ciphertext();
      fake.api().failNext("Decrypt", "ThrottlingException");
      assertThrows(KmsUnavailableException.class, () -> fake.kms().decrypt(arn, wrapped, EncryptionContext.empty()));
      assertEquals(32, fake.kms().decrypt(arn, wrapped, EncryptionContext.empty()).length);   // the retry
    }
    // docs:end javadoc-fake-kms-extension
  }

  @Test
  void inMemoryKmsEncryptsUnderAKey() {
    byte[] plaintext = {1, 2, 3};
    // docs:begin javadoc-in-memory-kms
    InMemoryKms kms = InMemoryKms.builder().region("eu-west-1").build();
    String arn = kms.createKey("snapshots").arn();
    byte[] blob = kms.encrypt(arn, plaintext, Map.of("tenant", "t1")).ciphertextBlob();
    // docs:end javadoc-in-memory-kms

    assertThat(arn).startsWith("arn:aws:kms:eu-west-1:111122223333:key/");
    assertThat(kms.decrypt(blob, Map.of("tenant", "t1"), arn).plaintext()).containsExactly(1, 2, 3);
  }

  @Test
  void localKmsServerServesAnSdkClient() {
    // docs:begin javadoc-local-kms-server
    InMemoryKms kms = InMemoryKms.create();
    try (LocalKmsServer server = LocalKmsServer.start(kms)) {
      KmsClient client = KmsClient.builder()
          .endpointOverride(server.endpoint())
          .region(Region.US_EAST_1)
          .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
          .build();
      String arn = client.createKey(r -> r.description("app")).keyMetadata().arn();   // a key in kms
    }
    // docs:end javadoc-local-kms-server

    assertThat(kms.callLog())
        .singleElement()
        .satisfies(
            call -> {
              assertThat(call.operation()).isEqualTo("CreateKey");
              assertThat(call.succeeded()).isTrue();
            });
  }

  /** {@link TamperSuite}'s class javadoc. */
  static void tamperSuite(
      byte[] envelope, byte[] plaintext, byte[] otherBlobSameKey, EnvelopeDecryptor decryptor) {
    // docs:begin javadoc-tamper-suite
    // envelope: a valid envelope of plaintext, several segments long
    // otherBlobSameKey: another envelope under the same data key
    TamperSuite.run(envelope, plaintext, otherBlobSameKey, TamperSuite.streaming(decryptor))
        .assertClean();
    // docs:end javadoc-tamper-suite
  }

  @Test
  void tamperSuiteFindsByoksStreamsClean() throws IOException {
    DataKey key = DataKey.generate();
    EnvelopeEncryptor encryptor =
        EnvelopeEncryptor.builder()
            .dataKey(key)
            .keySlot(
                KeySlot.of("test", "arn:aws:kms:eu-west-1:111122223333:key/k1", new byte[] {1}))
            .segmentSize(4096)
            .build();
    byte[] plaintext = new byte[2 * 4096 + 100];
    tamperSuite(
        TamperSuiteDocsTest.encrypt(encryptor, plaintext),
        plaintext,
        TamperSuiteDocsTest.encrypt(encryptor, plaintext),
        EnvelopeDecryptor.create(DataKeyResolver.of(key)));
  }
}
