package dev.byok.jmh;

import com.amazonaws.encryptionsdk.AwsCrypto;
import com.amazonaws.encryptionsdk.CryptoInputStream;
import com.amazonaws.encryptionsdk.CryptoMaterialsManager;
import com.amazonaws.encryptionsdk.CryptoOutputStream;
import com.amazonaws.encryptionsdk.DefaultCryptoMaterialsManager;
import com.amazonaws.encryptionsdk.caching.CachingCryptoMaterialsManager;
import com.amazonaws.encryptionsdk.caching.LocalCryptoMaterialsCache;
import com.amazonaws.encryptionsdk.jce.JceMasterKey;
import com.amazonaws.encryptionsdk.model.DecryptionMaterials;
import com.amazonaws.encryptionsdk.model.DecryptionMaterialsRequest;
import com.amazonaws.encryptionsdk.model.EncryptionMaterials;
import com.amazonaws.encryptionsdk.model.EncryptionMaterialsRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import javax.crypto.spec.SecretKeySpec;
import software.amazon.cryptography.materialproviders.IKeyring;

/**
 * The AWS Encryption SDK 3.0.2 streaming API, suite {@code ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY}
 * (key commitment, no signature), {@code RequireEncryptRequireDecrypt}, 64 KiB frames (byok's
 * default segment size, so both make the same number of AES-GCM calls; the SDK's default is 4 KiB).
 * One of the two materials sources below is set (a raw AES keyring or a caching CMM), the other
 * null.
 *
 * <ul>
 *   <li><b>caching:</b> the SDK's caching materials manager ({@code CachingCryptoMaterialsManager}
 *       with a {@code LocalCryptoMaterialsCache}) over a raw AES-256-GCM wrapping key. In 3.x the
 *       caching CMM only takes a legacy {@code MasterKeyProvider} or {@code CryptoMaterialsManager}
 *       (Material Providers 1.7.0 has a materials cache but no caching CMM: its cache serves the
 *       hierarchical keyring, which needs KMS and DynamoDB), so the wrapping key is a {@code
 *       JceMasterKey} with {@code AES/GCM/NoPadding}: the same wrapping, and the same wire format,
 *       as the raw AES keyring. Each encrypting stream is told the plaintext length ({@code
 *       setMaxInputLength}); without it the caching CMM bypasses its cache on encryption.
 *   <li><b>keyring:</b> the raw AES keyring of Material Providers 1.7.0 with no cache: one local
 *       AES-GCM wrap or unwrap per blob (what the existing streaming benchmark uses).
 * </ul>
 */
final class EsdkBlobContender implements BlobContender {
  static final int FRAME_SIZE = 64 * 1024;
  private static final Map<String, String> CONTEXT = Map.of("repository", "bench");

  private final AwsCrypto crypto = EsdkContender.crypto(FRAME_SIZE);
  private final CountingCmm backing;
  private final CryptoMaterialsManager cmm;
  private final IKeyring keyring;

  EsdkBlobContender(boolean caching) {
    byte[] wrappingKey = new byte[32];
    new SecureRandom().nextBytes(wrappingKey);
    if (caching) {
      JceMasterKey key =
          JceMasterKey.getInstance(
              new SecretKeySpec(wrappingKey, "AES"), "bench", "aes-256", "AES/GCM/NoPadding");
      this.backing = new CountingCmm(new DefaultCryptoMaterialsManager(key));
      this.cmm =
          CachingCryptoMaterialsManager.newBuilder()
              .withBackingMaterialsManager(backing)
              .withCache(new LocalCryptoMaterialsCache(1000))
              .withMaxAge(ByokBlobContender.MAX_AGE.toSeconds(), TimeUnit.SECONDS)
              .withMessageUseLimit(ByokBlobContender.MAX_BLOBS)
              .build();
      this.keyring = null;
    } else {
      this.keyring = EsdkContender.rawAesKeyring(wrappingKey);
      this.backing = null;
      this.cmm = null;
    }
  }

  @Override
  public void encrypt(byte[] plaintext, OutputStream sink) throws IOException {
    try (CryptoOutputStream<?> out =
        cmm != null
            ? crypto.createEncryptingStream(cmm, sink, CONTEXT)
            : crypto.createEncryptingStream(keyring, sink, CONTEXT)) {
      out.setMaxInputLength(plaintext.length);
      out.write(plaintext);
    }
  }

  @Override
  public int decrypt(InputStream envelope, byte[] dst) throws IOException {
    try (CryptoInputStream<?> in =
        cmm != null
            ? crypto.createUnsignedMessageDecryptingStream(cmm, envelope)
            : crypto.createUnsignedMessageDecryptingStream(keyring, envelope)) {
      return BlobContender.readFully(in, dst);
    }
  }

  @Override
  public void checkWarm() {
    if (backing != null && (backing.encrypts.sum() != 1 || backing.decrypts.sum() != 1)) {
      throw new IllegalStateException(
          "ESDK cache is not warm: "
              + backing.encrypts.sum()
              + " encryption and "
              + backing.decrypts.sum()
              + " decryption materials from the backing CMM");
    }
  }

  /** Counts what reaches the wrapping key behind the cache. */
  private static final class CountingCmm implements CryptoMaterialsManager {
    final CryptoMaterialsManager delegate;
    final LongAdder encrypts = new LongAdder();
    final LongAdder decrypts = new LongAdder();

    CountingCmm(CryptoMaterialsManager delegate) {
      this.delegate = delegate;
    }

    @Override
    public EncryptionMaterials getMaterialsForEncrypt(EncryptionMaterialsRequest request) {
      encrypts.increment();
      return delegate.getMaterialsForEncrypt(request);
    }

    @Override
    public DecryptionMaterials decryptMaterials(DecryptionMaterialsRequest request) {
      decrypts.increment();
      return delegate.decryptMaterials(request);
    }
  }
}
