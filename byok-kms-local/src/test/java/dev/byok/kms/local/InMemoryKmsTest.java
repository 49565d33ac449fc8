package dev.byok.kms.local;

import static dev.byok.kms.local.KmsAssertions.CTX;
import static dev.byok.kms.local.KmsAssertions.assertKmsError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.spi.KeyState;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The AWS-semantics layer: key ids, key states, aliases, rotation, ciphertext blobs, consistency.
 */
class InMemoryKmsTest {
  @RegisterExtension final KmsFixture fake = new KmsFixture();

  private InMemoryKms api() {
    return fake.api();
  }

  private String newKey() {
    return api().createKey().arn();
  }

  private byte[] blob(String keyId) {
    return api().generateDataKeyWithoutPlaintext(keyId, CTX, 32).ciphertextBlob();
  }

  @Test
  void createKeyReturnsAnAwsShapedArnAndEnabledMetadata() {
    InMemoryKms.KeyMetadata m = api().createKey("snapshots");

    assertThat(m.keyId()).matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    assertThat(m.arn()).isEqualTo("arn:aws:kms:us-east-1:111122223333:key/" + m.keyId());
    assertThat(m.keyState()).isEqualTo(KeyState.ENABLED);
    assertThat(m.keyStateName()).isEqualTo("Enabled");
    assertThat(m.enabled()).isTrue();
    assertThat(m.creationDate()).isEqualTo(fake.clock().instant());
    assertThat(m.description()).isEqualTo("snapshots");
    assertThat(m.currentKeyMaterialId()).matches("[0-9a-f]{64}");
    assertThat(m.deletionDate()).isNull();
  }

  @Test
  void regionAndAccountAreConfigurable() {
    InMemoryKms kms = InMemoryKms.builder().region("eu-west-1").accountId("444455556666").build();
    InMemoryKms.KeyMetadata m = kms.createKey();

    assertThat(m.arn()).isEqualTo("arn:aws:kms:eu-west-1:444455556666:key/" + m.keyId());
    assertThat(m.awsAccountId()).isEqualTo("444455556666");
    assertKmsError(
        () -> kms.describeKey("arn:aws:kms:us-east-1:444455556666:key/" + m.keyId()),
        LocalKmsException.NOT_FOUND);
  }

  @Test
  void everyKeyIdFormResolvesToTheSameKey() {
    InMemoryKms.KeyMetadata m = api().createKey();
    api().createAlias("alias/app/snapshots", m.keyId());

    for (String id :
        new String[] {
          m.keyId(),
          m.arn(),
          "alias/app/snapshots",
          "arn:aws:kms:us-east-1:111122223333:alias/app/snapshots"
        }) {
      assertThat(api().describeKey(id).arn()).as(id).isEqualTo(m.arn());
    }
  }

  @Test
  void badKeyIdsFailLikeAws() {
    String keyId = api().createKey().keyId();

    assertKmsError(
        () -> api().describeKey("arn:aws:kms:us-east-1:key/" + keyId),
        LocalKmsException.INVALID_ARN);
    assertKmsError(() -> api().describeKey("not-a-key"), LocalKmsException.NOT_FOUND);
    assertKmsError(
        () -> api().describeKey("00000000-0000-0000-0000-000000000000"),
        LocalKmsException.NOT_FOUND);
    assertKmsError(() -> api().describeKey("alias/none"), LocalKmsException.NOT_FOUND);
    assertKmsError(() -> api().describeKey(""), LocalKmsException.VALIDATION);
    assertKmsError(() -> api().describeKey(null), LocalKmsException.VALIDATION);
    assertKmsError(() -> api().describeKey("x".repeat(2049)), LocalKmsException.VALIDATION);
  }

  @Test
  void lifecycleOperationsDoNotAcceptAliases() {
    api().createAlias("alias/a", newKey());

    assertKmsError(() -> api().disableKey("alias/a"), LocalKmsException.NOT_FOUND);
    assertKmsError(() -> api().scheduleKeyDeletion("alias/a", 7), LocalKmsException.NOT_FOUND);
    assertKmsError(() -> api().rotateKeyOnDemand("alias/a"), LocalKmsException.NOT_FOUND);
    assertKmsError(() -> api().getKeyRotationStatus("alias/a"), LocalKmsException.NOT_FOUND);
  }

  @Test
  void disableAndEnable() {
    String arn = newKey();
    byte[] blob = blob(arn);

    api().disableKey(arn);
    api().disableKey(arn);
    assertThat(api().describeKey(arn).keyState()).isEqualTo(KeyState.DISABLED);
    assertThat(api().describeKey(arn).enabled()).isFalse();
    assertKmsError(() -> api().generateDataKey(arn, CTX, 32), LocalKmsException.DISABLED);
    assertKmsError(() -> api().encrypt(arn, new byte[] {1}, CTX), LocalKmsException.DISABLED);
    assertKmsError(() -> api().decrypt(blob, CTX, null), LocalKmsException.DISABLED);

    api().enableKey(arn);
    api().enableKey(arn);
    assertThat(api().describeKey(arn).keyState()).isEqualTo(KeyState.ENABLED);
    assertThat(api().decrypt(blob, CTX, null).plaintext()).hasSize(32);
  }

  @Test
  void scheduleDeletionTakesTheDateFromTheClockAndCancelLeavesTheKeyDisabled() {
    String arn = newKey();
    byte[] blob = blob(arn);
    Instant now = fake.clock().instant();

    InMemoryKms.DeletionSchedule s = api().scheduleKeyDeletion(arn, 7);

    assertThat(s.deletionDate()).isEqualTo(now.plus(Duration.ofDays(7)));
    assertThat(s.keyState()).isEqualTo(KeyState.PENDING_DELETION);
    InMemoryKms.KeyMetadata m = api().describeKey(arn);
    assertThat(m.keyStateName()).isEqualTo("PendingDeletion");
    assertThat(m.deletionDate()).isEqualTo(now.plus(Duration.ofDays(7)));
    assertThat(m.pendingDeletionWindowInDays()).isEqualTo(7);
    assertKmsError(() -> api().decrypt(blob, CTX, null), LocalKmsException.INVALID_STATE);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> api().generateDataKey(arn, CTX, 32))
        .hasMessage("KMSInvalidStateException: " + arn + " is pending deletion.");
    assertKmsError(() -> api().enableKey(arn), LocalKmsException.INVALID_STATE);
    assertKmsError(() -> api().disableKey(arn), LocalKmsException.INVALID_STATE);
    assertKmsError(() -> api().scheduleKeyDeletion(arn, 7), LocalKmsException.INVALID_STATE);
    assertKmsError(() -> api().rotateKeyOnDemand(arn), LocalKmsException.INVALID_STATE);

    assertThat(api().cancelKeyDeletion(arn)).isEqualTo(arn);

    m = api().describeKey(arn);
    assertThat(m.keyState()).isEqualTo(KeyState.DISABLED);
    assertThat(m.deletionDate()).isNull();
    assertKmsError(() -> api().cancelKeyDeletion(arn), LocalKmsException.INVALID_STATE);
    api().enableKey(arn);
    assertThat(api().decrypt(blob, CTX, arn).keyId()).isEqualTo(arn);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 6, 31, 365})
  void deletionWindowOutside7To30DaysIsRejected(int days) {
    String arn = newKey();

    assertKmsError(() -> api().scheduleKeyDeletion(arn, days), LocalKmsException.VALIDATION);
    assertThat(api().describeKey(arn).keyState()).isEqualTo(KeyState.ENABLED);
  }

  @Test
  void defaultDeletionWindowIs30Days() {
    String arn = newKey();

    assertThat(api().scheduleKeyDeletion(arn, null).deletionDate())
        .isEqualTo(fake.clock().instant().plus(Duration.ofDays(30)));
  }

  @Test
  void keyAndItsAliasesAreGoneOnceTheClockPassesTheDeletionDate() {
    String arn = newKey();
    api().createAlias("alias/doomed", arn);
    byte[] blob = blob(arn);
    api().scheduleKeyDeletion(arn, 7);

    fake.clock().advance(Duration.ofDays(7).minusSeconds(1));
    assertThat(api().describeKey(arn).keyState()).isEqualTo(KeyState.PENDING_DELETION);

    fake.clock().advance(Duration.ofSeconds(1));
    assertKmsError(() -> api().describeKey(arn), LocalKmsException.NOT_FOUND);
    assertKmsError(() -> api().decrypt(blob, CTX, null), LocalKmsException.NOT_FOUND);
    assertKmsError(() -> api().cancelKeyDeletion(arn), LocalKmsException.NOT_FOUND);
    assertKmsError(() -> api().describeKey("alias/doomed"), LocalKmsException.NOT_FOUND);
    assertThat(api().listAliases(null)).isEmpty();
  }

  @Test
  void aliasesCanBeCreatedRetargetedListedAndDeleted() {
    InMemoryKms.KeyMetadata k1 = api().createKey();
    InMemoryKms.KeyMetadata k2 = api().createKey();
    api().createAlias("alias/app", k1.arn());
    byte[] oldBlob = blob("alias/app");

    api().updateAlias("alias/app", k2.keyId());

    InMemoryKms.CiphertextResult fresh = api().generateDataKey("alias/app", CTX, 32);
    assertThat(fresh.keyId()).isEqualTo(k2.arn());
    assertThat(api().decrypt(oldBlob, CTX, null).keyId()).isEqualTo(k1.arn());
    assertThat(api().decrypt(fresh.ciphertextBlob(), CTX, "alias/app").plaintext())
        .isEqualTo(fresh.plaintext());
    assertThat(api().listAliases(k2.arn()))
        .containsExactly(
            new InMemoryKms.AliasEntry(
                "alias/app", "arn:aws:kms:us-east-1:111122223333:alias/app", k2.keyId()));
    assertThat(api().listAliases(k1.keyId())).isEmpty();

    api().deleteAlias("alias/app");
    assertKmsError(() -> api().generateDataKey("alias/app", CTX, 32), LocalKmsException.NOT_FOUND);
    assertKmsError(() -> api().deleteAlias("alias/app"), LocalKmsException.NOT_FOUND);
    api().createAlias("alias/app", k1.arn());
    assertThat(api().describeKey("alias/app").arn()).isEqualTo(k1.arn());
  }

  @Test
  void aliasPreconditions() {
    String arn = newKey();
    api().createAlias("alias/taken", arn);

    assertKmsError(() -> api().createAlias("alias/taken", arn), LocalKmsException.ALREADY_EXISTS);
    assertKmsError(() -> api().createAlias("app", arn), LocalKmsException.INVALID_ALIAS_NAME);
    assertKmsError(
        () -> api().createAlias("alias/aws/s3", arn), LocalKmsException.INVALID_ALIAS_NAME);
    assertKmsError(
        () -> api().createAlias("alias/has space", arn), LocalKmsException.INVALID_ALIAS_NAME);
    assertKmsError(
        () -> api().createAlias("alias/other", "alias/taken"), LocalKmsException.NOT_FOUND);
    assertKmsError(() -> api().updateAlias("alias/missing", arn), LocalKmsException.NOT_FOUND);
    api().scheduleKeyDeletion(arn, 7);
    assertKmsError(() -> api().createAlias("alias/late", arn), LocalKmsException.INVALID_STATE);
    assertThat(LocalKmsException.httpStatus(LocalKmsException.ALREADY_EXISTS)).isEqualTo(409);
  }

  @Test
  void onDemandRotationAddsMaterialAndOldCiphertextsStillDecrypt() {
    String arn = newKey();
    String before = api().describeKey(arn).currentKeyMaterialId();
    InMemoryKms.CiphertextResult old = api().generateDataKey(arn, CTX, 32);
    assertThat(old.keyMaterialId()).isEqualTo(before);

    assertThat(api().rotateKeyOnDemand(arn)).isEqualTo(arn);

    String after = api().describeKey(arn).currentKeyMaterialId();
    assertThat(after).isNotEqualTo(before).matches("[0-9a-f]{64}");
    InMemoryKms.DecryptResult decrypted = api().decrypt(old.ciphertextBlob(), CTX, arn);
    assertThat(decrypted.plaintext()).isEqualTo(old.plaintext());
    assertThat(decrypted.keyMaterialId()).isEqualTo(before);
    InMemoryKms.CiphertextResult fresh = api().generateDataKey(arn, CTX, 32);
    assertThat(fresh.keyMaterialId()).isEqualTo(after);
    assertThat(api().decrypt(fresh.ciphertextBlob(), CTX, arn).keyMaterialId()).isEqualTo(after);
    assertThat(api().listKeyRotations(arn))
        .containsExactly(
            new InMemoryKms.RotationEntry(arn, after, fake.clock().instant(), "ON_DEMAND", true));
  }

  @Test
  void onDemandRotationNeedsAnEnabledKeyAndIsLimitedTo25() {
    String arn = newKey();
    api().disableKey(arn);
    assertKmsError(() -> api().rotateKeyOnDemand(arn), LocalKmsException.DISABLED);
    api().enableKey(arn);

    for (int i = 0; i < 25; i++) {
      api().rotateKeyOnDemand(arn);
    }

    assertKmsError(() -> api().rotateKeyOnDemand(arn), LocalKmsException.LIMIT_EXCEEDED);
    assertThat(api().listKeyRotations(arn))
        .hasSize(25)
        .filteredOn(InMemoryKms.RotationEntry::current)
        .hasSize(1);
  }

  @Test
  void automaticRotationHappensWhenTheClockPassesTheNextRotationDate() {
    String arn = newKey();
    Instant start = fake.clock().instant();
    assertThat(api().getKeyRotationStatus(arn).keyRotationEnabled()).isFalse();

    api().enableKeyRotation(arn, 90);

    InMemoryKms.KeyRotationStatus s = api().getKeyRotationStatus(arn);
    assertThat(s.keyRotationEnabled()).isTrue();
    assertThat(s.rotationPeriodInDays()).isEqualTo(90);
    assertThat(s.nextRotationDate()).isEqualTo(start.plus(Duration.ofDays(90)));
    String before = api().describeKey(arn).currentKeyMaterialId();
    fake.clock().advance(Duration.ofDays(90));
    assertThat(api().describeKey(arn).currentKeyMaterialId()).isNotEqualTo(before);
    assertThat(api().listKeyRotations(arn))
        .singleElement()
        .satisfies(r -> assertThat(r.rotationType()).isEqualTo("AUTOMATIC"))
        .satisfies(r -> assertThat(r.rotationDate()).isEqualTo(start.plus(Duration.ofDays(90))));
    assertThat(api().getKeyRotationStatus(arn).nextRotationDate())
        .isEqualTo(start.plus(Duration.ofDays(180)));

    api().scheduleKeyDeletion(arn, 7);
    assertThat(api().getKeyRotationStatus(arn).keyRotationEnabled()).isFalse();
    api().cancelKeyDeletion(arn);
    api().enableKey(arn);
    assertThat(api().getKeyRotationStatus(arn).keyRotationEnabled()).isTrue();
    api().disableKeyRotation(arn);
    assertThat(api().getKeyRotationStatus(arn).keyRotationEnabled()).isFalse();
    assertKmsError(() -> api().enableKeyRotation(arn, 89), LocalKmsException.VALIDATION);
    api().disableKey(arn);
    assertKmsError(() -> api().enableKeyRotation(arn, null), LocalKmsException.DISABLED);
  }

  @Test
  void encryptionContextMustMatchExactlyButOrderDoesNotMatter() {
    String arn = newKey();
    byte[] blob = blob(arn);
    Map<String, String> reordered = new LinkedHashMap<>();
    reordered.put("repository", "snapshots");
    reordered.put("tenant", "t1");

    assertThat(api().decrypt(blob, new TreeMap<>(reordered), arn).plaintext()).hasSize(32);
    assertKmsError(
        () -> api().decrypt(blob, Map.of("tenant", "t2", "repository", "snapshots"), arn),
        LocalKmsException.INVALID_CIPHERTEXT);
    assertKmsError(
        () -> api().decrypt(blob, Map.of("tenant", "t1"), arn),
        LocalKmsException.INVALID_CIPHERTEXT);
    assertKmsError(() -> api().decrypt(blob, Map.of(), arn), LocalKmsException.INVALID_CIPHERTEXT);
  }

  @Test
  void decryptWithAnotherKeyIdIsIncorrectKey() {
    String owner = newKey();
    String other = newKey();
    byte[] blob = blob(owner);

    assertKmsError(() -> api().decrypt(blob, CTX, other), LocalKmsException.INCORRECT_KEY);
    assertKmsError(
        () -> api().reEncrypt(blob, CTX, other, other, CTX), LocalKmsException.INCORRECT_KEY);
    assertThat(api().decrypt(blob, CTX, owner).keyId()).isEqualTo(owner);
  }

  @Test
  void everySingleBitFlipTruncationOrExtensionIsInvalidCiphertext() {
    String arn = newKey();
    byte[] blob = blob(arn);

    for (int i = 0; i < blob.length; i++) {
      byte[] tampered = blob.clone();
      tampered[i] ^= 0x01;
      assertKmsError(
          () -> api().decrypt(tampered, CTX, null), LocalKmsException.INVALID_CIPHERTEXT);
    }
    assertKmsError(
        () -> api().decrypt(java.util.Arrays.copyOf(blob, blob.length - 1), CTX, null),
        LocalKmsException.INVALID_CIPHERTEXT);
    assertKmsError(
        () -> api().decrypt(java.util.Arrays.copyOf(blob, blob.length + 1), CTX, null),
        LocalKmsException.INVALID_CIPHERTEXT);
    assertKmsError(() -> api().decrypt(new byte[0], CTX, null), LocalKmsException.VALIDATION);
    assertKmsError(() -> api().decrypt(new byte[6145], CTX, null), LocalKmsException.VALIDATION);
  }

  @Test
  void denyAccessRefusesEveryOperationOnTheKeyUntilLifted() {
    String arn = newKey();
    api().createAlias("alias/denied", arn);
    byte[] blob = blob(arn);

    api().denyAccess("alias/denied", true);

    assertKmsError(() -> api().describeKey(arn), LocalKmsException.ACCESS_DENIED);
    assertKmsError(
        () -> api().generateDataKey("alias/denied", CTX, 32), LocalKmsException.ACCESS_DENIED);
    assertKmsError(() -> api().decrypt(blob, CTX, null), LocalKmsException.ACCESS_DENIED);
    assertKmsError(() -> api().disableKey(arn), LocalKmsException.ACCESS_DENIED);
    assertThat(LocalKmsException.httpStatus(LocalKmsException.ACCESS_DENIED)).isEqualTo(400);

    api().denyAccess(arn, false);
    assertThat(api().decrypt(blob, CTX, null).keyId()).isEqualTo(arn);
  }

  @Test
  void stateChangesAreSeenOnlyAfterTheConsistencyDelay() {
    String arn = newKey();
    api().eventualConsistency(Duration.ofSeconds(30));

    api().disableKey(arn);

    assertThat(api().describeKey(arn).keyState()).isEqualTo(KeyState.ENABLED);
    api().generateDataKey(arn, CTX, 32);
    fake.clock().advance(Duration.ofSeconds(29));
    api().generateDataKey(arn, CTX, 32);
    fake.clock().advance(Duration.ofSeconds(1));
    assertKmsError(() -> api().generateDataKey(arn, CTX, 32), LocalKmsException.DISABLED);

    api().enableKey(arn);
    api().denyAccess(arn, true);
    assertKmsError(() -> api().generateDataKey(arn, CTX, 32), LocalKmsException.DISABLED);
    fake.clock().advance(Duration.ofSeconds(30));
    assertKmsError(() -> api().generateDataKey(arn, CTX, 32), LocalKmsException.ACCESS_DENIED);
  }

  @Test
  void aliasRetargetAndDeletionScheduleAreEventuallyConsistentButPreconditionsUseTheNewestState() {
    String k1 = newKey();
    String k2 = newKey();
    api().createAlias("alias/app", k1);
    api().eventualConsistency(Duration.ofMinutes(1));

    api().updateAlias("alias/app", k2);
    api().scheduleKeyDeletion(k1, 7);

    assertThat(api().describeKey("alias/app").arn()).isEqualTo(k1);
    assertThat(api().describeKey(k1).keyState()).isEqualTo(KeyState.ENABLED);
    assertKmsError(() -> api().scheduleKeyDeletion(k1, 7), LocalKmsException.INVALID_STATE);
    fake.clock().advance(Duration.ofMinutes(1));
    assertThat(api().describeKey("alias/app").arn()).isEqualTo(k2);
    assertThat(api().describeKey(k1).keyState()).isEqualTo(KeyState.PENDING_DELETION);
  }

  @Test
  void generateDataKeyVariantsAndEncryptRoundTrip() {
    String arn = newKey();

    InMemoryKms.CiphertextResult withPlaintext = api().generateDataKey(arn, CTX, 64);
    InMemoryKms.CiphertextResult without = api().generateDataKeyWithoutPlaintext(arn, CTX, 32);
    InMemoryKms.CiphertextResult encrypted = api().encrypt(arn, new byte[] {7, 8, 9}, CTX);

    assertThat(withPlaintext.plaintext()).hasSize(64);
    assertThat(api().decrypt(withPlaintext.ciphertextBlob(), CTX, null).plaintext())
        .isEqualTo(withPlaintext.plaintext());
    assertThat(without.plaintext()).isNull();
    assertThat(api().decrypt(without.ciphertextBlob(), CTX, null).plaintext()).hasSize(32);
    assertThat(api().decrypt(encrypted.ciphertextBlob(), CTX, null).plaintext())
        .containsExactly(7, 8, 9);
    assertThat(withPlaintext.toString()).contains("<redacted>").contains(arn);
    assertKmsError(() -> api().generateDataKey(arn, CTX, 0), LocalKmsException.VALIDATION);
    assertKmsError(() -> api().generateDataKey(arn, CTX, 1025), LocalKmsException.VALIDATION);
    assertKmsError(() -> api().encrypt(arn, new byte[4097], CTX), LocalKmsException.VALIDATION);
    assertKmsError(() -> api().encrypt(arn, new byte[0], CTX), LocalKmsException.VALIDATION);
  }

  @Test
  void reEncryptMovesTheBlobToAnotherKey() {
    String source = newKey();
    String destination = newKey();
    InMemoryKms.CiphertextResult original = api().generateDataKey(source, CTX, 32);
    Map<String, String> newContext = Map.of("tenant", "t2");

    InMemoryKms.ReEncryptResult r =
        api().reEncrypt(original.ciphertextBlob(), CTX, source, destination, newContext);

    assertThat(r.sourceKeyId()).isEqualTo(source);
    assertThat(r.keyId()).isEqualTo(destination);
    assertThat(r.destinationKeyMaterialId())
        .isEqualTo(api().describeKey(destination).currentKeyMaterialId());
    assertThat(api().decrypt(r.ciphertextBlob(), newContext, destination).plaintext())
        .isEqualTo(original.plaintext());
    api().disableKey(destination);
    assertKmsError(
        () -> api().reEncrypt(original.ciphertextBlob(), CTX, null, destination, CTX),
        LocalKmsException.DISABLED);
  }

  @Test
  void forcedStatesSimulateImportedAndCustomKeyStoreKeys() {
    String arn = newKey();

    api().forceKeyState(arn, KeyState.PENDING_IMPORT);
    assertKmsError(() -> api().generateDataKey(arn, CTX, 32), LocalKmsException.INVALID_STATE);
    assertKmsError(() -> api().enableKey(arn), LocalKmsException.INVALID_STATE);
    api().forceKeyState(arn, KeyState.UNAVAILABLE);
    assertThat(api().describeKey(arn).keyStateName()).isEqualTo("Unavailable");
    api().forceKeyState(arn, KeyState.ENABLED);
    api().generateDataKey(arn, CTX, 32);
    org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
        .isThrownBy(() -> api().forceKeyState(arn, KeyState.PENDING_DELETION));
  }
}
