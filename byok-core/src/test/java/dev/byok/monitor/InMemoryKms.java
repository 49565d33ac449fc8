package dev.byok.monitor;

import dev.byok.ByokException;
import dev.byok.EncryptionContext;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.KeyState;
import dev.byok.spi.RotationStatus;
import dev.byok.spi.WrappedKey;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * A small KMS for the monitor's tests in byok-core (byok-testkit's FakeKms depends on this module):
 * real AES-GCM wrapping under per-key 256-bit KEKs bound to the encryption context, key states,
 * access denial, a DescribeKey that can be made to lie (AWS's eventual consistency after
 * DisableKey: DescribeKey says Disabled while Decrypt still works), a one-shot scripted failure,
 * and per-operation call counts.
 *
 * <p>Thread-safe.
 */
final class InMemoryKms implements KeyProvider {
  static final String PROVIDER = "mem-kms";
  private static final SecureRandom RANDOM = new SecureRandom();

  private static final class Key {
    final String arn;
    final byte[] kek = new byte[32];
    volatile KeyState state = KeyState.ENABLED;
    volatile boolean denied;
    volatile @Nullable KeyState describeOverride;

    Key(String arn) {
      this.arn = arn;
      RANDOM.nextBytes(kek);
    }
  }

  private final Map<String, Key> keys = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  private final Map<String, Supplier<? extends RuntimeException>> failNext =
      new ConcurrentHashMap<>();
  private final Map<String, String> aliases = new ConcurrentHashMap<>();
  private final Map<String, Boolean> describeDenied = new ConcurrentHashMap<>();
  private volatile boolean outage;

  @Override
  public String providerId() {
    return PROVIDER;
  }

  /**
   * @return the ARN of a new enabled key
   */
  String createKey() {
    String arn = "arn:aws:kms:us-east-1:111122223333:key/" + UUID.randomUUID();
    keys.put(arn, new Key(arn));
    return arn;
  }

  void setState(String arn, KeyState state) {
    key(arn).state = state;
  }

  void denyAccess(String arn, boolean denied) {
    key(arn).denied = denied;
  }

  /** DescribeKey reports {@code state} while the key itself keeps working ({@code null}: truth). */
  void describeAs(String arn, @Nullable KeyState state) {
    key(arn).describeOverride = state;
  }

  /**
   * The next call of {@code operation} throws what {@code failure} makes (a {@link ByokException},
   * or a raw runtime exception as a buggy SDK would; the supplier may also throw an Error itself).
   */
  void failNext(String operation, Supplier<? extends RuntimeException> failure) {
    failNext.put(operation, failure);
  }

  /** Points {@code alias} (e.g. {@code alias/app}) at a key; calls may name the alias. */
  void alias(String alias, String arn) {
    key(arn);
    aliases.put(alias, arn);
  }

  /** DescribeKey of this key (by ARN or alias) is denied while the key itself keeps working. */
  void denyDescribe(String arn, boolean denied) {
    describeDenied.put(key(arn).arn, denied);
  }

  /** Every call fails as unreachable while on. */
  void outage(boolean on) {
    outage = on;
  }

  int calls(String operation) {
    AtomicInteger n = calls.get(operation);
    return n == null ? 0 : n.get();
  }

  private Key key(String arn) {
    Key k = keys.get(arn);
    if (k == null) {
      throw new IllegalArgumentException("no key " + arn);
    }
    return k;
  }

  private Key usable(String operation, String keyIdOrAlias) {
    calls.computeIfAbsent(operation, o -> new AtomicInteger()).incrementAndGet();
    String keyId = aliases.getOrDefault(keyIdOrAlias, keyIdOrAlias);
    Supplier<? extends RuntimeException> scripted = failNext.remove(operation);
    if (scripted != null) {
      throw scripted.get();
    }
    if (outage) {
      throw new KmsUnavailableException("KMS unreachable (outage)", false, null);
    }
    Key k = keys.get(keyId);
    if (k == null) {
      throw new KeyUnusableException(
          KeyUnusableException.Reason.NOT_FOUND, keyId, "no such key", null);
    }
    if (k.denied
        || (operation.equals("DescribeKey") && describeDenied.getOrDefault(keyId, false))) {
      throw new KeyUnusableException(
          KeyUnusableException.Reason.ACCESS_DENIED, keyId, "access denied", null);
    }
    if (!operation.equals("DescribeKey") && !k.state.usable()) {
      throw new KeyUnusableException(
          KeyUnusableException.Reason.of(k.state), keyId, "key is " + k.state, null);
    }
    return k;
  }

  private static byte[] aad(String arn, EncryptionContext context) {
    return (arn + "|" + context.asMap()).getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] wrap(Key k, byte[] plaintext, EncryptionContext context) {
    try {
      byte[] iv = new byte[12];
      RANDOM.nextBytes(iv);
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(k.kek, "AES"), new GCMParameterSpec(128, iv));
      c.updateAAD(aad(k.arn, context));
      byte[] ct = c.doFinal(plaintext);
      return ByteBuffer.allocate(iv.length + ct.length).put(iv).put(ct).array();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public GeneratedDataKey generateDataKey(String keyId, EncryptionContext context) {
    Key k = usable("GenerateDataKey", keyId);
    byte[] dataKey = new byte[32];
    RANDOM.nextBytes(dataKey);
    return new GeneratedDataKey(dataKey, new WrappedKey(k.arn, wrap(k, dataKey, context), null));
  }

  @Override
  public WrappedKey encrypt(String keyId, byte[] plaintextKey, EncryptionContext context) {
    Key k = usable("Encrypt", keyId);
    return new WrappedKey(k.arn, wrap(k, plaintextKey, context), null);
  }

  @Override
  public byte[] decrypt(String keyArn, byte[] wrappedKey, EncryptionContext context) {
    Key k = usable("Decrypt", keyArn);
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(
          Cipher.DECRYPT_MODE,
          new SecretKeySpec(k.kek, "AES"),
          new GCMParameterSpec(128, wrappedKey, 0, 12));
      c.updateAAD(aad(k.arn, context));
      return c.doFinal(wrappedKey, 12, wrappedKey.length - 12);
    } catch (AEADBadTagException e) {
      throw new InvalidCiphertextException(
          InvalidCiphertextException.Reason.WRAPPED_KEY_REJECTED, "wrapped key rejected");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public KeyDescription describeKey(String keyId) {
    Key k = usable("DescribeKey", keyId);
    KeyState shown = k.describeOverride;
    return new KeyDescription(k.arn, shown != null ? shown : k.state, null, null);
  }

  @Override
  public RotationStatus rotationStatus(String keyId) {
    usable("GetKeyRotationStatus", keyId);
    return new RotationStatus(false, null, null);
  }

  @Override
  public String toString() {
    return "InMemoryKms[" + keys.size() + " keys]";
  }
}
