package dev.byok.kms.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.StatusCode;
import com.google.cloud.kms.v1.CryptoKey;
import com.google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionState;
import com.google.cloud.kms.v1.DecryptRequest;
import com.google.cloud.kms.v1.DecryptResponse;
import com.google.cloud.kms.v1.EncryptRequest;
import com.google.cloud.kms.v1.EncryptResponse;
import com.google.cloud.kms.v1.KeyManagementServiceClient;
import com.google.protobuf.ByteString;
import com.google.protobuf.Int64Value;
import dev.byok.kms.local.gcp.GcpKms;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Cloud KMS test server's own strictness, seen through the official client: request validation,
 * the CRC32C fields as Google documents them, states and the owner's controls.
 */
class GcpTestServerTest {
  private static final ByteString DATA =
      ByteString.copyFromUtf8("0123456789abcdef0123456789abcdef");
  private static final ByteString AAD = ByteString.copyFromUtf8("context");

  private GcpKmsFixture f;
  private KeyManagementServiceClient c;
  private String key;

  @BeforeEach
  void open() {
    f = new GcpKmsFixture();
    c = f.client();
    key = f.newKey();
  }

  @AfterEach
  void close() {
    f.close();
  }

  private static void assertStatus(ThrowingCallable call, StatusCode.Code code, String message) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            ApiException.class, e -> assertThat(e.getStatusCode().getCode()).isEqualTo(code))
        .hasMessageContaining(message);
  }

  private static Int64Value crc(ByteString b) {
    return Int64Value.of(GcpKmsProvider.crc32c(b));
  }

  @Test
  void encryptVerifiesTheChecksumsItIsSentAndReturnsTheCiphertexts() {
    EncryptResponse r =
        c.encrypt(
            EncryptRequest.newBuilder()
                .setName(key)
                .setPlaintext(DATA)
                .setPlaintextCrc32C(crc(DATA))
                .setAdditionalAuthenticatedData(AAD)
                .setAdditionalAuthenticatedDataCrc32C(crc(AAD))
                .build());
    assertThat(r.getName()).isEqualTo(key + "/cryptoKeyVersions/1");
    assertThat(r.getVerifiedPlaintextCrc32C()).isTrue();
    assertThat(r.getVerifiedAdditionalAuthenticatedDataCrc32C()).isTrue();
    assertThat(r.getCiphertextCrc32C()).isEqualTo(crc(r.getCiphertext()));

    EncryptResponse unchecked =
        c.encrypt(EncryptRequest.newBuilder().setName(key).setPlaintext(DATA).build());
    assertThat(unchecked.getVerifiedPlaintextCrc32C())
        .as("nothing sent, nothing verified")
        .isFalse();
    assertThat(unchecked.getVerifiedAdditionalAuthenticatedDataCrc32C()).isFalse();

    DecryptResponse d =
        c.decrypt(
            DecryptRequest.newBuilder()
                .setName(key)
                .setCiphertext(r.getCiphertext())
                .setCiphertextCrc32C(crc(r.getCiphertext()))
                .setAdditionalAuthenticatedData(AAD)
                .build());
    assertThat(d.getPlaintext()).isEqualTo(DATA);
    assertThat(d.getPlaintextCrc32C()).isEqualTo(crc(DATA));
    assertThat(d.getUsedPrimary()).isTrue();
    f.rotate(key);
    assertThat(
            c.decrypt(
                    DecryptRequest.newBuilder()
                        .setName(key)
                        .setCiphertext(r.getCiphertext())
                        .setAdditionalAuthenticatedData(AAD)
                        .build())
                .getUsedPrimary())
        .isFalse();
  }

  @Test
  void aChecksumThatDoesNotMatchItsFieldIsInvalidArgument() {
    Int64Value wrong = Int64Value.of(GcpKmsProvider.crc32c(DATA) ^ 1);
    assertStatus(
        () ->
            c.encrypt(
                EncryptRequest.newBuilder()
                    .setName(key)
                    .setPlaintext(DATA)
                    .setPlaintextCrc32C(wrong)
                    .build()),
        StatusCode.Code.INVALID_ARGUMENT,
        "plaintext_crc32c did not match");
    assertStatus(
        () ->
            c.encrypt(
                EncryptRequest.newBuilder()
                    .setName(key)
                    .setPlaintext(DATA)
                    .setAdditionalAuthenticatedData(AAD)
                    .setAdditionalAuthenticatedDataCrc32C(wrong)
                    .build()),
        StatusCode.Code.INVALID_ARGUMENT,
        "additional_authenticated_data_crc32c did not match");
    ByteString ct =
        c.encrypt(EncryptRequest.newBuilder().setName(key).setPlaintext(DATA).build())
            .getCiphertext();
    assertStatus(
        () ->
            c.decrypt(
                DecryptRequest.newBuilder()
                    .setName(key)
                    .setCiphertext(ct)
                    .setCiphertextCrc32C(wrong)
                    .build()),
        StatusCode.Code.INVALID_ARGUMENT,
        "ciphertext_crc32c did not match");
  }

  @Test
  void malformedNamesMissingFieldsAndOversizedDataAreInvalidArgument() {
    for (String bad :
        new String[] {
          "projects/p/locations/global/keyRings/r",
          "projects/P/locations/global/keyRings/r/cryptoKeys/k",
          "projects/p/locations/global/keyRings/r!/cryptoKeys/k",
          "projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/x"
        }) {
      assertStatus(
          () -> c.encrypt(EncryptRequest.newBuilder().setName(bad).setPlaintext(DATA).build()),
          StatusCode.Code.INVALID_ARGUMENT,
          bad);
      assertStatus(() -> c.getCryptoKey(bad), StatusCode.Code.INVALID_ARGUMENT, bad);
    }
    assertStatus(
        () -> c.encrypt(EncryptRequest.newBuilder().setPlaintext(DATA).build()),
        StatusCode.Code.INVALID_ARGUMENT,
        "name is required");
    assertStatus(
        () -> c.encrypt(EncryptRequest.newBuilder().setName(key).build()),
        StatusCode.Code.INVALID_ARGUMENT,
        "plaintext must not be empty");
    assertStatus(
        () ->
            c.encrypt(
                EncryptRequest.newBuilder()
                    .setName(key)
                    .setPlaintext(ByteString.copyFrom(new byte[64 * 1024 + 1]))
                    .build()),
        StatusCode.Code.INVALID_ARGUMENT,
        "at most 65536");
    assertStatus(
        () ->
            c.decrypt(
                DecryptRequest.newBuilder()
                    .setName(key + "/cryptoKeyVersions/1")
                    .setCiphertext(DATA)
                    .build()),
        StatusCode.Code.INVALID_ARGUMENT,
        "not a CryptoKeyVersion");
    assertStatus(
        () -> c.decrypt(DecryptRequest.newBuilder().setName(key).setCiphertext(DATA).build()),
        StatusCode.Code.INVALID_ARGUMENT,
        "Decryption failed");
    assertThat(f.kms().calls("Encrypt")).isGreaterThanOrEqualTo(7);
  }

  @Test
  void unknownResourcesAreNotFoundAndUnservedMethodsUnimplemented() {
    assertStatus(
        () -> c.getCryptoKey(key.replace("key-", "other-")), StatusCode.Code.NOT_FOUND, "other-");
    assertStatus(
        () -> c.getCryptoKeyVersion(key + "/cryptoKeyVersions/2"),
        StatusCode.Code.NOT_FOUND,
        "not found");
    assertStatus(
        () -> c.listKeyRings("projects/byok-test/locations/global"),
        StatusCode.Code.UNIMPLEMENTED,
        "ListKeyRings");
  }

  @Test
  void theOwnersControlsFollowCloudKmsStateRules() {
    GcpKms kms = f.kms();
    String v1 = key + "/cryptoKeyVersions/1";
    assertThatThrownBy(
            () -> kms.createCryptoKey(key.substring(0, key.indexOf("/cryptoKeys/")), "key-1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("already exists");
    assertThatThrownBy(() -> kms.createKeyRing("byok-test", "global", "bad id"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("keyRingId 'bad id'");
    assertThatThrownBy(() -> kms.restore(v1)).isInstanceOf(IllegalStateException.class);
    kms.scheduleDestroy(v1);
    assertThatThrownBy(() -> kms.setEnabled(v1, true))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("DESTROY_SCHEDULED");
    kms.restore(v1);
    assertThat(kms.state(v1)).isEqualTo(CryptoKeyVersionState.DISABLED);
    String v2 = kms.rotate(key);
    CryptoKey k = c.getCryptoKey(key);
    assertThat(k.getPrimary().getName()).isEqualTo(v2);
    assertThatThrownBy(() -> kms.setPrimary(v1))
        .as("a disabled version cannot become primary")
        .isInstanceOf(IllegalStateException.class);
    kms.setEnabled(v1, true);
    kms.setPrimary(v1);
    assertThat(c.getCryptoKey(key).getPrimary().getName()).isEqualTo(v1);
    assertThat(kms.versions(key)).containsExactly(v1, v2);
    assertThatThrownBy(() -> kms.failNext(-1, io.grpc.Status.Code.UNAVAILABLE))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> kms.failNext(1, io.grpc.Status.Code.OK))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
