package dev.byok.kms.local.gcp;

import com.google.cloud.kms.v1.CryptoKey;
import com.google.cloud.kms.v1.CryptoKeyVersion;
import com.google.cloud.kms.v1.DecryptRequest;
import com.google.cloud.kms.v1.DecryptResponse;
import com.google.cloud.kms.v1.EncryptRequest;
import com.google.cloud.kms.v1.EncryptResponse;
import com.google.cloud.kms.v1.GetCryptoKeyRequest;
import com.google.cloud.kms.v1.GetCryptoKeyVersionRequest;
import com.google.cloud.kms.v1.ProtectionLevel;
import com.google.protobuf.ByteString;
import com.google.protobuf.Int64Value;
import com.google.protobuf.Message;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import java.util.function.Function;
import java.util.zip.CRC32C;

/**
 * The {@code google.cloud.kms.v1.KeyManagementService} methods a byok provider uses ({@code
 * Encrypt}, {@code Decrypt}, {@code GetCryptoKey}, {@code GetCryptoKeyVersion}) over {@link
 * GcpKms}; every other method answers {@code UNIMPLEMENTED}. Built from the message types alone (no
 * generated service stub), so only {@code proto-google-cloud-kms-v1} is needed.
 *
 * <p>Request checks follow Cloud KMS: a malformed name, a missing or too large field, or a CRC32C
 * field that does not match its data is {@code INVALID_ARGUMENT}; Encrypt reports which checksums
 * it verified and returns {@code ciphertext_crc32c}; Decrypt returns {@code plaintext_crc32c}.
 */
final class GcpKmsService {
  static final String SERVICE = "google.cloud.kms.v1.KeyManagementService";

  private GcpKmsService() {}

  static ServerServiceDefinition definition(GcpKms kms) {
    ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(SERVICE);
    add(
        b,
        kms,
        "Encrypt",
        EncryptRequest.getDefaultInstance(),
        EncryptResponse.getDefaultInstance(),
        r -> encrypt(kms, r));
    add(
        b,
        kms,
        "Decrypt",
        DecryptRequest.getDefaultInstance(),
        DecryptResponse.getDefaultInstance(),
        r -> decrypt(kms, r));
    add(
        b,
        kms,
        "GetCryptoKey",
        GetCryptoKeyRequest.getDefaultInstance(),
        CryptoKey.getDefaultInstance(),
        r -> kms.getCryptoKey(required(r.getName(), "name")));
    add(
        b,
        kms,
        "GetCryptoKeyVersion",
        GetCryptoKeyVersionRequest.getDefaultInstance(),
        CryptoKeyVersion.getDefaultInstance(),
        r -> kms.getCryptoKeyVersion(required(r.getName(), "name")));
    return b.build();
  }

  private static <Q extends Message, R extends Message> void add(
      ServerServiceDefinition.Builder b,
      GcpKms kms,
      String method,
      Q request,
      R response,
      Function<Q, R> body) {
    MethodDescriptor<Q, R> d =
        MethodDescriptor.<Q, R>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, method))
            .setRequestMarshaller(ProtoUtils.marshaller(request))
            .setResponseMarshaller(ProtoUtils.marshaller(response))
            .build();
    b.addMethod(
        d,
        ServerCalls.asyncUnaryCall(
            (req, out) -> {
              R answer;
              try {
                kms.arrive(method);
                answer = body.apply(req);
              } catch (StatusRuntimeException e) {
                out.onError(e);
                return;
              }
              out.onNext(answer);
              out.onCompleted();
            }));
  }

  private static EncryptResponse encrypt(GcpKms kms, EncryptRequest r) {
    String name = required(r.getName(), "name");
    ByteString plaintext = r.getPlaintext();
    ByteString aad = r.getAdditionalAuthenticatedData();
    if (plaintext.isEmpty()) {
      throw GcpKms.invalid("The field plaintext must not be empty.");
    }
    limit(plaintext, "plaintext");
    limit(aad, "additional_authenticated_data");
    boolean plaintextChecked =
        checksum(r.hasPlaintextCrc32C(), r.getPlaintextCrc32C(), plaintext, "plaintext");
    boolean aadChecked =
        checksum(
            r.hasAdditionalAuthenticatedDataCrc32C(),
            r.getAdditionalAuthenticatedDataCrc32C(),
            aad,
            "additional_authenticated_data");
    GcpKms.Encrypted e = kms.encrypt(name, plaintext.toByteArray(), aad.toByteArray());
    byte[] ciphertext = e.ciphertext();
    long crc = crc32c(ByteString.copyFrom(ciphertext));
    if (kms.takeCorruption(GcpKms.Corruption.ENCRYPT_CIPHERTEXT)) {
      ciphertext[ciphertext.length - 1] ^= 1;
    }
    return EncryptResponse.newBuilder()
        .setName(e.versionName())
        .setCiphertext(ByteString.copyFrom(ciphertext))
        .setCiphertextCrc32C(Int64Value.of(crc))
        .setVerifiedPlaintextCrc32C(
            plaintextChecked
                && !kms.takeCorruption(GcpKms.Corruption.ENCRYPT_PLAINTEXT_NOT_VERIFIED))
        .setVerifiedAdditionalAuthenticatedDataCrc32C(
            aadChecked && !kms.takeCorruption(GcpKms.Corruption.ENCRYPT_AAD_NOT_VERIFIED))
        .setProtectionLevel(ProtectionLevel.SOFTWARE)
        .build();
  }

  private static DecryptResponse decrypt(GcpKms kms, DecryptRequest r) {
    String name = required(r.getName(), "name");
    ByteString ciphertext = r.getCiphertext();
    ByteString aad = r.getAdditionalAuthenticatedData();
    if (ciphertext.isEmpty()) {
      throw GcpKms.invalid("The field ciphertext must not be empty.");
    }
    if (ciphertext.size() > GcpKms.MAX_PLAINTEXT + 1024) {
      throw GcpKms.invalid("The field ciphertext is too large.");
    }
    limit(aad, "additional_authenticated_data");
    checksum(r.hasCiphertextCrc32C(), r.getCiphertextCrc32C(), ciphertext, "ciphertext");
    checksum(
        r.hasAdditionalAuthenticatedDataCrc32C(),
        r.getAdditionalAuthenticatedDataCrc32C(),
        aad,
        "additional_authenticated_data");
    GcpKms.Decrypted d = kms.decrypt(name, ciphertext.toByteArray(), aad.toByteArray());
    byte[] plaintext = d.plaintext();
    long crc = crc32c(ByteString.copyFrom(plaintext));
    if (kms.takeCorruption(GcpKms.Corruption.DECRYPT_PLAINTEXT)) {
      plaintext[0] ^= 1;
    }
    return DecryptResponse.newBuilder()
        .setPlaintext(ByteString.copyFrom(plaintext))
        .setPlaintextCrc32C(Int64Value.of(crc))
        .setUsedPrimary(d.usedPrimary())
        .setProtectionLevel(ProtectionLevel.SOFTWARE)
        .build();
  }

  private static String required(String value, String field) {
    if (value.isEmpty()) {
      throw GcpKms.invalid("The field " + field + " is required.");
    }
    return value;
  }

  private static void limit(ByteString data, String field) {
    if (data.size() > GcpKms.MAX_PLAINTEXT) {
      throw GcpKms.invalid(
          "The field " + field + " is " + data.size() + " bytes; at most 65536 are allowed.");
    }
  }

  /** Checks an optional CRC32C field; {@return whether one was sent (and matched)} */
  private static boolean checksum(boolean present, Int64Value sent, ByteString data, String field) {
    if (!present) {
      return false;
    }
    if (sent.getValue() != crc32c(data)) {
      throw GcpKms.invalid(
          "The checksum in field "
              + field
              + "_crc32c did not match the data in field "
              + field
              + ".");
    }
    return true;
  }

  static long crc32c(ByteString data) {
    CRC32C c = new CRC32C();
    c.update(data.asReadOnlyByteBuffer());
    return c.getValue();
  }
}
