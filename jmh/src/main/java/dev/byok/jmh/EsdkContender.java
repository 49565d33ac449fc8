package dev.byok.jmh;

import com.amazonaws.encryptionsdk.AwsCrypto;
import com.amazonaws.encryptionsdk.CommitmentPolicy;
import com.amazonaws.encryptionsdk.CryptoAlgorithm;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Map;
import software.amazon.cryptography.materialproviders.IKeyring;
import software.amazon.cryptography.materialproviders.MaterialProviders;
import software.amazon.cryptography.materialproviders.model.AesWrappingAlg;
import software.amazon.cryptography.materialproviders.model.CreateRawAesKeyringInput;
import software.amazon.cryptography.materialproviders.model.MaterialProvidersConfig;

/**
 * The AWS Encryption SDK 3.x streaming API with a raw AES keyring from the Material Providers
 * library (no KMS call). Suite {@code ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY}: key commitment like
 * byok, no ECDSA signature (the default suite signs, which byok does not). Frame size = the segment
 * size, so a frame holds slightly more plaintext than a byok segment (16 bytes).
 */
final class EsdkContender implements Contender {
  private static final Map<String, String> CONTEXT = Map.of("repository", "bench");

  private final AwsCrypto crypto;
  private final IKeyring keyring;
  private final byte[] buffer = new byte[CHUNK];

  EsdkContender(int segmentSize) {
    byte[] wrappingKey = new byte[32];
    new SecureRandom().nextBytes(wrappingKey);
    this.keyring = rawAesKeyring(wrappingKey);
    this.crypto = crypto(segmentSize);
  }

  /**
   * The SDK client every ESDK contender uses: commit-key suite without signature, required
   * commitment.
   */
  static AwsCrypto crypto(int frameSize) {
    return AwsCrypto.builder()
        .withCommitmentPolicy(CommitmentPolicy.RequireEncryptRequireDecrypt)
        .withEncryptionAlgorithm(CryptoAlgorithm.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY)
        .withEncryptionFrameSize(frameSize)
        .build();
  }

  /**
   * A Material Providers raw AES keyring: AES-256-GCM wrapping under {@code wrappingKey}, no KMS.
   */
  static IKeyring rawAesKeyring(byte[] wrappingKey) {
    MaterialProviders mpl =
        MaterialProviders.builder()
            .MaterialProvidersConfig(MaterialProvidersConfig.builder().build())
            .build();
    return mpl.CreateRawAesKeyring(
        CreateRawAesKeyringInput.builder()
            .keyNamespace("bench")
            .keyName("aes-256")
            .wrappingKey(ByteBuffer.wrap(wrappingKey))
            .wrappingAlg(AesWrappingAlg.ALG_AES256_GCM_IV12_TAG16)
            .build());
  }

  @Override
  public void encrypt(byte[] plaintext, OutputStream sink) throws IOException {
    try (OutputStream out = crypto.createEncryptingStream(keyring, sink, CONTEXT)) {
      Contender.writeChunked(plaintext, out);
    }
  }

  @Override
  public void decrypt(byte[] ciphertext, OutputStream sink) throws IOException {
    try (InputStream in =
        crypto.createUnsignedMessageDecryptingStream(
            keyring, new ByteArrayInputStream(ciphertext))) {
      Contender.drain(in, buffer, sink);
    }
  }
}
