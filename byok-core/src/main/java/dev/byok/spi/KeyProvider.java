package dev.byok.spi;

import dev.byok.ByokConfigurationException;
import dev.byok.EncryptionContext;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;

/**
 * A key management system that holds customer keys (KEKs) and wraps and unwraps data keys under
 * them. byok ships one for AWS KMS ({@code byok-kms-aws}) and a strict fake ({@code byok-testkit});
 * anyone can write another from this contract alone.
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li><b>Thread-safety:</b> implementations must be thread-safe; byok calls them concurrently.
 *   <li><b>Key ids:</b> a {@code keyId} argument is what the host configured (an alias, a key id,
 *       an ARN); a {@code keyArn} argument is a <em>resolved</em> key identifier previously
 *       returned by this provider, never an alias. Every result carries the resolved identifier of
 *       the key the KMS actually used ({@link GeneratedDataKey#keyArn()}, {@link
 *       WrappedKey#keyArn()}, {@link KeyDescription#keyArn()}).
 *   <li><b>Encryption context:</b> must be bound to every wrapped key, and must match exactly on
 *       unwrap; a mismatch is {@link InvalidCiphertextException} with reason {@code
 *       WRAPPED_KEY_REJECTED}.
 *   <li><b>Failures are classified, never raw:</b> throw only these, wrapping the vendor's
 *       exception as the cause (no vendor type may escape):
 *       <ul>
 *         <li>{@link KmsUnavailableException}: transient (throttling, 5xx, time-out, network, local
 *             credential or clock trouble) — byok serves from cache and retries later;
 *         <li>{@link KeyUnusableException}: the KMS authoritatively refuses the key (disabled,
 *             pending deletion/import, unavailable, not found, access denied), with the reason —
 *             byok purges cached keys for it and the host locks;
 *         <li>{@link InvalidCiphertextException} ({@code WRAPPED_KEY_REJECTED}): the wrapped key is
 *             corrupt or the context does not match — never retried;
 *         <li>{@link ByokConfigurationException}: the caller's request is wrong (wrong key for the
 *             ciphertext, key of the wrong usage, malformed id) — never retried.
 *       </ul>
 *   <li><b>Retries</b> belong to the provider's client (e.g. the AWS SDK's retry policy); byok adds
 *       no retry loop of its own around a provider call.
 *   <li><b>Secrets:</b> plaintext key bytes are returned in fresh arrays the caller owns and wipes;
 *       they must never appear in logs, exception messages or {@code toString}.
 * </ul>
 */
public interface KeyProvider {
  /**
   * The provider id, as used in key references ({@code <providerId>://<keyId>}) and recorded in key
   * slots: {@code [a-z0-9._-]{1,64}}, stable forever (it is stored in every blob).
   *
   * @return the id, e.g. {@code aws-kms}
   */
  String providerId();

  /**
   * Generates a 256-bit data key under a KEK (AWS: {@code GenerateDataKey} with {@code AES_256}).
   *
   * @param keyId the KEK as configured (alias, key id or ARN)
   * @param context bound to the wrapped key
   * @return the plaintext and wrapped data key and the resolved KEK
   */
  GeneratedDataKey generateDataKey(String keyId, EncryptionContext context);

  /**
   * Wraps an existing data key under another KEK (AWS: {@code Encrypt}); used to add slots when a
   * blob is written under several KEKs.
   *
   * @param keyId the KEK as configured
   * @param plaintextKey the data key; not retained
   * @param context bound to the wrapped key
   * @return the wrapped key and the resolved KEK
   */
  WrappedKey encrypt(String keyId, byte[] plaintextKey, EncryptionContext context);

  /**
   * Unwraps a data key (AWS: {@code Decrypt}, always passing the slot's key ARN and the exact
   * context). Implementations must check that the key the KMS used is {@code keyArn}.
   *
   * @param keyArn the resolved KEK recorded in the slot
   * @param wrappedKey the wrapped data key from the slot
   * @param context the blob's encryption context
   * @return a fresh array with the plaintext data key; the caller wipes it
   */
  byte[] decrypt(String keyArn, byte[] wrappedKey, EncryptionContext context);

  /**
   * Whether {@link #reEncrypt} is supported, i.e. the KMS can move a wrapped key to another KEK
   * without exposing the plaintext to the caller.
   *
   * @return false unless overridden
   */
  default boolean supportsReEncrypt() {
    return false;
  }

  /**
   * Re-wraps a data key under another KEK inside the KMS (AWS: {@code ReEncrypt}).
   *
   * @param sourceKeyArn the resolved KEK of the existing slot
   * @param wrappedKey the existing wrapped key
   * @param destinationKeyId the new KEK as configured
   * @param context the blob's encryption context (kept)
   * @return the new wrapped key and the resolved destination KEK
   * @throws UnsupportedOperationException if {@link #supportsReEncrypt()} is false, or if the KMS
   *     cannot re-encrypt between these two keys (AWS: keys in different Regions); byok then wraps
   *     the data key with {@link #encrypt} instead
   */
  default WrappedKey reEncrypt(
      String sourceKeyArn, byte[] wrappedKey, String destinationKeyId, EncryptionContext context) {
    throw new UnsupportedOperationException(providerId() + " does not support re-encrypt");
  }

  /**
   * Describes a KEK (AWS: {@code DescribeKey}): resolves an alias to the key ARN and reports its
   * state. A key that is disabled or pending deletion is <em>described</em>, not thrown; not found
   * and access denied are thrown as {@link KeyUnusableException}.
   *
   * @param keyId the KEK as configured
   * @return the description
   */
  KeyDescription describeKey(String keyId);

  /**
   * Reports automatic rotation of a KEK (AWS: {@code GetKeyRotationStatus}).
   *
   * @param keyId the KEK
   * @return the rotation status
   */
  RotationStatus rotationStatus(String keyId);
}
