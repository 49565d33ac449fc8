package dev.byok.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.ByokConfigurationException;
import dev.byok.EncryptionContext;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.kms.local.InMemoryKms;
import dev.byok.kms.local.LocalKmsException;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.KeyState;
import dev.byok.spi.RotationStatus;
import dev.byok.spi.WrappedKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link FakeKms} as a byok {@link KeyProvider}: behaviour and the error translation table. */
class FakeKmsTest {
  private static final EncryptionContext CTX =
      EncryptionContext.of("tenant", "t1", "repository", "snapshots");

  @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();

  private FakeKms kms() {
    return fake.kms();
  }

  private String newKey() {
    return fake.api().createKey().arn();
  }

  @Test
  void providerIdDefaultsToFakeKmsAndIsConfigurable() {
    assertThat(kms().providerId()).isEqualTo("fake-kms");
    assertThat(FakeKms.builder().providerId("local-kms").build().providerId())
        .isEqualTo("local-kms");
    assertThatIllegalArgumentException().isThrownBy(() -> FakeKms.builder().providerId("Fake KMS"));
    assertThatIllegalArgumentException().isThrownBy(() -> FakeKms.builder().region("Mars"));
    assertThatIllegalArgumentException().isThrownBy(() -> FakeKms.builder().accountId("123"));
    assertThat(kms().supportsReEncrypt()).isTrue();
  }

  @Test
  void generateThroughAnAliasAndDecryptWithTheResolvedArn() {
    String arn = newKey();
    fake.api().createAlias("alias/snapshots", arn);

    GeneratedDataKey dek = kms().generateDataKey("alias/snapshots", CTX);

    assertThat(dek.keyArn()).isEqualTo(arn);
    assertThat(dek.keyMaterialId()).isEqualTo(fake.api().describeKey(arn).currentKeyMaterialId());
    assertThat(kms().decrypt(arn, dek.wrapped().ciphertext(), CTX))
        .isEqualTo(dek.copyPlaintextKey());
    assertThat(fake.api().callLog())
        .extracting(InMemoryKms.Call::operation)
        .containsSubsequence("GenerateDataKey", "Decrypt");
  }

  @Test
  void encryptWrapsAnExistingDataKeyUnderASecondKey() {
    String first = newKey();
    String second = newKey();
    GeneratedDataKey dek = kms().generateDataKey(first, CTX);

    WrappedKey slot = kms().encrypt(second, dek.copyPlaintextKey(), CTX);

    assertThat(slot.keyArn()).isEqualTo(second);
    assertThat(kms().decrypt(second, slot.ciphertext(), CTX)).isEqualTo(dek.copyPlaintextKey());
  }

  @Test
  void decryptRejectsASlotThatNamesAnAliasInsteadOfTheArn() {
    String arn = newKey();
    fake.api().createAlias("alias/app", arn);
    GeneratedDataKey dek = kms().generateDataKey(arn, CTX);

    assertThatThrownBy(() -> kms().decrypt("alias/app", dek.wrapped().ciphertext(), CTX))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining(arn)
        .hasMessageContaining("alias/app");
  }

  @Test
  void reEncryptMovesTheWrappedKeyAndChecksTheSource() {
    String source = newKey();
    String destination = newKey();
    GeneratedDataKey dek = kms().generateDataKey(source, CTX);

    WrappedKey moved = kms().reEncrypt(source, dek.wrapped().ciphertext(), destination, CTX);

    assertThat(moved.keyArn()).isEqualTo(destination);
    assertThat(kms().decrypt(destination, moved.ciphertext(), CTX))
        .isEqualTo(dek.copyPlaintextKey());
    assertThatThrownBy(
            () -> kms().reEncrypt(destination, dek.wrapped().ciphertext(), destination, CTX))
        .isInstanceOf(ByokConfigurationException.class);
  }

  @Test
  void describeReportsDisabledAndPendingDeletionKeysInsteadOfThrowing() {
    String arn = newKey();
    fake.api().createAlias("alias/app", arn);
    fake.api().disableKey(arn);
    assertThat(kms().describeKey("alias/app").state()).isEqualTo(KeyState.DISABLED);

    fake.api().scheduleKeyDeletion(arn, 10);

    KeyDescription d = kms().describeKey("alias/app");
    assertThat(d.keyArn()).isEqualTo(arn);
    assertThat(d.state()).isEqualTo(KeyState.PENDING_DELETION);
    assertThat(d.deletionDate()).isEqualTo(fake.clock().instant().plus(Duration.ofDays(10)));
    assertThat(d.currentKeyMaterialId()).matches("[0-9a-f]{64}");
  }

  @Test
  void rotationStatusResolvesAnAliasWithDescribeKeyFirst() {
    String arn = newKey();
    fake.api().createAlias("alias/app", arn);
    fake.api().enableKeyRotation(arn, 180);

    RotationStatus s = kms().rotationStatus("alias/app");

    assertThat(s.enabled()).isTrue();
    assertThat(s.periodDays()).isEqualTo(180);
    assertThat(s.nextRotation()).isEqualTo(fake.clock().instant().plus(Duration.ofDays(180)));
    assertThat(fake.api().calls("DescribeKey")).isEqualTo(1);
    assertThat(kms().rotationStatus(arn).enabled()).isTrue();
    assertThat(fake.api().calls("DescribeKey")).isEqualTo(1);
    assertThat(fake.api().calls("GetKeyRotationStatus")).isEqualTo(2);
  }

  @Test
  void inPlaceRotationKeepsOldSlotsDecryptingAndReportsTheNewMaterial() {
    String arn = newKey();
    GeneratedDataKey before = kms().generateDataKey(arn, CTX);

    fake.api().rotateKeyOnDemand(arn);
    GeneratedDataKey after = kms().generateDataKey(arn, CTX);

    assertThat(after.keyArn()).isEqualTo(before.keyArn());
    assertThat(after.keyMaterialId()).isNotEqualTo(before.keyMaterialId());
    assertThat(kms().describeKey(arn).currentKeyMaterialId()).isEqualTo(after.keyMaterialId());
    assertThat(kms().decrypt(arn, before.wrapped().ciphertext(), CTX))
        .isEqualTo(before.copyPlaintextKey());
  }

  // ------------------------------------------------------------------ the translation table

  /**
   * The expected translation of each AWS error code, written out independently of the code under
   * test.
   */
  private static final Map<String, Consumer<Throwable>> EXPECTED =
      Map.ofEntries(
          Map.entry("ThrottlingException", transient_(true)),
          Map.entry("KMSInternalException", transient_(false)),
          Map.entry("DependencyTimeoutException", transient_(false)),
          Map.entry("KeyUnavailableException", transient_(false)),
          Map.entry("DisabledException", unusable(KeyUnusableException.Reason.DISABLED)),
          // scripted on an Enabled key: the state gives no better reason
          Map.entry("KMSInvalidStateException", unusable(KeyUnusableException.Reason.UNAVAILABLE)),
          Map.entry("NotFoundException", unusable(KeyUnusableException.Reason.NOT_FOUND)),
          Map.entry("AccessDeniedException", unusable(KeyUnusableException.Reason.ACCESS_DENIED)),
          Map.entry("InvalidCiphertextException", FakeKmsTest::rejected),
          Map.entry("IncorrectKeyException", FakeKmsTest::callerBug),
          Map.entry("InvalidKeyUsageException", FakeKmsTest::callerBug),
          Map.entry("InvalidArnException", FakeKmsTest::callerBug),
          Map.entry("ValidationException", FakeKmsTest::callerBug),
          Map.entry("InvalidAliasNameException", FakeKmsTest::callerBug),
          Map.entry("AlreadyExistsException", FakeKmsTest::callerBug),
          Map.entry("UnsupportedOperationException", FakeKmsTest::callerBug),
          Map.entry("LimitExceededException", FakeKmsTest::callerBug),
          Map.entry("MalformedPolicyDocumentException", FakeKmsTest::callerBug),
          Map.entry("InvalidGrantTokenException", FakeKmsTest::callerBug));

  private static Consumer<Throwable> transient_(boolean throttled) {
    return e -> {
      assertThat(e).isInstanceOf(KmsUnavailableException.class);
      assertThat(((KmsUnavailableException) e).throttled()).isEqualTo(throttled);
      assertThat(((KmsUnavailableException) e).retryable()).isTrue();
    };
  }

  private static Consumer<Throwable> unusable(KeyUnusableException.Reason reason) {
    return e -> {
      assertThat(e).isInstanceOf(KeyUnusableException.class);
      assertThat(((KeyUnusableException) e).reason()).isEqualTo(reason);
      assertThat(((KeyUnusableException) e).retryable()).isFalse();
    };
  }

  private static void rejected(Throwable e) {
    assertThat(e).isInstanceOf(InvalidCiphertextException.class);
    assertThat(((InvalidCiphertextException) e).reason())
        .isEqualTo(InvalidCiphertextException.Reason.WRAPPED_KEY_REJECTED);
  }

  private static void callerBug(Throwable e) {
    assertThat(e).isInstanceOf(ByokConfigurationException.class);
  }

  static Stream<Arguments> everyCodeOnEveryProviderCall() {
    List<Arguments> out = new ArrayList<>();
    for (String code : LocalKmsException.errorCodes()) {
      for (String operation :
          List.of(
              "GenerateDataKey",
              "Encrypt",
              "Decrypt",
              "ReEncrypt",
              "DescribeKey",
              "GetKeyRotationStatus")) {
        out.add(Arguments.of(code, operation));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{1} failing with {0}")
  @MethodSource("everyCodeOnEveryProviderCall")
  void everyErrorCodeIsTranslatedThroughTheTable(String code, String operation) {
    String arn = newKey();
    GeneratedDataKey dek = kms().generateDataKey(arn, CTX);
    Map<String, ThrowingCallable> calls =
        Map.of(
            "GenerateDataKey", () -> kms().generateDataKey(arn, CTX),
            "Encrypt", () -> kms().encrypt(arn, dek.copyPlaintextKey(), CTX),
            "Decrypt", () -> kms().decrypt(arn, dek.wrapped().ciphertext(), CTX),
            "ReEncrypt", () -> kms().reEncrypt(arn, dek.wrapped().ciphertext(), arn, CTX),
            "DescribeKey", () -> kms().describeKey(arn),
            "GetKeyRotationStatus", () -> kms().rotationStatus(arn));
    fake.api().failNext(operation, code);

    assertThat(EXPECTED).as("expected translation for %s", code).containsKey(code);
    assertThatThrownBy(calls.get(operation))
        .satisfies(EXPECTED.get(code)::accept)
        .satisfies(e -> assertThat(e.getCause()).isInstanceOf(LocalKmsException.class))
        .satisfies(e -> assertThat(((LocalKmsException) e.getCause()).errorCode()).isEqualTo(code));
  }

  @Test
  void realKeyStatesTranslateToTheirReasons() {
    String arn = newKey();
    GeneratedDataKey dek = kms().generateDataKey(arn, CTX);
    byte[] wrapped = dek.wrapped().ciphertext();

    fake.api().disableKey(arn);
    assertUnusable(
        () -> kms().decrypt(arn, wrapped, CTX), KeyUnusableException.Reason.DISABLED, arn);
    fake.api().forceKeyState(arn, KeyState.PENDING_IMPORT);
    assertUnusable(
        () -> kms().decrypt(arn, wrapped, CTX), KeyUnusableException.Reason.PENDING_IMPORT, arn);
    fake.api().forceKeyState(arn, KeyState.UNAVAILABLE);
    assertUnusable(
        () -> kms().generateDataKey(arn, CTX), KeyUnusableException.Reason.UNAVAILABLE, arn);
    fake.api().forceKeyState(arn, KeyState.ENABLED);
    fake.api().denyAccess(arn, true);
    assertUnusable(() -> kms().describeKey(arn), KeyUnusableException.Reason.ACCESS_DENIED, arn);
    fake.api().denyAccess(arn, false);
    fake.api().scheduleKeyDeletion(arn, 7);
    assertUnusable(
        () -> kms().decrypt(arn, wrapped, CTX), KeyUnusableException.Reason.PENDING_DELETION, arn);
    fake.clock().advance(Duration.ofDays(7));
    assertUnusable(
        () -> kms().decrypt(arn, wrapped, CTX), KeyUnusableException.Reason.NOT_FOUND, arn);
    assertUnusable(() -> kms().describeKey(arn), KeyUnusableException.Reason.NOT_FOUND, arn);
  }

  @Test
  void scriptedInvalidStateTakesItsReasonFromTheKeysState() {
    String arn = newKey();
    fake.api().scheduleKeyDeletion(arn, 7);
    fake.api().failNext("DescribeKey", LocalKmsException.INVALID_STATE);

    assertUnusable(() -> kms().describeKey(arn), KeyUnusableException.Reason.PENDING_DELETION, arn);
  }

  @Test
  void contextMismatchTamperingAndWrongKeyAreNotKeyProblems() {
    String arn = newKey();
    String other = newKey();
    GeneratedDataKey dek = kms().generateDataKey(arn, CTX);
    byte[] tampered = dek.wrapped().ciphertext();
    tampered[tampered.length - 1] ^= 1;

    assertThatThrownBy(
            () ->
                kms()
                    .decrypt(arn, dek.wrapped().ciphertext(), EncryptionContext.of("tenant", "t2")))
        .satisfies(FakeKmsTest::rejected);
    assertThatThrownBy(() -> kms().decrypt(arn, tampered, CTX)).satisfies(FakeKmsTest::rejected);
    assertThatThrownBy(() -> kms().decrypt(other, dek.wrapped().ciphertext(), CTX))
        .satisfies(FakeKmsTest::callerBug)
        .hasMessageContaining("IncorrectKeyException");
    assertThatThrownBy(() -> kms().describeKey("arn:aws:kms:nowhere"))
        .satisfies(FakeKmsTest::callerBug)
        .hasMessageContaining("InvalidArnException");
  }

  @Test
  void throttlingAndOutagesAreTransient() {
    String arn = newKey();
    fake.api().throttle(1, 7);
    assertThatThrownBy(() -> kms().generateDataKey(arn, CTX)).satisfies(transient_(true)::accept);
    fake.api().throttle(0, 7);
    fake.api().startOutage(LocalKmsException.DEPENDENCY_TIMEOUT);
    assertThatThrownBy(() -> kms().describeKey(arn)).satisfies(transient_(false)::accept);
    fake.api().endOutage();
    assertThat(kms().describeKey(arn).state()).isEqualTo(KeyState.ENABLED);
  }

  private static void assertUnusable(
      ThrowingCallable call, KeyUnusableException.Reason reason, String arn) {
    assertThatThrownBy(call)
        .satisfies(unusable(reason)::accept)
        .satisfies(e -> assertThat(((KeyUnusableException) e).keyId()).isEqualTo(arn));
  }

  // ------------------------------------------------------------------ concurrency

  @Test
  void thirtyTwoThreadsGeneratingAndDecryptingSeeConsistentResults() throws Exception {
    int threads = 32;
    int rounds = 20;
    String arn = newKey();
    fake.api().createAlias("alias/shared", arn);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        EncryptionContext ctx = EncryptionContext.of("thread", Integer.toString(t));
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  int ok = 0;
                  for (int r = 0; r < rounds; r++) {
                    GeneratedDataKey dek = kms().generateDataKey("alias/shared", ctx);
                    byte[] unwrapped = kms().decrypt(dek.keyArn(), dek.wrapped().ciphertext(), ctx);
                    if (dek.keyArn().equals(arn)
                        && Arrays.equals(unwrapped, dek.copyPlaintextKey())) {
                      ok++;
                    }
                  }
                  return ok;
                }));
      }
      start.countDown();
      for (Future<Integer> f : results) {
        assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(rounds);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(fake.api().calls("GenerateDataKey", InMemoryKms.OK)).isEqualTo(threads * rounds);
    assertThat(fake.api().calls("Decrypt", InMemoryKms.OK)).isEqualTo(threads * rounds);
    assertThat(fake.api().callLog()).hasSize(2 + 2 * threads * rounds);
  }
}
