package dev.byok;

import static dev.byok.KeyLayerFixture.byok;
import static dev.byok.KeyLayerFixture.decrypt;
import static dev.byok.KeyLayerFixture.encrypt;
import static dev.byok.KeyLayerFixture.plaintext;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.RotationStatus;
import dev.byok.spi.WrappedKey;
import org.junit.jupiter.api.Test;

/** Hole 7 (key layer): a provider that breaks its contract still yields a typed byok failure. */
class RawExceptionTest {
  private final TestKms kms = new TestKms();
  private final String arn = kms.createKey();

  /** Delegates to the test KMS but throws a raw runtime exception or returns junk. */
  private final class Broken implements KeyProvider {
    @Override
    public String providerId() {
      return TestKms.ID;
    }

    @Override
    public GeneratedDataKey generateDataKey(String keyId, EncryptionContext context) {
      throw new NullPointerException("provider bug");
    }

    @Override
    public WrappedKey encrypt(String keyId, byte[] plaintextKey, EncryptionContext context) {
      return kms.encrypt(keyId, plaintextKey, context);
    }

    @Override
    public byte[] decrypt(String keyArn, byte[] wrappedKey, EncryptionContext context) {
      return new byte[7]; // a key of the wrong length
    }

    @Override
    public KeyDescription describeKey(String keyId) {
      throw new IllegalStateException("provider bug");
    }

    @Override
    public RotationStatus rotationStatus(String keyId) {
      return kms.rotationStatus(keyId);
    }
  }

  @Test
  void aProviderThrowingARawExceptionIsAClassifiedFailure() {
    Byok b = Byok.builder().provider(new Broken()).encryptUnder(KeyRef.of(TestKms.ID, arn)).build();
    assertThatThrownBy(() -> encrypt(b, plaintext(10, 1)))
        .isInstanceOf(KmsUnavailableException.class)
        .hasMessageContaining("NullPointerException")
        .hasCauseInstanceOf(NullPointerException.class);
    assertThat(b.keys().stats().kmsCalls()).containsEntry("generateDataKey/transient", 1L);
  }

  @Test
  void aProviderReturningAKeyOfTheWrongLengthIsARejectedWrappedKey() {
    byte[] blob = encrypt(byok(kms, arn).build(), plaintext(10, 1));
    Byok b = Byok.builder().provider(new Broken()).encryptUnder(KeyRef.of(TestKms.ID, arn)).build();
    assertThatThrownBy(() -> decrypt(b, blob))
        .isInstanceOfSatisfying(
            InvalidCiphertextException.class,
            e ->
                assertThat(e.reason())
                    .isEqualTo(InvalidCiphertextException.Reason.WRAPPED_KEY_REJECTED));
  }

  @Test
  void aProviderBugWhileResolvingAnAliasIsRetryableNotAWrongKey() {
    kms.alias("alias/x", arn);
    byte[] blob = encrypt(byok(kms, arn).build(), plaintext(10, 1));
    Byok b =
        Byok.builder()
            .provider(new Broken())
            .encryptUnder(KeyRef.of(TestKms.ID, "alias/x"))
            .build();
    assertThatThrownBy(() -> decrypt(b, blob)).isInstanceOf(KmsUnavailableException.class);
  }

  @Test
  void aHostPolicyThatThrowsIsAConfigurationError() {
    byte[] blob = encrypt(byok(kms, kms.createKey()).build(), plaintext(10, 1));
    Byok b =
        byok(kms, arn)
            .allowDecryptWithKeysMatching(
                k -> {
                  throw new IllegalStateException("registry down");
                })
            .build();
    assertThatThrownBy(() -> decrypt(b, blob)).isInstanceOf(ByokConfigurationException.class);
  }
}
