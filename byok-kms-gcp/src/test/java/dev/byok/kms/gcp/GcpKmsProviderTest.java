package dev.byok.kms.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.ByokConfigurationException;
import dev.byok.EncryptionContext;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.kms.local.gcp.GcpKms;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.KeyState;
import dev.byok.spi.RotationStatus;
import dev.byok.spi.WrappedKey;
import dev.byok.testkit.conformance.Fault;
import io.grpc.Status;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link GcpKmsProvider} through the official Cloud KMS client over grpc-inprocess to the test
 * server: round trip, context binding, every failure class, rotation, CRC32C integrity and
 * concurrency.
 */
class GcpKmsProviderTest {
  private static final EncryptionContext CTX =
      EncryptionContext.of("tenant", "acme", "table", "t1");

  private GcpKmsFixture f;
  private KeyProvider p;

  @BeforeEach
  void open() {
    f = new GcpKmsFixture();
    p = f.provider();
  }

  @AfterEach
  void close() {
    f.close();
  }

  @Test
  void generateRecordsThePrimaryVersionAndDecryptsWithIt() {
    String key = f.newKey();
    GeneratedDataKey dk = p.generateDataKey(key, CTX);
    assertThat(dk.keyArn()).isEqualTo(key + "/cryptoKeyVersions/1");
    assertThat(dk.keyMaterialId()).isNull();
    byte[] plaintext = dk.copyPlaintextKey();
    assertThat(plaintext).hasSize(32);
    assertThat(p.decrypt(dk.keyArn(), dk.wrapped().ciphertext(), CTX)).isEqualTo(plaintext);
    assertThat(f.kms().calls("Encrypt")).isEqualTo(1);
    assertThat(f.kms().calls("Decrypt")).isEqualTo(1);
    assertThat(p.generateDataKey(key, CTX).copyPlaintextKey())
        .as("fresh random data keys")
        .isNotEqualTo(plaintext);
  }

  @Test
  void encryptUnderAVersionNameUsesThatVersion() {
    String key = f.newKey();
    f.rotate(key);
    byte[] data = new byte[32];
    Arrays.fill(data, (byte) 7);
    WrappedKey w = p.encrypt(key + "/cryptoKeyVersions/1", data, CTX);
    assertThat(w.keyArn()).isEqualTo(key + "/cryptoKeyVersions/1");
    WrappedKey primary = p.encrypt(key, data, CTX);
    assertThat(primary.keyArn()).isEqualTo(key + "/cryptoKeyVersions/2");
    assertThat(p.decrypt(w.keyArn(), w.ciphertext(), CTX)).isEqualTo(data);
    assertThat(p.decrypt(primary.keyArn(), primary.ciphertext(), CTX)).isEqualTo(data);
  }

  @Test
  void anotherContextAFlippedBitOrAnotherKeysCiphertextIsRejected() {
    String key = f.newKey();
    String other = f.newKey();
    GeneratedDataKey dk = p.generateDataKey(key, CTX);
    byte[] wrapped = dk.wrapped().ciphertext();
    assertRejected(
        () ->
            p.decrypt(dk.keyArn(), wrapped, EncryptionContext.of("tenant", "acme", "table", "t2")));
    assertRejected(() -> p.decrypt(dk.keyArn(), wrapped, EncryptionContext.empty()));
    byte[] flipped = wrapped.clone();
    flipped[flipped.length / 2] ^= 1;
    assertRejected(() -> p.decrypt(dk.keyArn(), flipped, CTX));
    assertRejected(() -> p.decrypt(other + "/cryptoKeyVersions/1", wrapped, CTX));
    assertRejected(() -> p.decrypt(dk.keyArn(), new byte[] {1, 2, 3}, CTX));
    assertThat(p.decrypt(dk.keyArn(), wrapped, CTX)).isEqualTo(dk.copyPlaintextKey());
  }

  private static void assertRejected(ThrowingCallable call) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            InvalidCiphertextException.class,
            e ->
                assertThat(e.reason())
                    .isEqualTo(InvalidCiphertextException.Reason.WRAPPED_KEY_REJECTED));
  }

  @Test
  void malformedNamesAreConfigurationErrorsWithoutAKmsCall() {
    String key = f.newKey();
    GeneratedDataKey dk = p.generateDataKey(key, CTX);
    int calls = f.kms().calls("Encrypt") + f.kms().calls("Decrypt");
    for (String bad :
        List.of(
            "alias/x",
            "projects/p/locations/global/keyRings/r",
            "projects/Bad_Project/locations/global/keyRings/r/cryptoKeys/k",
            "projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/0",
            "projects/p/locations/global/keyRings/r/cryptoKeys/k/",
            "")) {
      assertThatThrownBy(() -> p.generateDataKey(bad, CTX))
          .isInstanceOf(ByokConfigurationException.class)
          .hasMessageContaining("'" + bad + "'");
      assertThatThrownBy(() -> p.describeKey(bad)).isInstanceOf(ByokConfigurationException.class);
    }
    assertThatThrownBy(() -> p.decrypt(key, dk.wrapped().ciphertext(), CTX))
        .as("a slot records a version, never the CryptoKey")
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining("CryptoKeyVersion");
    assertThat(f.kms().calls("Encrypt") + f.kms().calls("Decrypt")).isEqualTo(calls);
  }

  @Test
  void aDisabledKeyIsUnusableUntilEnabledAgain() {
    String key = f.newKey();
    GeneratedDataKey dk = p.generateDataKey(key, CTX);
    f.disable(key);
    assertUnusable(() -> p.generateDataKey(key, CTX), KeyUnusableException.Reason.DISABLED);
    assertUnusable(
        () -> p.decrypt(dk.keyArn(), dk.wrapped().ciphertext(), CTX),
        KeyUnusableException.Reason.DISABLED);
    assertThat(p.describeKey(key))
        .isEqualTo(new KeyDescription(dk.keyArn(), KeyState.DISABLED, null, null));
    f.enable(key);
    assertThat(p.describeKey(key).state()).isEqualTo(KeyState.ENABLED);
    assertThat(p.decrypt(dk.keyArn(), dk.wrapped().ciphertext(), CTX))
        .isEqualTo(dk.copyPlaintextKey());
  }

  @Test
  void destroyScheduledIsPendingDeletionWithTheDestroyTimeThenDestroyedIsGone() {
    String key = f.newKey();
    String v1 = key + "/cryptoKeyVersions/1";
    GeneratedDataKey dk = p.generateDataKey(key, CTX);
    Instant now = f.clock().instant();
    f.destroy(key);
    assertThat(p.describeKey(key))
        .isEqualTo(
            new KeyDescription(v1, KeyState.PENDING_DELETION, now.plus(Duration.ofDays(30)), null));
    assertThat(p.describeKey(v1).state()).isEqualTo(KeyState.PENDING_DELETION);
    assertUnusable(
        () -> p.decrypt(v1, dk.wrapped().ciphertext(), CTX),
        KeyUnusableException.Reason.PENDING_DELETION);

    f.kms().restore(v1);
    assertThat(p.describeKey(key).state())
        .as("a restored version is DISABLED, as in Cloud KMS")
        .isEqualTo(KeyState.DISABLED);
    f.kms().scheduleDestroy(v1);
    f.kms().completeDestruction(v1);
    assertThat(p.describeKey(v1))
        .isEqualTo(new KeyDescription(v1, KeyState.UNAVAILABLE, null, null));
    assertUnusable(
        () -> p.decrypt(v1, dk.wrapped().ciphertext(), CTX), KeyUnusableException.Reason.NOT_FOUND);
  }

  @Test
  void revokedAccessIsAccessDeniedForEveryCallUntilRestored() {
    String key = f.newKey();
    GeneratedDataKey dk = p.generateDataKey(key, CTX);
    f.revokeAccess(key);
    KeyUnusableException.Reason denied = KeyUnusableException.Reason.ACCESS_DENIED;
    assertUnusable(() -> p.generateDataKey(key, CTX), denied);
    assertUnusable(() -> p.decrypt(dk.keyArn(), dk.wrapped().ciphertext(), CTX), denied);
    assertUnusable(() -> p.describeKey(key), denied);
    assertUnusable(() -> p.describeKey(dk.keyArn()), denied);
    assertUnusable(() -> p.rotationStatus(key), denied);
    f.restoreAccess(key);
    assertThat(p.decrypt(dk.keyArn(), dk.wrapped().ciphertext(), CTX))
        .isEqualTo(dk.copyPlaintextKey());
  }

  @Test
  void anUnknownKeyOrVersionIsNotFound() {
    String key = f.newKey();
    String ring = key.substring(0, key.indexOf("/cryptoKeys/"));
    KeyUnusableException.Reason notFound = KeyUnusableException.Reason.NOT_FOUND;
    assertUnusable(() -> p.generateDataKey(ring + "/cryptoKeys/nope", CTX), notFound);
    assertUnusable(() -> p.describeKey(ring + "/cryptoKeys/nope"), notFound);
    assertUnusable(() -> p.describeKey(key + "/cryptoKeyVersions/9"), notFound);
    assertUnusable(() -> p.generateDataKey(key + "/cryptoKeyVersions/9", CTX), notFound);
  }

  static void assertUnusable(ThrowingCallable call, KeyUnusableException.Reason reason) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            KeyUnusableException.class, e -> assertThat(e.reason()).isEqualTo(reason))
        .hasNoSuppressedExceptions()
        .satisfies(e -> assertThat(e.getCause()).isNotNull());
  }

  @Test
  void rotationIsANewResolvedKeyInDescribeAndOldBlobsStillDecrypt() {
    String key = f.newKey();
    GeneratedDataKey before = p.generateDataKey(key, CTX);
    assertThat(p.describeKey(key).keyArn()).isEqualTo(key + "/cryptoKeyVersions/1");
    f.rotate(key);
    KeyDescription d = p.describeKey(key);
    assertThat(d.keyArn()).isEqualTo(key + "/cryptoKeyVersions/2");
    assertThat(d.state()).isEqualTo(KeyState.ENABLED);
    GeneratedDataKey after = p.generateDataKey(key, CTX);
    assertThat(after.keyArn()).isEqualTo(key + "/cryptoKeyVersions/2");
    assertThat(p.decrypt(before.keyArn(), before.wrapped().ciphertext(), CTX))
        .isEqualTo(before.copyPlaintextKey());
    assertThat(p.decrypt(after.keyArn(), after.wrapped().ciphertext(), CTX))
        .isEqualTo(after.copyPlaintextKey());
    // disabling the old version only: new blobs fine, old blobs locked (versions are the keys)
    f.kms().setEnabled(before.keyArn(), false);
    assertUnusable(
        () -> p.decrypt(before.keyArn(), before.wrapped().ciphertext(), CTX),
        KeyUnusableException.Reason.DISABLED);
    assertThat(p.describeKey(before.keyArn()).state()).isEqualTo(KeyState.DISABLED);
    assertThat(p.describeKey(key).state()).isEqualTo(KeyState.ENABLED);
  }

  @Test
  void rotationStatusReportsTheCryptoKeysSchedule() {
    String key = f.newKey();
    assertThat(p.rotationStatus(key).enabled()).isFalse();
    Instant next = Instant.parse("2030-03-01T00:00:00Z");
    f.kms().setRotationSchedule(key, Duration.ofDays(90), next);
    RotationStatus r = p.rotationStatus(key + "/cryptoKeyVersions/1");
    assertThat(r.enabled()).isTrue();
    assertThat(r.periodDays()).isEqualTo(90);
    assertThat(r.nextRotation()).isEqualTo(next);
  }

  @Test
  void theClientRetriesUnavailableItselfAndAnOutageOutlastingItIsTransient() {
    String key = f.newKey();
    f.failNext(GcpKmsFixture.ATTEMPTS - 1, Fault.UNAVAILABLE);
    assertThat(p.generateDataKey(key, CTX).keyArn()).endsWith("/cryptoKeyVersions/1");
    assertThat(f.kms().calls("Encrypt")).isEqualTo(GcpKmsFixture.ATTEMPTS);

    f.failNext(GcpKmsFixture.ATTEMPTS, Fault.UNAVAILABLE);
    assertThatThrownBy(() -> p.generateDataKey(key, CTX))
        .isInstanceOfSatisfying(
            KmsUnavailableException.class, e -> assertThat(e.throttled()).isFalse())
        .hasMessageContaining("UNAVAILABLE");
    assertThat(f.kms().calls("Encrypt")).isEqualTo(2 * GcpKmsFixture.ATTEMPTS);
  }

  @Test
  void resourceExhaustedIsThrottledAndNotRetriedByDefault() {
    String key = f.newKey();
    f.failNext(1, Fault.THROTTLED);
    assertThatThrownBy(() -> p.describeKey(key))
        .isInstanceOfSatisfying(
            KmsUnavailableException.class, e -> assertThat(e.throttled()).isTrue());
    assertThat(f.kms().calls("GetCryptoKey")).isEqualTo(1);
    assertThat(p.describeKey(key).state()).isEqualTo(KeyState.ENABLED);
  }

  @ParameterizedTest
  @EnumSource(
      value = Status.Code.class,
      names = {"DEADLINE_EXCEEDED", "INTERNAL", "UNAUTHENTICATED", "ABORTED", "UNKNOWN"})
  void otherTransientStatusesAreUnavailable(Status.Code code) {
    String key = f.newKey();
    GeneratedDataKey dk = p.generateDataKey(key, CTX);
    f.kms().failNext(GcpKmsFixture.ATTEMPTS, code);
    assertThatThrownBy(() -> p.decrypt(dk.keyArn(), dk.wrapped().ciphertext(), CTX))
        .isInstanceOf(KmsUnavailableException.class)
        .hasMessageContaining(code.name());
    f.kms().failNext(0, code);
  }

  @ParameterizedTest
  @EnumSource(GcpKms.Corruption.class)
  void aCorruptedResponseFailsTheCrc32cCheckAndNothingIsReturned(GcpKms.Corruption c) {
    String key = f.newKey();
    GeneratedDataKey dk = p.generateDataKey(key, CTX);
    f.kms().corruptNext(c);
    ThrowingCallable call =
        c == GcpKms.Corruption.DECRYPT_PLAINTEXT
            ? () -> p.decrypt(dk.keyArn(), dk.wrapped().ciphertext(), CTX)
            : () -> p.generateDataKey(key, CTX);
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            KmsUnavailableException.class, e -> assertThat(e.retryable()).isTrue())
        .hasMessageContaining("integrity check failed")
        .hasMessageContaining("CRC32C");
    // one-shot: the next call is fine
    assertThat(p.decrypt(dk.keyArn(), dk.wrapped().ciphertext(), CTX))
        .isEqualTo(dk.copyPlaintextKey());
  }

  @Test
  void keyMaterialNeverAppearsInToStringOrExceptions() {
    String key = f.newKey();
    GeneratedDataKey dk = p.generateDataKey(key, CTX);
    byte[] plain = dk.copyPlaintextKey();
    List<String> texts = new ArrayList<>();
    texts.add(dk.toString());
    texts.add(dk.wrapped().toString());
    texts.add(p.toString());
    texts.add(p.describeKey(key).toString());
    f.kms().corruptNext(GcpKms.Corruption.DECRYPT_PLAINTEXT);
    collect(texts, () -> p.decrypt(dk.keyArn(), dk.wrapped().ciphertext(), CTX));
    f.disable(key);
    collect(texts, () -> p.decrypt(dk.keyArn(), dk.wrapped().ciphertext(), CTX));
    collect(texts, () -> p.encrypt(key, plain, CTX));
    String hex = HexFormat.of().formatHex(plain);
    String b64 = Base64.getEncoder().encodeToString(plain);
    for (String t : texts) {
      assertThat(t).doesNotContainIgnoringCase(hex).doesNotContain(b64);
    }
    assertThat(texts).hasSize(7);
  }

  private static void collect(List<String> texts, ThrowingCallable call) {
    try {
      call.call();
    } catch (Throwable t) {
      StringBuilder all = new StringBuilder();
      for (Throwable c = t; c != null; c = c.getCause()) {
        all.append(c).append('\n');
      }
      texts.add(all.toString());
      return;
    }
    throw new AssertionError("expected a failure");
  }

  @Test
  void manyThreadsGenerateAndDecryptConcurrently() throws Exception {
    String a = f.newKey();
    String b = f.newKey();
    int threads = 8;
    int perThread = 25;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<List<String>>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        String key = t % 2 == 0 ? a : b;
        EncryptionContext ctx = EncryptionContext.of("thread", Integer.toString(t));
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  List<String> seen = new ArrayList<>();
                  for (int i = 0; i < perThread; i++) {
                    GeneratedDataKey dk = p.generateDataKey(key, ctx);
                    byte[] back = p.decrypt(dk.keyArn(), dk.wrapped().ciphertext(), ctx);
                    if (!Arrays.equals(back, dk.copyPlaintextKey())) {
                      throw new AssertionError("round trip failed on " + key);
                    }
                    seen.add(HexFormat.of().formatHex(back));
                  }
                  return seen;
                }));
      }
      start.countDown();
      Set<String> all = new HashSet<>();
      for (Future<List<String>> r : results) {
        all.addAll(r.get(60, TimeUnit.SECONDS));
      }
      assertThat(all).as("every data key distinct").hasSize(threads * perThread);
      assertThat(f.kms().calls("Encrypt")).isEqualTo(threads * perThread);
      assertThat(f.kms().calls("Decrypt")).isEqualTo(threads * perThread);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void theBuilderFailsFastAndACallersClientIsNotClosed() {
    assertThatThrownBy(() -> GcpKmsProvider.builder().client(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("client");
    assertThatThrownBy(
            () ->
                GcpKmsProvider.builder()
                    .client(f.client())
                    .settings(f.client().getSettings())
                    .build())
        .isInstanceOf(IllegalStateException.class);
    try (GcpKmsProvider own = GcpKmsProvider.builder().client(f.client()).build()) {
      assertThat(own.providerId()).isEqualTo("gcp-kms");
    }
    assertThat(f.client().isShutdown()).isFalse();
    String key = f.newKey();
    assertThat(p.describeKey(key).state()).isEqualTo(KeyState.ENABLED);
  }
}
