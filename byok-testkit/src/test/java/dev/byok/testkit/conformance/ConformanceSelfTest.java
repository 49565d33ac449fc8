package dev.byok.testkit.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import dev.byok.ByokConfigurationException;
import dev.byok.EncryptionContext;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.WrappedKey;
import java.lang.reflect.Method;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * Every test of {@link KeyProviderConformance} can fail: the suite is run against deliberately
 * broken providers (each a {@link Forwarding} over {@code FakeKms} breaking one rule) and must fail
 * exactly the tests that check the broken rule; a correct provider passes every test. The broken
 * cases are nested classes, which surefire does not run on their own.
 */
class ConformanceSelfTest {
  private static final Set<String> ROUND_TRIPS =
      Set.of(
          "generatedDataKeyRoundTrips", "encryptedDataKeyRoundTrips", "aDataKeyWrapsUnderTwoKeys");

  /** Broken case -> the tests that must fail for it (at least these). */
  private static final Map<Class<?>, Set<String>> EXPECTED = expected();

  private static Map<Class<?>, Set<String>> expected() {
    Map<Class<?>, Set<String>> m = new LinkedHashMap<>();
    m.put(DecryptReturnsZeros.class, ROUND_TRIPS);
    m.put(
        EncryptWrapsAnotherKey.class,
        Set.of("encryptedDataKeyRoundTrips", "aDataKeyWrapsUnderTwoKeys"));
    m.put(IgnoresContext.class, Set.of("theContextIsBound"));
    m.put(
        CorruptionAsConfiguration.class,
        Set.of("theContextIsBound", "aDamagedWrappedKeyIsRejected"));
    m.put(DisabledAsNotFound.class, Set.of("aDisabledKeyIsUnusableUntilEnabled"));
    m.put(PendingDeletionAsDisabled.class, Set.of("aDestroyedKeyIsUnusable"));
    m.put(DenialAsOutage.class, Set.of("revokedAccessIsDeniedUntilRestored"));
    m.put(NotFoundAsUnavailable.class, Set.of("anUnknownKeyIsNotFound"));
    m.put(WrongKeyAsNotFound.class, Set.of("anotherKeysIdentifierIsRefused"));
    m.put(
        OutageAsUnusable.class, Set.of("anOutageIsTransient", "throttlingIsTransientAndThrottled"));
    m.put(ThrottlingNotFlagged.class, Set.of("throttlingIsTransientAndThrottled"));
    m.put(ClaimsRetriesItDoesNotMake.class, Set.of("retriesAbsorbFewerFaultsThanAttempts"));
    m.put(HidesRotation.class, Set.of("rotationIsVisibleAndOldWrappedKeysStillUnwrap"));
    m.put(UnstableResolvedKey.class, Set.of("theResolvedKeyIsStable"));
    m.put(LeaksKeyInToString.class, Set.of("noKeyBytesInStringsOrExceptions"));
    m.put(LeaksKeyInException.class, Set.of("noKeyBytesInStringsOrExceptions"));
    m.put(SharesABuffer.class, Set.of("concurrentCallsAllRoundTrip"));
    return m;
  }

  @Test
  void aCorrectProviderPassesEveryTest() {
    Outcome o = run(selectClass(FakeKmsConformanceTest.class));
    assertThat(o.failed).isEmpty();
    Set<String> expected = new TreeSet<>(suiteTests());
    expected.remove("retriesAbsorbFewerFaultsThanAttempts"); // skipped: FakeKms makes one attempt
    assertThat(o.succeeded).isEqualTo(expected);
  }

  @Test
  void everyTestOfTheSuiteIsCaughtFailingByABrokenProvider() {
    Set<String> covered = new TreeSet<>();
    EXPECTED.values().forEach(covered::addAll);
    assertThat(covered).isEqualTo(suiteTests());
  }

  @Test
  void eachBrokenProviderFailsTheTestsOfTheRuleItBreaks() {
    Map<String, Set<String>> missed = new LinkedHashMap<>();
    EXPECTED.forEach(
        (broken, tests) -> {
          Outcome o =
              broken == SharesABuffer.class
                  // its barrier would block the single-threaded tests: run only the threads test
                  ? run(selectMethod(broken, "concurrentCallsAllRoundTrip"))
                  : run(selectClass(broken));
          Set<String> notCaught = new TreeSet<>(tests);
          notCaught.removeAll(o.failed);
          if (!notCaught.isEmpty()) {
            missed.put(broken.getSimpleName(), notCaught);
          }
        });
    assertThat(missed).as("broken providers that passed tests they must fail").isEmpty();
  }

  @Test
  void aBrokenRuleFailsOnlyItsOwnTests() {
    // a narrow breakage is reported by its test alone, not drowned in unrelated failures
    assertThat(run(selectClass(ThrottlingNotFlagged.class)).failed)
        .containsExactly("throttlingIsTransientAndThrottled");
    assertThat(run(selectClass(LeaksKeyInToString.class)).failed)
        .containsExactly("noKeyBytesInStringsOrExceptions");
    assertThat(run(selectClass(DisabledAsNotFound.class)).failed)
        .containsExactly("aDisabledKeyIsUnusableUntilEnabled");
  }

  private static Set<String> suiteTests() {
    Set<String> names = new TreeSet<>();
    for (Method m : KeyProviderConformance.class.getDeclaredMethods()) {
      if (m.isAnnotationPresent(Test.class)) {
        names.add(m.getName());
      }
    }
    return names;
  }

  /** The names of the test methods that failed and succeeded. */
  private record Outcome(Set<String> failed, Set<String> succeeded) {}

  private static Outcome run(DiscoverySelector selector) {
    Set<String> failed = new TreeSet<>();
    Set<String> succeeded = new TreeSet<>();
    TestExecutionListener listener =
        new TestExecutionListener() {
          @Override
          public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            if (id.getSource().orElse(null) instanceof MethodSource m) {
              switch (result.getStatus()) {
                case SUCCESSFUL -> succeeded.add(m.getMethodName());
                case FAILED -> failed.add(m.getMethodName());
                case ABORTED -> {} // an assumption skipped it
              }
            }
          }
        };
    LauncherFactory.create()
        .execute(LauncherDiscoveryRequestBuilder.request().selectors(selector).build(), listener);
    return new Outcome(failed, succeeded);
  }

  // ------------------------------------------------------------------------------ broken cases

  /** A conformance run over {@code FakeKms} seen through a broken wrapper. */
  abstract static class Broken extends KeyProviderConformance {
    abstract KeyProvider breakIt(KeyProvider fake);

    int attemptsPerCall() {
      return 1;
    }

    @Override
    protected KmsFixture fixture() {
      InMemoryKmsFixture fake = InMemoryKmsFixture.fake();
      return InMemoryKmsFixture.of(fake.kms(), breakIt(fake.provider()), attemptsPerCall());
    }
  }

  static class DecryptReturnsZeros extends Broken {
    @Override
    KeyProvider breakIt(KeyProvider fake) {
      return new Forwarding(fake) {
        @Override
        public byte[] decrypt(String keyArn, byte[] wrappedKey, EncryptionContext context) {
          super.decrypt(keyArn, wrappedKey, context);
          return new byte[32];
        }
      };
    }
  }

  static class EncryptWrapsAnotherKey extends Broken {
    @Override
    KeyProvider breakIt(KeyProvider fake) {
      return new Forwarding(fake) {
        @Override
        public WrappedKey encrypt(String keyId, byte[] plaintextKey, EncryptionContext context) {
          byte[] other = plaintextKey.clone();
          other[0] ^= 1;
          return super.encrypt(keyId, other, context);
        }
      };
    }
  }

  static class IgnoresContext extends Broken {
    @Override
    KeyProvider breakIt(KeyProvider fake) {
      return new Forwarding(fake) {
        @Override
        public GeneratedDataKey generateDataKey(String keyId, EncryptionContext context) {
          return super.generateDataKey(keyId, EncryptionContext.empty());
        }

        @Override
        public WrappedKey encrypt(String keyId, byte[] plaintextKey, EncryptionContext context) {
          return super.encrypt(keyId, plaintextKey, EncryptionContext.empty());
        }

        @Override
        public byte[] decrypt(String keyArn, byte[] wrappedKey, EncryptionContext context) {
          return super.decrypt(keyArn, wrappedKey, EncryptionContext.empty());
        }
      };
    }
  }

  /** Remaps exceptions with {@code f}; returns the original where {@code f} returns it. */
  static KeyProvider remapping(KeyProvider fake, Function<RuntimeException, RuntimeException> f) {
    return new Forwarding(fake) {
      @Override
      RuntimeException remap(RuntimeException e) {
        return f.apply(e);
      }
    };
  }

  static class CorruptionAsConfiguration extends Broken {
    @Override
    KeyProvider breakIt(KeyProvider fake) {
      return remapping(
          fake,
          e ->
              e instanceof InvalidCiphertextException
                  ? new ByokConfigurationException("bad request", e)
                  : e);
    }
  }

  static RuntimeException reason(
      RuntimeException e, KeyUnusableException.Reason from, KeyUnusableException.Reason to) {
    return e instanceof KeyUnusableException u && u.reason() == from
        ? new KeyUnusableException(to, u.keyId(), "remapped", e)
        : e;
  }

  static class DisabledAsNotFound extends Broken {
    @Override
    KeyProvider breakIt(KeyProvider fake) {
      return remapping(
          fake,
          e ->
              reason(
                  e, KeyUnusableException.Reason.DISABLED, KeyUnusableException.Reason.NOT_FOUND));
    }
  }

  static class PendingDeletionAsDisabled extends Broken {
    @Override
    KeyProvider breakIt(KeyProvider fake) {
      return remapping(
          fake,
          e ->
              reason(
                  e,
                  KeyUnusableException.Reason.PENDING_DELETION,
                  KeyUnusableException.Reason.DISABLED));
    }
  }

  static class NotFoundAsUnavailable extends Broken {
    @Override
    KeyProvider breakIt(KeyProvider fake) {
      return remapping(
          fake,
          e ->
              reason(
                  e,
                  KeyUnusableException.Reason.NOT_FOUND,
                  KeyUnusableException.Reason.UNAVAILABLE));
    }
  }

  static class DenialAsOutage extends Broken {
    @Override
    KeyProvider breakIt(KeyProvider fake) {
      return remapping(
          fake,
          e ->
              e instanceof KeyUnusableException u
                      && u.reason() == KeyUnusableException.Reason.ACCESS_DENIED
                  ? new KmsUnavailableException("denied, retry later", false, e)
                  : e);
    }
  }

  static class WrongKeyAsNotFound extends Broken {
    @Override
    KeyProvider breakIt(KeyProvider fake) {
      return remapping(
          fake,
          e ->
              e instanceof ByokConfigurationException
                  ? new KeyUnusableException(
                      KeyUnusableException.Reason.NOT_FOUND, "some-key", "not found", e)
                  : e);
    }
  }

  static class OutageAsUnusable extends Broken {
    @Override
    KeyProvider breakIt(KeyProvider fake) {
      return remapping(
          fake,
          e ->
              e instanceof KmsUnavailableException
                  ? new KeyUnusableException(
                      KeyUnusableException.Reason.UNAVAILABLE, "some-key", "unavailable", e)
                  : e);
    }
  }

  static class ThrottlingNotFlagged extends Broken {
    @Override
    KeyProvider breakIt(KeyProvider fake) {
      return remapping(
          fake,
          e ->
              e instanceof KmsUnavailableException u && u.throttled()
                  ? new KmsUnavailableException(u.getMessage(), false, e)
                  : e);
    }
  }

  /** Says its client retries once more than it does (FakeKms makes one attempt). */
  static class ClaimsRetriesItDoesNotMake extends Broken {
    @Override
    KeyProvider breakIt(KeyProvider fake) {
      return fake;
    }

    @Override
    int attemptsPerCall() {
      return 2;
    }
  }

  /** Reports no key material and the description first seen, so rotation cannot be observed. */
  static class HidesRotation extends Broken {
    @Override
    KeyProvider breakIt(KeyProvider fake) {
      Map<String, KeyDescription> seen = new ConcurrentHashMap<>();
      return new Forwarding(fake) {
        @Override
        public GeneratedDataKey generateDataKey(String keyId, EncryptionContext context) {
          GeneratedDataKey d = super.generateDataKey(keyId, context);
          return new GeneratedDataKey(
              d.copyPlaintextKey(), new WrappedKey(d.keyArn(), d.wrapped().ciphertext(), null));
        }

        @Override
        public KeyDescription describeKey(String keyId) {
          KeyDescription d = super.describeKey(keyId);
          KeyDescription first = seen.computeIfAbsent(keyId, k -> d);
          return new KeyDescription(
              first.keyArn(), d.state(), d.deletionDate(), first.currentKeyMaterialId());
        }
      };
    }
  }

  /** Names a fresh alias of the key in every result (decrypt understands them all). */
  static class UnstableResolvedKey extends Broken {
    @Override
    KeyProvider breakIt(KeyProvider fake) {
      AtomicInteger n = new AtomicInteger();
      return new Forwarding(fake) {
        @Override
        public GeneratedDataKey generateDataKey(String keyId, EncryptionContext context) {
          GeneratedDataKey d = super.generateDataKey(keyId, context);
          return new GeneratedDataKey(
              d.copyPlaintextKey(),
              new WrappedKey(
                  d.keyArn() + "#" + n.incrementAndGet(),
                  d.wrapped().ciphertext(),
                  d.keyMaterialId()));
        }

        @Override
        public byte[] decrypt(String keyArn, byte[] wrappedKey, EncryptionContext context) {
          return super.decrypt(keyArn.replaceAll("#\\d+$", ""), wrappedKey, context);
        }

        @Override
        public KeyDescription describeKey(String keyId) {
          return super.describeKey(keyId.replaceAll("#\\d+$", ""));
        }
      };
    }
  }

  /** Remembers the last data key and shows it in toString(). */
  static class LeaksKeyInToString extends Broken {
    @Override
    KeyProvider breakIt(KeyProvider fake) {
      byte[][] last = {new byte[0]};
      return new Forwarding(fake) {
        @Override
        public GeneratedDataKey generateDataKey(String keyId, EncryptionContext context) {
          GeneratedDataKey d = super.generateDataKey(keyId, context);
          last[0] = d.copyPlaintextKey();
          return d;
        }

        @Override
        public String toString() {
          return "Leaky[last=" + HexFormat.of().formatHex(last[0]) + "]";
        }
      };
    }
  }

  /** Puts the plaintext it was asked to wrap into the message when wrapping fails. */
  static class LeaksKeyInException extends Broken {
    @Override
    KeyProvider breakIt(KeyProvider fake) {
      return new Forwarding(fake) {
        @Override
        public WrappedKey encrypt(String keyId, byte[] plaintextKey, EncryptionContext context) {
          try {
            return super.encrypt(keyId, plaintextKey, context);
          } catch (KeyUnusableException e) {
            throw new KeyUnusableException(
                e.reason(),
                e.keyId(),
                "could not wrap " + Base64.getEncoder().encodeToString(plaintextKey),
                e);
          }
        }
      };
    }
  }

  /**
   * Not thread-safe: each thread's first data key goes through one shared buffer, and the threads
   * meet at a barrier between writing and reading it, so every thread reads the last thread's key
   * (deterministic: all threads must be inside at once, which only a concurrent caller achieves).
   */
  static class SharesABuffer extends Broken {
    @Override
    KeyProvider breakIt(KeyProvider fake) {
      CyclicBarrier inside = new CyclicBarrier(threads());
      ThreadLocal<Boolean> first = ThreadLocal.withInitial(() -> true);
      byte[][] buffer = {new byte[32]};
      return new Forwarding(fake) {
        @Override
        public GeneratedDataKey generateDataKey(String keyId, EncryptionContext context) {
          GeneratedDataKey d = super.generateDataKey(keyId, context);
          if (!first.get()) {
            return d;
          }
          first.set(false);
          synchronized (buffer) {
            buffer[0] = d.copyPlaintextKey();
          }
          try {
            inside.await(30, TimeUnit.SECONDS);
          } catch (Exception e) {
            throw new IllegalStateException("the threads never met", e);
          }
          byte[] shared;
          synchronized (buffer) {
            shared = buffer[0].clone();
          }
          return new GeneratedDataKey(shared, d.wrapped());
        }
      };
    }
  }
}
