package dev.byok.jmh;

import dev.byok.EncryptionContext;
import dev.byok.InvalidCiphertextException;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.KeyState;
import dev.byok.spi.RotationStatus;
import dev.byok.spi.WrappedKey;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * An in-process {@link KeyProvider} that does the work of the AWS Encryption SDK's raw AES keyring
 * and nothing more: data keys are wrapped and unwrapped locally with AES-256-GCM under one fixed
 * in-memory key (random 12-byte IV, 16-byte tag, the encryption context as associated data). No
 * call log, no latency, no checks beyond the GCM tag, so byok's cache pays for the same wrapping a
 * raw AES keyring does. It counts unwraps, so a benchmark can prove its cache is warm.
 *
 * <p>Thread-safe (a fresh {@link Cipher} per call, as the ESDK's {@code JceMasterKey} does).
 */
final class LocalAesKeyProvider implements KeyProvider {
  static final String ID = "local-aes";
  static final String KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/local-aes-bench";
  private static final int IV = 12;
  private static final int TAG_BITS = 128;

  private final SecretKeySpec kek;
  private final SecureRandom random = new SecureRandom();
  private final LongAdder generated = new LongAdder();
  private final LongAdder unwrapped = new LongAdder();

  LocalAesKeyProvider() {
    byte[] k = new byte[32];
    random.nextBytes(k);
    this.kek = new SecretKeySpec(k, "AES");
    Arrays.fill(k, (byte) 0);
  }

  /**
   * @return {@code generateDataKey} calls so far
   */
  long generated() {
    return generated.sum();
  }

  /**
   * @return {@code decrypt} (unwrap) calls so far
   */
  long unwrapped() {
    return unwrapped.sum();
  }

  /**
   * Key ids that are ARNs stand for themselves (one per tenant); anything else is {@link #KEY_ARN}.
   */
  private static String arnOf(String keyId) {
    return keyId.startsWith("arn:") ? keyId : KEY_ARN;
  }

  @Override
  public String providerId() {
    return ID;
  }

  @Override
  public GeneratedDataKey generateDataKey(String keyId, EncryptionContext context) {
    generated.increment();
    byte[] dek = new byte[32];
    random.nextBytes(dek);
    try {
      return new GeneratedDataKey(dek, encrypt(keyId, dek, context));
    } finally {
      Arrays.fill(dek, (byte) 0);
    }
  }

  @Override
  public WrappedKey encrypt(String keyId, byte[] plaintextKey, EncryptionContext context) {
    byte[] iv = new byte[IV];
    random.nextBytes(iv);
    byte[] out = Arrays.copyOf(iv, IV + plaintextKey.length + TAG_BITS / 8);
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, kek, new GCMParameterSpec(TAG_BITS, out, 0, IV));
      c.updateAAD(aad(context));
      c.doFinal(plaintextKey, 0, plaintextKey.length, out, IV);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM wrap failed", e);
    }
    return new WrappedKey(arnOf(keyId), out, null);
  }

  @Override
  public byte[] decrypt(String keyArn, byte[] wrappedKey, EncryptionContext context) {
    unwrapped.increment();
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.DECRYPT_MODE, kek, new GCMParameterSpec(TAG_BITS, wrappedKey, 0, IV));
      c.updateAAD(aad(context));
      return c.doFinal(wrappedKey, IV, wrappedKey.length - IV);
    } catch (AEADBadTagException e) {
      throw new InvalidCiphertextException(
          InvalidCiphertextException.Reason.WRAPPED_KEY_REJECTED,
          "wrapped key does not authenticate",
          e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM unwrap failed", e);
    }
  }

  /**
   * The context as associated data, in its canonical (sorted) order, like the raw AES keyring's.
   */
  private static byte[] aad(EncryptionContext context) {
    ByteArrayOutputStream b = new ByteArrayOutputStream(64);
    for (Map.Entry<String, String> e : context.asMap().entrySet()) {
      b.writeBytes(e.getKey().getBytes(StandardCharsets.UTF_8));
      b.write(0);
      b.writeBytes(e.getValue().getBytes(StandardCharsets.UTF_8));
      b.write(0);
    }
    return b.toByteArray();
  }

  @Override
  public KeyDescription describeKey(String keyId) {
    return new KeyDescription(arnOf(keyId), KeyState.ENABLED, null, null);
  }

  @Override
  public RotationStatus rotationStatus(String keyId) {
    return new RotationStatus(false, null, null);
  }
}
