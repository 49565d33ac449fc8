package dev.byok.kms.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.Byok;
import dev.byok.ByokException;
import dev.byok.EncryptionContext;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.kms.local.LocalKmsException;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyProvider;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * FakeKms and AwsKmsProvider -> LocalKmsServer side by side on one fake: every error code the fake
 * can raise, on every call byok makes, ends the same way through both; and blobs written through
 * one provider are read through the other.
 */
class ProvidersAgreeTest {
  private static final EncryptionContext CTX = EncryptionContext.of("tenant", "acme");

  private final LocalKms world = new LocalKms(AwsKmsProvider.PROVIDER_ID);

  @AfterEach
  void tearDown() {
    world.close();
  }

  @Test
  void everyFakeErrorCodeOnEveryOperationEndsTheSameWayThroughBothProviders() {
    String arn = world.newKey();
    String other = world.newKey();
    GeneratedDataKey dek = world.kms.generateDataKey(arn, CTX);
    byte[] wrapped = dek.wrapped().ciphertext();
    Map<String, Function<KeyProvider, Object>> calls = new LinkedHashMap<>();
    calls.put("GenerateDataKey", p -> p.generateDataKey(arn, CTX));
    calls.put("Encrypt", p -> p.encrypt(other, dek.copyPlaintextKey(), CTX));
    calls.put("Decrypt", p -> p.decrypt(arn, wrapped, CTX));
    calls.put("ReEncrypt", p -> p.reEncrypt(arn, wrapped, other, CTX));
    calls.put("DescribeKey", p -> p.describeKey(arn));
    calls.put("GetKeyRotationStatus", p -> p.rotationStatus(arn));

    Map<String, String> viaFake = new LinkedHashMap<>();
    Map<String, String> viaAws = new LinkedHashMap<>();
    for (String code : LocalKmsException.errorCodes()) {
      calls.forEach(
          (operation, call) -> {
            String row = operation + " " + code;
            viaFake.put(row, outcome(world.kms, operation, code, 1, call));
            viaAws.put(row, outcome(world.provider, operation, code, LocalKms.MAX_ATTEMPTS, call));
          });
    }
    assertThat(viaAws).containsExactlyEntriesOf(viaFake);
    assertThat(viaFake)
        .containsEntry("Decrypt ThrottlingException", "KmsUnavailableException throttled")
        .containsEntry("Decrypt KMSInvalidStateException", "KeyUnusableException UNAVAILABLE")
        .containsEntry(
            "ReEncrypt InvalidCiphertextException",
            "InvalidCiphertextException WRAPPED_KEY_REJECTED")
        .containsEntry("DescribeKey IncorrectKeyException", "ByokConfigurationException");
  }

  @Test
  void blobsWrittenThroughOneProviderAreReadThroughTheOther() throws IOException {
    world.api().createAlias("alias/app", world.newKey());
    try (Byok viaFake = LocalKms.byok(world.kms, "alias/app");
        Byok viaAws = LocalKms.byok(world.provider, "alias/app")) {
      byte[] fromFake = LocalKms.encrypt(viaFake, "written through FakeKms", CTX);
      byte[] fromAws = LocalKms.encrypt(viaAws, "written through AWS", CTX);
      assertThat(LocalKms.decrypt(viaAws, fromFake, CTX)).isEqualTo("written through FakeKms");
      assertThat(LocalKms.decrypt(viaFake, fromAws, CTX)).isEqualTo("written through AWS");
    }
  }

  private String outcome(
      KeyProvider provider,
      String operation,
      String code,
      int attempts,
      Function<KeyProvider, Object> call) {
    for (int i = 0; i < attempts; i++) {
      world.api().failNext(operation, code);
    }
    try {
      Object unused = call.apply(provider); // only whether it throws matters
      return "OK";
    } catch (ByokException e) {
      String detail = "";
      if (e instanceof KeyUnusableException) {
        detail = " " + ((KeyUnusableException) e).reason();
      } else if (e instanceof InvalidCiphertextException) {
        detail = " " + ((InvalidCiphertextException) e).reason();
      } else if (e instanceof KmsUnavailableException
          && ((KmsUnavailableException) e).throttled()) {
        detail = " throttled";
      }
      return e.getClass().getSimpleName() + detail;
    } finally {
      world.api().clearFaults(); // what the SDK did not retry
    }
  }
}
