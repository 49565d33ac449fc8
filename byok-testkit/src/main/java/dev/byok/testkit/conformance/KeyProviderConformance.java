package dev.byok.testkit.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.byok.ByokConfigurationException;
import dev.byok.EncryptionContext;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.KeyState;
import dev.byok.spi.WrappedKey;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The conformance suite for a {@link KeyProvider}: subclass it in your provider's tests and
 * implement {@link #fixture()}; JUnit 5 runs every test below against your provider.
 *
 * <p>A subclass implements {@link #fixture()} only, returning a {@link KmsFixture}: the provider
 * under test wired to a fake (or test instance) of its KMS, and that fake's controls. The sample in
 * docs/testing-with-the-testkit.md is the whole of one.
 *
 * <p>What it checks, each as its own test (their javadoc says exactly what passes):
 *
 * <ul>
 *   <li>round trips: {@code generateDataKey} and {@code encrypt}, then {@code decrypt} with the
 *       resolved key the provider returned;
 *   <li>encryption-context binding: another context, no context, an extra entry, or a flipped bit
 *       in the wrapped key is {@link InvalidCiphertextException} ({@code WRAPPED_KEY_REJECTED});
 *   <li>every failure class of the SPI: disabled, destroyed, access revoked, unknown key ({@link
 *       KeyUnusableException} with the reason), transient faults ({@link KmsUnavailableException},
 *       throttled or not), a wrong key ({@link ByokConfigurationException}), and what {@code
 *       describeKey} says after each;
 *   <li>rotation: visible in the resolved key or key material id of new data keys and in {@code
 *       describeKey}, while old wrapped keys still unwrap;
 *   <li>thread-safety: {@link #threads()} threads × {@link #operationsPerThread()} round trips,
 *       started together;
 *   <li>stable resolved keys: the same configured key resolves to the same identifier until it is
 *       rotated, and that identifier can be described;
 *   <li>no key bytes (hex or base64 of the data key) in {@code toString()} of results and of the
 *       provider, nor in any exception message, cause or stack trace.
 * </ul>
 *
 * <p>Every test is checked in byok-testkit's own tests against deliberately broken providers (one
 * that ignores the context, one that leaks, one that misclassifies, ...): each is caught.
 *
 * <p><b>Thread-safety:</b> JUnit creates one instance per test; not for concurrent use otherwise.
 */
public abstract class KeyProviderConformance {
  /** The encryption context the suite binds to wrapped keys. */
  protected static final EncryptionContext CONTEXT =
      EncryptionContext.of("tenant", "acme", "purpose", "conformance");

  private static final long TIMEOUT_SECONDS = 60;
  private static final SecureRandom RANDOM = new SecureRandom();

  private @Nullable KmsFixture fixture;

  /** Creates the suite; JUnit calls it once per test. */
  protected KeyProviderConformance() {}

  /**
   * Creates the fixture for one test: a fresh fake KMS (or a fresh namespace in a shared one) and
   * the provider under test wired to it. Called before every test; the suite closes it after.
   *
   * @return a new fixture
   */
  protected abstract KmsFixture fixture();

  /**
   * How many threads the thread-safety test runs.
   *
   * @return 4 unless overridden
   */
  protected int threads() {
    return 4;
  }

  /**
   * How many round trips each thread of the thread-safety test makes.
   *
   * @return 10 unless overridden
   */
  protected int operationsPerThread() {
    return 10;
  }

  /** Opens the fixture. */
  @BeforeEach
  public final void openFixture() {
    fixture = Objects.requireNonNull(fixture(), "fixture() returned null");
  }

  /** Closes the fixture. */
  @AfterEach
  public final void closeFixture() {
    KmsFixture f = fixture;
    fixture = null;
    if (f != null) {
      f.close();
    }
  }

  /**
   * The fixture of the running test.
   *
   * @return the fixture {@link #fixture()} returned for this test
   */
  protected final KmsFixture kms() {
    KmsFixture f = fixture;
    if (f == null) {
      throw new IllegalStateException("no fixture: called outside a test");
    }
    return f;
  }

  private KeyProvider provider() {
    return kms().provider();
  }

  // ------------------------------------------------------------------------------ round trips

  /**
   * {@code generateDataKey} returns a fresh 256-bit data key and a wrapped copy that {@code
   * decrypt}, given the returned resolved key and the same context, unwraps to the same bytes; two
   * data keys differ.
   */
  @Test
  public void generatedDataKeyRoundTrips() {
    String key = kms().newKey();
    GeneratedDataKey dek = provider().generateDataKey(key, CONTEXT);
    byte[] plaintext = dek.copyPlaintextKey();
    assertEquals(32, plaintext.length, "a data key is 256 bits");
    assertFalse(dek.keyArn().isEmpty(), "the resolved key is named");
    assertFalse(
        Arrays.equals(plaintext, dek.wrapped().ciphertext()),
        "the wrapped key is not the plaintext");
    assertArrayEquals(
        plaintext, provider().decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CONTEXT));
    assertFalse(
        Arrays.equals(plaintext, provider().generateDataKey(key, CONTEXT).copyPlaintextKey()),
        "every data key is fresh");
  }

  /** {@code encrypt} wraps a caller's data key so that {@code decrypt} returns the same bytes. */
  @Test
  public void encryptedDataKeyRoundTrips() {
    String key = kms().newKey();
    byte[] plaintext = randomKey();
    WrappedKey wrapped = provider().encrypt(key, plaintext.clone(), CONTEXT);
    assertFalse(Arrays.equals(plaintext, wrapped.ciphertext()), "the wrapped key is sealed");
    assertArrayEquals(
        plaintext, provider().decrypt(wrapped.keyArn(), wrapped.ciphertext(), CONTEXT));
  }

  /**
   * A data key wrapped under one key is added under a second key with {@code encrypt}, and each
   * slot unwraps with its own key.
   */
  @Test
  public void aDataKeyWrapsUnderTwoKeys() {
    GeneratedDataKey dek = provider().generateDataKey(kms().newKey(), CONTEXT);
    WrappedKey second = provider().encrypt(kms().newKey(), dek.copyPlaintextKey(), CONTEXT);
    assertNotEquals(dek.keyArn(), second.keyArn(), "two keys resolve to two identifiers");
    assertArrayEquals(
        dek.copyPlaintextKey(), provider().decrypt(second.keyArn(), second.ciphertext(), CONTEXT));
    assertArrayEquals(
        dek.copyPlaintextKey(),
        provider().decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CONTEXT));
  }

  // ------------------------------------------------------------------------------ context

  /**
   * The encryption context is bound: unwrapping with another value, with no context, or with an
   * extra entry is {@link InvalidCiphertextException} with reason {@code WRAPPED_KEY_REJECTED}
   * (from {@code generateDataKey} and from {@code encrypt}).
   */
  @Test
  public void theContextIsBound() {
    String key = kms().newKey();
    GeneratedDataKey dek = provider().generateDataKey(key, CONTEXT);
    WrappedKey added = provider().encrypt(key, dek.copyPlaintextKey(), CONTEXT);
    EncryptionContext otherValue =
        EncryptionContext.of("tenant", "other", "purpose", "conformance");
    EncryptionContext extraEntry =
        EncryptionContext.of("tenant", "acme", "purpose", "conformance", "extra", "1");
    for (WrappedKey w : List.of(dek.wrapped(), added)) {
      for (EncryptionContext wrong : List.of(otherValue, EncryptionContext.empty(), extraEntry)) {
        assertRejected(
            () -> provider().decrypt(w.keyArn(), w.ciphertext(), wrong),
            "unwrapping with context " + wrong.asMap() + " instead of " + CONTEXT.asMap());
      }
    }
  }

  /**
   * A wrapped key with one bit flipped, truncated, or extended is refused with {@link
   * InvalidCiphertextException} ({@code WRAPPED_KEY_REJECTED}): never another plaintext.
   */
  @Test
  public void aDamagedWrappedKeyIsRejected() {
    GeneratedDataKey dek = provider().generateDataKey(kms().newKey(), CONTEXT);
    byte[] good = dek.wrapped().ciphertext();
    List<byte[]> damaged = new ArrayList<>();
    for (int at : new int[] {good.length / 2, good.length - 1}) {
      byte[] flipped = good.clone();
      flipped[at] ^= 0x01;
      damaged.add(flipped);
    }
    damaged.add(Arrays.copyOf(good, good.length - 1));
    damaged.add(Arrays.copyOf(good, good.length + 1));
    for (byte[] bad : damaged) {
      assertRejected(
          () -> provider().decrypt(dek.keyArn(), bad, CONTEXT),
          "unwrapping a damaged wrapped key (" + bad.length + " of " + good.length + " bytes)");
    }
  }

  // ------------------------------------------------------------------------------ failure classes

  /**
   * A disabled key is {@link KeyUnusableException} {@code DISABLED} for unwrap and wrap, {@code
   * describeKey} reports {@link KeyState#DISABLED}; enabled again, it works and is {@code ENABLED}.
   */
  @Test
  public void aDisabledKeyIsUnusableUntilEnabled() {
    String key = kms().newKey();
    GeneratedDataKey dek = provider().generateDataKey(key, CONTEXT);
    kms().disable(key);
    assertUnusable(
        () -> provider().decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CONTEXT),
        Set.of(KeyUnusableException.Reason.DISABLED),
        "decrypt under a disabled key");
    assertUnusable(
        () -> provider().generateDataKey(key, CONTEXT),
        Set.of(KeyUnusableException.Reason.DISABLED),
        "generateDataKey under a disabled key");
    assertUnusable(
        () -> provider().encrypt(key, dek.copyPlaintextKey(), CONTEXT),
        Set.of(KeyUnusableException.Reason.DISABLED),
        "encrypt under a disabled key");
    assertEquals(KeyState.DISABLED, provider().describeKey(key).state(), "describeKey, disabled");

    kms().enable(key);
    assertEquals(KeyState.ENABLED, provider().describeKey(key).state(), "describeKey, enabled");
    assertArrayEquals(
        dek.copyPlaintextKey(),
        provider().decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CONTEXT));
  }

  /**
   * A destroyed (deleted, scheduled for deletion) key is {@link KeyUnusableException} {@code
   * PENDING_DELETION} or {@code NOT_FOUND} for unwrap and wrap; {@code describeKey} either reports
   * an unusable known state or throws {@link KeyUnusableException} {@code NOT_FOUND}.
   */
  @Test
  public void aDestroyedKeyIsUnusable() {
    String key = kms().newKey();
    GeneratedDataKey dek = provider().generateDataKey(key, CONTEXT);
    kms().destroy(key);
    Set<KeyUnusableException.Reason> gone =
        Set.of(KeyUnusableException.Reason.PENDING_DELETION, KeyUnusableException.Reason.NOT_FOUND);
    assertUnusable(
        () -> provider().decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CONTEXT),
        gone,
        "decrypt under a destroyed key");
    assertUnusable(
        () -> provider().generateDataKey(key, CONTEXT), gone, "generateDataKey, destroyed key");
    KeyDescription d;
    try {
      d = provider().describeKey(key);
    } catch (KeyUnusableException e) {
      assertEquals(
          KeyUnusableException.Reason.NOT_FOUND, e.reason(), "describeKey of a destroyed key");
      return;
    }
    assertFalse(d.state().usable(), "describeKey of a destroyed key says usable: " + d);
    assertNotEquals(KeyState.UNKNOWN, d.state(), "describeKey of a destroyed key: " + d);
  }

  /**
   * When the host's permission is removed, unwrap, wrap and {@code describeKey} are {@link
   * KeyUnusableException} {@code ACCESS_DENIED}; restored, the key works again.
   */
  @Test
  public void revokedAccessIsDeniedUntilRestored() {
    String key = kms().newKey();
    GeneratedDataKey dek = provider().generateDataKey(key, CONTEXT);
    kms().revokeAccess(key);
    Set<KeyUnusableException.Reason> denied = Set.of(KeyUnusableException.Reason.ACCESS_DENIED);
    assertUnusable(
        () -> provider().decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CONTEXT),
        denied,
        "decrypt without permission");
    assertUnusable(
        () -> provider().generateDataKey(key, CONTEXT),
        denied,
        "generateDataKey without permission");
    assertUnusable(() -> provider().describeKey(key), denied, "describeKey without permission");

    kms().restoreAccess(key);
    assertEquals(KeyState.ENABLED, provider().describeKey(key).state(), "describeKey, restored");
    assertArrayEquals(
        dek.copyPlaintextKey(),
        provider().decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CONTEXT));
  }

  /**
   * A key that does not exist ({@link KmsFixture#unknownKey()}) is {@link KeyUnusableException}
   * {@code NOT_FOUND} for wrap and describe. Skipped when the fixture names no unknown key.
   */
  @Test
  public void anUnknownKeyIsNotFound() {
    String unknown = kms().unknownKey();
    if (unknown == null) {
      Assumptions.assumeTrue(false, "the fixture names no unknown key");
      return;
    }
    Set<KeyUnusableException.Reason> notFound = Set.of(KeyUnusableException.Reason.NOT_FOUND);
    assertUnusable(
        () -> provider().generateDataKey(unknown, CONTEXT), notFound, "generateDataKey, no key");
    assertUnusable(() -> provider().describeKey(unknown), notFound, "describeKey, no key");
  }

  /**
   * A wrapped key handed to {@code decrypt} with another key's resolved identifier is refused as a
   * caller error ({@link ByokConfigurationException}) or a rejected wrapped key ({@link
   * InvalidCiphertextException}), never unwrapped and never reported as a KMS outage or an unusable
   * key.
   */
  @Test
  public void anotherKeysIdentifierIsRefused() {
    GeneratedDataKey dek = provider().generateDataKey(kms().newKey(), CONTEXT);
    GeneratedDataKey other = provider().generateDataKey(kms().newKey(), CONTEXT);
    Throwable e =
        assertThrows(
            Throwable.class,
            () -> provider().decrypt(other.keyArn(), dek.wrapped().ciphertext(), CONTEXT),
            "decrypt with another key's identifier succeeded");
    assertTrue(
        e instanceof ByokConfigurationException || e instanceof InvalidCiphertextException,
        () -> "decrypt with another key's identifier threw " + describe(e));
  }

  /**
   * {@link Fault#UNAVAILABLE} on every attempt of one call is {@link KmsUnavailableException}, not
   * throttled, for unwrap, wrap and describe; the key is fine afterwards ({@code ENABLED}, round
   * trips).
   */
  @Test
  public void anOutageIsTransient() {
    transientFault(Fault.UNAVAILABLE);
  }

  /**
   * {@link Fault#THROTTLED} on every attempt of one call is {@link KmsUnavailableException} with
   * {@code throttled() == true}, for unwrap, wrap and describe; the key is fine afterwards.
   */
  @Test
  public void throttlingIsTransientAndThrottled() {
    transientFault(Fault.THROTTLED);
  }

  /**
   * When the provider's client retries ({@link KmsFixture#attemptsPerCall()} above 1), one fault
   * fewer than the attempts is absorbed: the call succeeds. Skipped when the client does not retry.
   */
  @Test
  public void retriesAbsorbFewerFaultsThanAttempts() {
    int attempts = kms().attemptsPerCall(Fault.UNAVAILABLE);
    Assumptions.assumeTrue(attempts > 1, "the provider's client makes one attempt per call");
    GeneratedDataKey dek = provider().generateDataKey(kms().newKey(), CONTEXT);
    kms().failNext(attempts - 1, Fault.UNAVAILABLE);
    assertArrayEquals(
        dek.copyPlaintextKey(),
        provider().decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CONTEXT));
  }

  private void transientFault(Fault fault) {
    String key = kms().newKey();
    GeneratedDataKey dek = provider().generateDataKey(key, CONTEXT);
    int attempts = kms().attemptsPerCall(fault);
    List<Executable> calls =
        List.of(
            () -> provider().decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CONTEXT),
            () -> provider().generateDataKey(key, CONTEXT),
            () -> provider().encrypt(key, dek.copyPlaintextKey(), CONTEXT),
            () -> provider().describeKey(key));
    String[] names = {"decrypt", "generateDataKey", "encrypt", "describeKey"};
    for (int i = 0; i < calls.size(); i++) {
      kms().failNext(attempts, fault);
      String what = names[i] + " while the KMS answers " + fault + " on all " + attempts + " tries";
      Throwable e = assertThrows(Throwable.class, calls.get(i), what + " succeeded");
      if (!(e instanceof KmsUnavailableException)) {
        fail(what + " threw " + describe(e) + ", not KmsUnavailableException");
      }
      assertEquals(
          fault == Fault.THROTTLED,
          ((KmsUnavailableException) e).throttled(),
          what + ": throttled() of " + e);
      assertTrue(((KmsUnavailableException) e).retryable(), what + ": retryable()");
    }
    assertEquals(KeyState.ENABLED, provider().describeKey(key).state(), "after " + fault);
    assertArrayEquals(
        dek.copyPlaintextKey(),
        provider().decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CONTEXT),
        "after " + fault);
  }

  // ------------------------------------------------------------------------------ rotation

  /**
   * After rotation, new data keys name a different resolved key or key material, {@code
   * describeKey} reports the change (its resolved key or current material id), data keys wrapped
   * before still unwrap and new ones round trip.
   */
  @Test
  public void rotationIsVisibleAndOldWrappedKeysStillUnwrap() {
    String key = kms().newKey();
    KeyDescription before = provider().describeKey(key);
    GeneratedDataKey old = provider().generateDataKey(key, CONTEXT);
    kms().rotate(key);
    GeneratedDataKey fresh = provider().generateDataKey(key, CONTEXT);
    KeyDescription after = provider().describeKey(key);
    assertNotEquals(
        old.keyArn() + " / " + old.keyMaterialId(),
        fresh.keyArn() + " / " + fresh.keyMaterialId(),
        "a data key after rotation names the same key and material as before");
    assertNotEquals(
        before.keyArn() + " / " + before.currentKeyMaterialId(),
        after.keyArn() + " / " + after.currentKeyMaterialId(),
        "describeKey shows no rotation");
    assertEquals(KeyState.ENABLED, after.state());
    assertArrayEquals(
        old.copyPlaintextKey(),
        provider().decrypt(old.keyArn(), old.wrapped().ciphertext(), CONTEXT),
        "a data key wrapped before rotation");
    assertArrayEquals(
        fresh.copyPlaintextKey(),
        provider().decrypt(fresh.keyArn(), fresh.wrapped().ciphertext(), CONTEXT),
        "a data key wrapped after rotation");
  }

  // ------------------------------------------------------------------------------ resolved keys

  /**
   * The same configured key resolves to the same identifier for {@code generateDataKey} and {@code
   * encrypt} while it is not rotated; that identifier is what {@code decrypt} takes, and {@code
   * describeKey} describes it as {@code ENABLED}.
   */
  @Test
  public void theResolvedKeyIsStable() {
    String key = kms().newKey();
    GeneratedDataKey a = provider().generateDataKey(key, CONTEXT);
    GeneratedDataKey b = provider().generateDataKey(key, CONTEXT);
    WrappedKey c = provider().encrypt(key, randomKey(), CONTEXT);
    assertEquals(a.keyArn(), b.keyArn(), "two generateDataKey calls on " + key);
    assertEquals(a.keyArn(), c.keyArn(), "generateDataKey and encrypt on " + key);
    assertEquals(
        KeyState.ENABLED,
        provider().describeKey(a.keyArn()).state(),
        "describeKey of the resolved key");
    assertArrayEquals(
        b.copyPlaintextKey(), provider().decrypt(a.keyArn(), b.wrapped().ciphertext(), CONTEXT));
  }

  // ------------------------------------------------------------------------------ threads

  /**
   * {@link #threads()} threads, released together, each make {@link #operationsPerThread()} round
   * trips ({@code generateDataKey}, {@code encrypt} under a second key, {@code decrypt} of both):
   * all succeed and return their own data key.
   *
   * @throws Exception if the threads cannot be run
   */
  @Test
  public void concurrentCallsAllRoundTrip() throws Exception {
    String first = kms().newKey();
    String second = kms().newKey();
    KeyProvider provider = provider();
    int n = threads();
    CyclicBarrier start = new CyclicBarrier(n);
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < n; t++) {
        results.add(
            pool.submit(
                () -> {
                  start.await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                  int done = 0;
                  for (int i = 0; i < operationsPerThread(); i++) {
                    GeneratedDataKey dek = provider.generateDataKey(first, CONTEXT);
                    byte[] mine = dek.copyPlaintextKey();
                    WrappedKey copy = provider.encrypt(second, mine.clone(), CONTEXT);
                    byte[] one =
                        provider.decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CONTEXT);
                    byte[] two = provider.decrypt(copy.keyArn(), copy.ciphertext(), CONTEXT);
                    if (!Arrays.equals(mine, one) || !Arrays.equals(mine, two)) {
                      throw new AssertionError("a thread unwrapped another data key than its own");
                    }
                    done++;
                  }
                  return done;
                }));
      }
      int total = 0;
      for (Future<Integer> f : results) {
        try {
          total += f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          throw new AssertionError("a concurrent round trip failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
          throw new AssertionError("concurrent round trips did not finish", e);
        }
      }
      assertEquals(n * operationsPerThread(), total);
    } finally {
      pool.shutdownNow();
    }
  }

  // ------------------------------------------------------------------------------ secrets

  /**
   * No data key bytes, as hex (either case) or base64 (standard or URL-safe, padded or not), in the
   * {@code toString()} of the provider, the results and descriptions, nor in the message, causes or
   * stack trace of any exception the provider throws (here: context mismatch, disabled key, revoked
   * access, wrapping a known key under a disabled key, and a KMS outage).
   */
  @Test
  public void noKeyBytesInStringsOrExceptions() {
    String key = kms().newKey();
    GeneratedDataKey dek = provider().generateDataKey(key, CONTEXT);
    byte[] secret = dek.copyPlaintextKey();
    List<String> seen = new ArrayList<>();
    seen.add(provider().toString());
    seen.add(dek.toString());
    seen.add(dek.wrapped().toString());
    seen.add(provider().encrypt(key, secret.clone(), CONTEXT).toString());
    seen.add(provider().describeKey(key).toString());
    seen.add(String.valueOf(provider().rotationStatus(key)));

    seen.add(
        thrown(
            () ->
                provider()
                    .decrypt(
                        dek.keyArn(), dek.wrapped().ciphertext(), EncryptionContext.of("x", "y"))));
    kms().failNext(kms().attemptsPerCall(Fault.UNAVAILABLE), Fault.UNAVAILABLE);
    seen.add(thrown(() -> provider().encrypt(key, secret.clone(), CONTEXT)));
    kms().disable(key);
    seen.add(thrown(() -> provider().encrypt(key, secret.clone(), CONTEXT)));
    seen.add(thrown(() -> provider().decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CONTEXT)));
    kms().enable(key);
    kms().revokeAccess(key);
    seen.add(thrown(() -> provider().encrypt(key, secret.clone(), CONTEXT)));
    seen.add(thrown(() -> provider().decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CONTEXT)));

    List<String> forms = encodings(secret);
    for (String text : seen) {
      String lower = text.toLowerCase(Locale.ROOT);
      for (String form : forms) {
        if (text.contains(form) || (isHex(form) && lower.contains(form.toLowerCase(Locale.ROOT)))) {
          fail("data key bytes (" + form + ") appear in: " + text);
        }
      }
    }
  }

  // ------------------------------------------------------------------------------ helpers

  private static byte[] randomKey() {
    byte[] k = new byte[32];
    RANDOM.nextBytes(k);
    return k;
  }

  private static boolean isHex(String s) {
    return s.chars().allMatch(c -> Character.digit(c, 16) >= 0);
  }

  private static List<String> encodings(byte[] secret) {
    List<String> forms = new ArrayList<>();
    forms.add(HexFormat.of().formatHex(secret));
    Base64.Encoder[] encoders = {
      Base64.getEncoder(),
      Base64.getEncoder().withoutPadding(),
      Base64.getUrlEncoder(),
      Base64.getUrlEncoder().withoutPadding()
    };
    for (Base64.Encoder e : encoders) {
      forms.add(e.encodeToString(secret));
    }
    // a prefix is enough to leak most of the key: the first 16 bytes in each form
    byte[] half = Arrays.copyOf(secret, 16);
    forms.add(HexFormat.of().formatHex(half));
    forms.add(Base64.getEncoder().withoutPadding().encodeToString(half));
    forms.add(Base64.getUrlEncoder().withoutPadding().encodeToString(half));
    forms.add(Arrays.toString(secret));
    return forms;
  }

  /** The full stack trace (every message, cause and suppressed exception) of what it throws. */
  private static String thrown(Executable call) {
    Throwable e = assertThrows(Throwable.class, call);
    StringWriter w = new StringWriter();
    e.printStackTrace(new PrintWriter(w));
    return w.toString();
  }

  private static void assertRejected(Executable call, String what) {
    Throwable e = assertThrows(Throwable.class, call, what + " succeeded");
    if (!(e instanceof InvalidCiphertextException)) {
      fail(what + " threw " + describe(e) + ", not InvalidCiphertextException");
    }
    assertEquals(
        InvalidCiphertextException.Reason.WRAPPED_KEY_REJECTED,
        ((InvalidCiphertextException) e).reason(),
        what);
  }

  private static void assertUnusable(
      Executable call, Set<KeyUnusableException.Reason> reasons, String what) {
    Throwable e = assertThrows(Throwable.class, call, what + " succeeded");
    if (!(e instanceof KeyUnusableException)) {
      fail(what + " threw " + describe(e) + ", not KeyUnusableException");
    }
    KeyUnusableException u = (KeyUnusableException) e;
    assertTrue(
        reasons.contains(u.reason()), () -> what + ": reason " + u.reason() + " not in " + reasons);
    assertFalse(u.keyId().isEmpty(), what + ": the exception names no key");
  }

  private static String describe(Throwable e) {
    return e.getClass().getName() + ": " + e.getMessage();
  }
}
