package dev.byok.kms.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.Byok;
import dev.byok.ByokConfigurationException;
import dev.byok.EncryptionContext;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.kms.local.InMemoryKms;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.KeyState;
import dev.byok.spi.RotationStatus;
import dev.byok.spi.WrappedKey;
import java.io.IOException;
import java.time.Duration;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The conformance suite: the same scenarios, with the same expected outcomes and exception classes
 * and reasons, run against {@code FakeKms} directly ({@link FakeKmsConformanceTest}) and against
 * {@link AwsKmsProvider} through the real SDK and {@code LocalKmsServer} ({@link
 * AwsKmsProviderConformanceTest}). Both sides drive the same fake state, so what the fake's control
 * layer does is seen by either provider.
 */
abstract class KmsProviderConformance {
  static final EncryptionContext CTX = EncryptionContext.of("tenant", "acme", "repository", "r1");

  LocalKms world;
  KeyProvider provider;
  InMemoryKms api;

  /**
   * @return the provider under test over {@code world}
   */
  abstract KeyProvider provider(LocalKms world);

  /**
   * @return how many times one provider call reaches the fake when every attempt fails transiently
   */
  abstract int attemptsPerCall();

  @BeforeEach
  void openWorld() {
    world = new LocalKms(AwsKmsProvider.PROVIDER_ID); // both providers write "aws-kms" slots
    provider = provider(world);
    api = world.api();
  }

  @AfterEach
  void closeWorld() {
    world.close();
  }

  @Test
  void generateUnderAnAliasRecordsTheKeyArnAndMaterialAndDecryptsWithTheSlotArn() {
    String arn = world.newKey();
    api.createAlias("alias/app", arn);
    GeneratedDataKey dek = provider.generateDataKey("alias/app", CTX);
    assertThat(dek.keyArn()).isEqualTo(arn);
    assertThat(dek.keyMaterialId()).isEqualTo(api.describeKey(arn).currentKeyMaterialId());
    assertThat(dek.copyPlaintextKey()).hasSize(32);

    api.resetCallLog();
    assertThat(provider.decrypt(arn, dek.wrapped().ciphertext(), CTX))
        .isEqualTo(dek.copyPlaintextKey());
    assertThat(api.callLog()).containsExactly(new InMemoryKms.Call("Decrypt", arn, InMemoryKms.OK));
  }

  @Test
  void encryptAddsASlotUnderAnotherKey() {
    GeneratedDataKey dek = provider.generateDataKey(world.newKey(), CTX);
    String second = world.newKey();
    WrappedKey slot = provider.encrypt(second, dek.copyPlaintextKey(), CTX);
    assertThat(slot.keyArn()).isEqualTo(second);
    assertThat(provider.decrypt(second, slot.ciphertext(), CTX)).isEqualTo(dek.copyPlaintextKey());
  }

  @Test
  void aContextMismatchOrAFlippedBitIsACorruptWrappedKey() {
    GeneratedDataKey dek = provider.generateDataKey(world.newKey(), CTX);
    byte[] flipped = dek.wrapped().ciphertext();
    flipped[flipped.length - 1] ^= 1;
    for (ThrowingCallable call :
        new ThrowingCallable[] {
          () ->
              provider.decrypt(
                  dek.keyArn(),
                  dek.wrapped().ciphertext(),
                  EncryptionContext.of("tenant", "other")),
          () ->
              provider.decrypt(dek.keyArn(), dek.wrapped().ciphertext(), EncryptionContext.empty()),
          () -> provider.decrypt(dek.keyArn(), flipped, CTX)
        }) {
      assertThatThrownBy(call)
          .isInstanceOfSatisfying(
              InvalidCiphertextException.class,
              e ->
                  assertThat(e.reason())
                      .isEqualTo(InvalidCiphertextException.Reason.WRAPPED_KEY_REJECTED));
    }
  }

  @Test
  void aSlotNamingAnotherKeyOrAnAliasIsAConfigurationError() {
    String arn = world.newKey();
    api.createAlias("alias/app", arn);
    GeneratedDataKey dek = provider.generateDataKey(arn, CTX);
    String other = world.newKey();
    assertThatThrownBy(() -> provider.decrypt(other, dek.wrapped().ciphertext(), CTX))
        .isInstanceOf(ByokConfigurationException.class); // IncorrectKeyException
    assertThatThrownBy(() -> provider.decrypt("alias/app", dek.wrapped().ciphertext(), CTX))
        .isInstanceOf(
            ByokConfigurationException.class); // KMS answers with the key ARN, not the alias
  }

  @Test
  void aDisabledKeyIsUnusableUntilEnabledAgain() {
    GeneratedDataKey dek = provider.generateDataKey(world.newKey(), CTX);
    api.disableKey(dek.keyArn());
    assertUnusable(
        () -> provider.decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CTX),
        KeyUnusableException.Reason.DISABLED,
        dek.keyArn());
    assertUnusable(
        () -> provider.generateDataKey(dek.keyArn(), CTX),
        KeyUnusableException.Reason.DISABLED,
        dek.keyArn());
    assertThat(provider.describeKey(dek.keyArn()).state()).isEqualTo(KeyState.DISABLED);

    api.enableKey(dek.keyArn());
    assertThat(provider.decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CTX))
        .isEqualTo(dek.copyPlaintextKey());
  }

  @Test
  void aKeyPendingDeletionIsUnusableThenGoneAfterTheWindow() {
    GeneratedDataKey dek = provider.generateDataKey(world.newKey(), CTX);
    api.scheduleKeyDeletion(dek.keyArn(), 7);
    assertUnusable(
        () -> provider.decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CTX),
        KeyUnusableException.Reason.PENDING_DELETION,
        dek.keyArn());
    KeyDescription d = provider.describeKey(dek.keyArn());
    assertThat(d.state()).isEqualTo(KeyState.PENDING_DELETION);
    assertThat(d.deletionDate()).isEqualTo(world.clock.instant().plus(Duration.ofDays(7)));

    world.clock.advance(Duration.ofDays(7));
    assertUnusable(
        () -> provider.decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CTX),
        KeyUnusableException.Reason.NOT_FOUND,
        dek.keyArn());
    assertUnusable(
        () -> provider.describeKey(dek.keyArn()),
        KeyUnusableException.Reason.NOT_FOUND,
        dek.keyArn());
  }

  @Test
  void aCancelledDeletionLeavesTheKeyDisabled() {
    GeneratedDataKey dek = provider.generateDataKey(world.newKey(), CTX);
    api.scheduleKeyDeletion(dek.keyArn(), 30);
    api.cancelKeyDeletion(dek.keyArn());
    assertUnusable(
        () -> provider.decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CTX),
        KeyUnusableException.Reason.DISABLED,
        dek.keyArn());
  }

  @Test
  void pendingImportAndUnavailableKeysAreUnusableWithTheirReason() {
    GeneratedDataKey dek = provider.generateDataKey(world.newKey(), CTX);
    api.forceKeyState(dek.keyArn(), KeyState.PENDING_IMPORT);
    assertUnusable(
        () -> provider.decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CTX),
        KeyUnusableException.Reason.PENDING_IMPORT,
        dek.keyArn());
    api.forceKeyState(dek.keyArn(), KeyState.UNAVAILABLE);
    assertUnusable(
        () -> provider.decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CTX),
        KeyUnusableException.Reason.UNAVAILABLE,
        dek.keyArn());
  }

  @Test
  void revokedAccessIsUnusableAsAccessDenied() {
    GeneratedDataKey dek = provider.generateDataKey(world.newKey(), CTX);
    api.denyAccess(dek.keyArn(), true);
    assertUnusable(
        () -> provider.decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CTX),
        KeyUnusableException.Reason.ACCESS_DENIED,
        dek.keyArn());
    assertUnusable(
        () -> provider.describeKey(dek.keyArn()),
        KeyUnusableException.Reason.ACCESS_DENIED,
        dek.keyArn());
    api.denyAccess(dek.keyArn(), false);
    assertThat(provider.decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CTX))
        .isEqualTo(dek.copyPlaintextKey());
  }

  @Test
  void anUnknownKeyIsNotFound() {
    String unknown = "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-4000-8000-000000000000";
    assertUnusable(
        () -> provider.generateDataKey(unknown, CTX),
        KeyUnusableException.Reason.NOT_FOUND,
        unknown);
    assertUnusable(
        () -> provider.generateDataKey("alias/none", CTX),
        KeyUnusableException.Reason.NOT_FOUND,
        "alias/none");
  }

  @Test
  void aRetargetedAliasGeneratesUnderTheNewKeyWhileOldBlobsDecryptUnderTheOld() {
    String first = world.newKey();
    String second = world.newKey();
    api.createAlias("alias/app", first);
    GeneratedDataKey old = provider.generateDataKey("alias/app", CTX);
    api.updateAlias("alias/app", second);
    GeneratedDataKey fresh = provider.generateDataKey("alias/app", CTX);
    assertThat(old.keyArn()).isEqualTo(first);
    assertThat(fresh.keyArn()).isEqualTo(second);
    assertThat(provider.describeKey("alias/app").keyArn()).isEqualTo(second);
    assertThat(provider.decrypt(first, old.wrapped().ciphertext(), CTX))
        .isEqualTo(old.copyPlaintextKey());
    assertThat(provider.decrypt(second, fresh.wrapped().ciphertext(), CTX))
        .isEqualTo(fresh.copyPlaintextKey());
  }

  @Test
  void afterRotationNewMaterialEncryptsAndOldMaterialStillDecrypts() {
    String arn = world.newKey();
    GeneratedDataKey old = provider.generateDataKey(arn, CTX);
    api.rotateKeyOnDemand(arn);
    GeneratedDataKey fresh = provider.generateDataKey(arn, CTX);
    assertThat(fresh.keyMaterialId())
        .isNotEqualTo(old.keyMaterialId())
        .isEqualTo(provider.describeKey(arn).currentKeyMaterialId());
    assertThat(provider.decrypt(arn, old.wrapped().ciphertext(), CTX))
        .isEqualTo(old.copyPlaintextKey());
    assertThat(provider.decrypt(arn, fresh.wrapped().ciphertext(), CTX))
        .isEqualTo(fresh.copyPlaintextKey());
  }

  @Test
  void reEncryptMovesTheDataKeyToAnotherKey() {
    GeneratedDataKey dek = provider.generateDataKey(world.newKey(), CTX);
    String target = world.newKey();
    api.createAlias("alias/target", target);
    assertThat(provider.supportsReEncrypt()).isTrue();
    WrappedKey moved =
        provider.reEncrypt(dek.keyArn(), dek.wrapped().ciphertext(), "alias/target", CTX);
    assertThat(moved.keyArn()).isEqualTo(target);
    assertThat(moved.keyMaterialId()).isEqualTo(api.describeKey(target).currentKeyMaterialId());
    assertThat(provider.decrypt(target, moved.ciphertext(), CTX)).isEqualTo(dek.copyPlaintextKey());
  }

  @Test
  void rotationStatusResolvesAnAlias() {
    String arn = world.newKey();
    api.createAlias("alias/app", arn);
    assertThat(provider.rotationStatus("alias/app").enabled()).isFalse();
    api.enableKeyRotation(arn, 180);
    RotationStatus s = provider.rotationStatus("alias/app");
    assertThat(s.enabled()).isTrue();
    assertThat(s.periodDays()).isEqualTo(180);
    assertThat(s.nextRotation()).isEqualTo(world.clock.instant().plus(Duration.ofDays(180)));
  }

  @Test
  void throttlingIsTransientAndThrottledOnceEveryAttemptIsThrottled() {
    GeneratedDataKey dek = provider.generateDataKey(world.newKey(), CTX);
    for (int i = 0; i < attemptsPerCall(); i++) {
      api.failNext("Decrypt", "ThrottlingException");
    }
    assertThatThrownBy(() -> provider.decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CTX))
        .isInstanceOfSatisfying(
            KmsUnavailableException.class, e -> assertThat(e.throttled()).isTrue());
    api.checkNoUnconsumedFaults();
  }

  @Test
  void anOutageIsTransientAndNotThrottled() {
    GeneratedDataKey dek = provider.generateDataKey(world.newKey(), CTX);
    api.startOutage("DependencyTimeoutException");
    assertThatThrownBy(() -> provider.decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CTX))
        .isInstanceOfSatisfying(
            KmsUnavailableException.class, e -> assertThat(e.throttled()).isFalse());
    assertThat(api.calls("Decrypt", "DependencyTimeoutException")).isEqualTo(attemptsPerCall());
    api.endOutage();
    assertThat(provider.decrypt(dek.keyArn(), dek.wrapped().ciphertext(), CTX))
        .isEqualTo(dek.copyPlaintextKey());
  }

  @Test
  void throughByokARetargetedAliasAndARotationKeepEveryBlobReadable() throws IOException {
    String first = world.newKey();
    String second = world.newKey();
    api.createAlias("alias/app", first);
    byte[] a;
    byte[] b;
    byte[] c;
    try (Byok byok = byok()) {
      a = encrypt(byok, "under the first key");
      api.updateAlias("alias/app", second);
      b = encrypt(byok, "under the second key");
      api.rotateKeyOnDemand(second);
      c = encrypt(byok, "under the second key, rotated");
    }
    assertThat(LocalKms.slotArns(a)).isEqualTo(first);
    assertThat(LocalKms.slotArns(b)).isEqualTo(second);
    assertThat(LocalKms.slotArns(c)).isEqualTo(second);
    try (Byok reader = byok()) {
      assertThat(decrypt(reader, a)).isEqualTo("under the first key");
      assertThat(decrypt(reader, b)).isEqualTo("under the second key");
      assertThat(decrypt(reader, c)).isEqualTo("under the second key, rotated");
    }
  }

  private Byok byok() {
    return LocalKms.byok(provider, "alias/app");
  }

  private static byte[] encrypt(Byok byok, String text) throws IOException {
    return LocalKms.encrypt(byok, text, CTX);
  }

  private static String decrypt(Byok byok, byte[] blob) throws IOException {
    return LocalKms.decrypt(byok, blob, CTX);
  }

  static void assertUnusable(
      ThrowingCallable call, KeyUnusableException.Reason reason, String keyId) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            KeyUnusableException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(reason);
              assertThat(e.keyId()).isEqualTo(keyId);
            });
  }
}
