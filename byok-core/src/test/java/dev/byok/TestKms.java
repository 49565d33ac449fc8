package dev.byok;

import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.KeyState;
import dev.byok.spi.RotationStatus;
import dev.byok.spi.WrappedKey;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A small in-memory KMS for byok-core's own tests (the strict fake lives in byok-testkit, which
 * depends on this module): real AES-GCM wrapping bound to the key ARN and the context, key states,
 * aliases, per-operation call counts, injectable outages, and a hook that runs after the KMS has
 * answered and before the answer returns — where a test parks a call on a latch.
 */
final class TestKms implements KeyProvider {
  static final String ID = "test-kms";
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Runs inside a call after the KMS answered, with the operation name. */
  interface Hook {
    void after(String operation, String keyArn) throws InterruptedException;
  }

  private final Map<String, byte[]> keks = new ConcurrentHashMap<>();
  private final Map<String, String> aliases = new ConcurrentHashMap<>();
  private final Set<String> disabled = ConcurrentHashMap.newKeySet();
  private final Set<String> down = ConcurrentHashMap.newKeySet();
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  private final AtomicReference<Hook> hook = new AtomicReference<>((op, arn) -> {});
  private final AtomicInteger next = new AtomicInteger();
  private final String id;

  TestKms() {
    this(ID);
  }

  /** A test KMS registered under another provider id (its key ARNs repeat this one's). */
  TestKms(String id) {
    this.id = id;
  }

  /** Creates a KEK and returns its ARN. */
  String createKey() {
    String arn = "arn:aws:kms:eu-west-1:111122223333:key/k" + next.incrementAndGet();
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    keks.put(arn, secret);
    return arn;
  }

  void alias(String alias, String arn) {
    aliases.put(alias, arn);
  }

  private final Set<EncryptionContext> deniedContexts = ConcurrentHashMap.newKeySet();

  /** Decrypt requests carrying {@code context} get ACCESS_DENIED (a key policy condition). */
  void denyContext(EncryptionContext context) {
    deniedContexts.add(context);
  }

  void disable(String arn) {
    disabled.add(arn);
  }

  void enable(String arn) {
    disabled.remove(arn);
  }

  /** Makes {@code operation} fail as unreachable until {@link #up}. */
  void down(String operation) {
    down.add(operation);
  }

  void up(String operation) {
    down.remove(operation);
  }

  void hook(Hook h) {
    hook.set(h);
  }

  int calls(String operation) {
    AtomicInteger n = calls.get(operation);
    return n == null ? 0 : n.get();
  }

  @Override
  public String providerId() {
    return id;
  }

  private String resolve(String keyId) {
    String arn = aliases.getOrDefault(keyId, keyId);
    if (!keks.containsKey(arn)) {
      throw new KeyUnusableException(
          KeyUnusableException.Reason.NOT_FOUND, keyId, "no such key", null);
    }
    return arn;
  }

  private void enter(String operation) {
    calls.computeIfAbsent(operation, o -> new AtomicInteger()).incrementAndGet();
    if (down.contains(operation)) {
      throw new KmsUnavailableException("test KMS: " + operation + " is down", false, null);
    }
  }

  private void usable(String arn) {
    if (disabled.contains(arn)) {
      throw new KeyUnusableException(KeyUnusableException.Reason.DISABLED, arn, "disabled", null);
    }
  }

  private void afterAnswer(String operation, String arn) {
    try {
      hook.get().after(operation, arn);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KmsUnavailableException("interrupted", false, e);
    }
  }

  private static byte[] aad(String arn, EncryptionContext context) {
    return (arn + "|" + context).getBytes(StandardCharsets.UTF_8);
  }

  private byte[] wrap(String arn, byte[] plaintext, EncryptionContext context) {
    try {
      byte[] iv = new byte[12];
      RANDOM.nextBytes(iv);
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(
          Cipher.ENCRYPT_MODE,
          new SecretKeySpec(keks.get(arn), "AES"),
          new GCMParameterSpec(128, iv));
      c.updateAAD(aad(arn, context));
      byte[] ct = c.doFinal(plaintext);
      byte[] out = new byte[12 + ct.length];
      System.arraycopy(iv, 0, out, 0, 12);
      System.arraycopy(ct, 0, out, 12, ct.length);
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public GeneratedDataKey generateDataKey(String keyId, EncryptionContext context) {
    enter("generateDataKey");
    String arn = resolve(keyId);
    usable(arn);
    byte[] dek = new byte[32];
    RANDOM.nextBytes(dek);
    GeneratedDataKey g =
        new GeneratedDataKey(dek, new WrappedKey(arn, wrap(arn, dek, context), null));
    afterAnswer("generateDataKey", arn);
    return g;
  }

  @Override
  public WrappedKey encrypt(String keyId, byte[] plaintextKey, EncryptionContext context) {
    enter("encrypt");
    String arn = resolve(keyId);
    usable(arn);
    WrappedKey w = new WrappedKey(arn, wrap(arn, plaintextKey, context), null);
    afterAnswer("encrypt", arn);
    return w;
  }

  @Override
  public byte[] decrypt(String keyArn, byte[] wrappedKey, EncryptionContext context) {
    enter("decrypt");
    if (!keks.containsKey(keyArn)) {
      throw new KeyUnusableException(
          KeyUnusableException.Reason.NOT_FOUND, keyArn, "no such key", null);
    }
    usable(keyArn);
    if (deniedContexts.contains(context)) {
      throw new KeyUnusableException(
          KeyUnusableException.Reason.ACCESS_DENIED, keyArn, "denied by a test policy", null);
    }
    byte[] plain;
    try {
      if (wrappedKey.length < 12 + 16) {
        throw new GeneralSecurityException("short");
      }
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(
          Cipher.DECRYPT_MODE,
          new SecretKeySpec(keks.get(keyArn), "AES"),
          new GCMParameterSpec(128, wrappedKey, 0, 12));
      c.updateAAD(aad(keyArn, context));
      plain = c.doFinal(wrappedKey, 12, wrappedKey.length - 12);
    } catch (GeneralSecurityException e) {
      throw new InvalidCiphertextException(
          InvalidCiphertextException.Reason.WRAPPED_KEY_REJECTED,
          "test KMS rejects the wrapped key");
    }
    afterAnswer("decrypt", keyArn);
    return plain;
  }

  @Override
  public KeyDescription describeKey(String keyId) {
    enter("describeKey");
    String arn = resolve(keyId);
    KeyDescription d =
        new KeyDescription(
            arn, disabled.contains(arn) ? KeyState.DISABLED : KeyState.ENABLED, null, null);
    afterAnswer("describeKey", arn);
    return d;
  }

  @Override
  public RotationStatus rotationStatus(String keyId) {
    enter("rotationStatus");
    return new RotationStatus(false, null, null);
  }
}
