package dev.byok;

import static dev.byok.Blobs.byok;
import static dev.byok.Blobs.concat;
import static dev.byok.Blobs.decrypt;
import static dev.byok.Blobs.encrypt;
import static dev.byok.Blobs.from;
import static dev.byok.Blobs.header;
import static dev.byok.Blobs.keysCalled;
import static dev.byok.Blobs.payload;
import static dev.byok.Blobs.plaintext;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.kms.local.InMemoryKms;
import dev.byok.kms.local.LocalKmsException;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.RotationStatus;
import dev.byok.spi.WrappedKey;
import dev.byok.testkit.FakeKms;
import dev.byok.testkit.FakeKmsExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Rewrap: new key slots, payload copied byte for byte, the old KEK can go. */
class RewrapTest {
  @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();
  @TempDir Path dir;

  private final byte[] plain = plaintext(3 * 4096 + 123, 11);
  private String oldKek;
  private String newKek;
  private Path src;

  private InMemoryKms api() {
    return fake.api();
  }

  @BeforeEach
  void blobUnderTheOldKek() throws IOException {
    oldKek = api().createKey().arn();
    newKek = api().createKey().arn();
    src = dir.resolve("blob");
    Files.write(src, encrypt(byok(fake, oldKek).build(), plain));
    api().resetCallLog();
  }

  /** Encrypts under the new KEK and still reads blobs under the old one (a migration). */
  private Byok migrating() {
    return byok(fake, newKek).allowDecryptWith(oldKek).build();
  }

  @Test
  void newSlotsSamePayloadAndTheOldKekCanBeDeleted() throws IOException {
    Path dst = dir.resolve("rewrapped");
    RewrapResult r = migrating().rewrap(src, dst, from(fake, oldKek));

    byte[] before = Files.readAllBytes(src);
    byte[] after = Files.readAllBytes(dst);
    assertThat(r.oldSlots()).extracting(KeySlot::keyArn).containsExactly(oldKek);
    assertThat(r.newSlots()).extracting(KeySlot::keyArn).containsExactly(newKek);
    assertThat(header(after).keySlots()).isEqualTo(r.newSlots());
    assertThat(payload(after)).isEqualTo(payload(before));
    assertThat(header(after).associatedData()).isEqualTo(header(before).associatedData());
    assertThat(r.payloadBytesReencrypted()).isZero();
    assertThat(r.payloadBytesCopied()).isEqualTo(payload(before).length);
    // one ReEncrypt (the log names its destination); the data key never went back to KMS in
    // plaintext
    assertThat(keysCalled(api(), "ReEncrypt")).containsExactly(newKek);
    assertThat(api().calls("Encrypt")).isZero();

    api().scheduleKeyDeletion(oldKek, 7);
    fake.clock().advance(Duration.ofDays(7).plusSeconds(1));
    assertThatThrownBy(() -> api().describeKey(oldKek))
        .isInstanceOfSatisfying(
            LocalKmsException.class, e -> assertThat(e.errorCode()).isEqualTo("NotFoundException"));

    Byok reader = byok(fake, newKek).build(); // trusts only the new KEK
    assertThat(decrypt(reader, after)).isEqualTo(plain);
    assertThatThrownBy(() -> decrypt(byok(fake, newKek).allowDecryptWith(oldKek).build(), before))
        .isInstanceOfSatisfying(
            KeyUnusableException.class,
            e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.NOT_FOUND));
  }

  @Test
  void inPlaceRewrapReplacesTheFile() throws IOException {
    byte[] before = Files.readAllBytes(src);
    migrating().rewrap(src, src, from(fake, oldKek));
    byte[] after = Files.readAllBytes(src);
    assertThat(header(after).keySlots()).extracting(KeySlot::keyArn).containsExactly(newKek);
    assertThat(payload(after)).isEqualTo(payload(before));
    assertThat(decrypt(byok(fake, newKek).build(), after)).isEqualTo(plain);
  }

  @Test
  void withoutReEncryptTheDataKeyIsWrappedWithEncrypt() throws IOException {
    KeyProvider noReEncrypt = new WithoutReEncrypt(fake.kms());
    Byok byok =
        Byok.builder()
            .provider(noReEncrypt)
            .clock(fake.clock())
            .encryptUnder(KeyRef.of("fake-kms", newKek))
            .allowDecryptWith(oldKek)
            .build();
    Path dst = dir.resolve("rewrapped");
    byok.rewrap(src, dst, from(fake, oldKek));
    assertThat(api().calls("ReEncrypt")).isZero();
    assertThat(keysCalled(api(), "Encrypt")).containsExactly(newKek);
    assertThat(payload(Files.readAllBytes(dst))).isEqualTo(payload(Files.readAllBytes(src)));
    assertThat(decrypt(byok(fake, newKek).build(), Files.readAllBytes(dst))).isEqualTo(plain);
  }

  @Test
  void aSlotThatUnwrapsToAnotherKeyIsNeverTheSourceOfANewSlot() throws IOException {
    // key slots are outside the authenticated header: a slot under a trusted KEK wrapping other
    // bytes
    // is skipped when reading (commitment mismatch), and ReEncrypt from it would make a useless new
    // slot
    byte[] blob = Files.readAllBytes(src);
    EnvelopeHeader h = header(blob);
    KeySlot real = h.keySlots().get(0);
    byte[] forged =
        api().encrypt(oldKek, plaintext(32, 5), h.encryptionContext().asMap()).ciphertextBlob();
    EnvelopeHeader planted =
        h.withKeySlots(List.of(KeySlot.of(real.providerId(), oldKek, forged), real));
    Files.write(
        src, concat(Arrays.copyOf(planted.toByteArray(), planted.payloadOffset()), payload(blob)));
    assertThat(decrypt(migrating(), Files.readAllBytes(src))).isEqualTo(plain);

    migrating().rewrap(src, src, from(fake, oldKek));

    assertThat(decrypt(byok(fake, newKek).build(), Files.readAllBytes(src))).isEqualTo(plain);
  }

  @Test
  void aTamperedBlobIsRejectedBeforeAnythingIsWritten() throws IOException {
    byte[] tampered = Files.readAllBytes(src);
    tampered[tampered.length - 30] ^= 1; // a payload byte in the last segment
    Files.write(src, tampered);
    Path absent = dir.resolve("absent");
    Path existing = dir.resolve("existing");
    Files.write(existing, new byte[] {42});

    Byok byok = migrating();
    assertRejected(() -> byok.rewrap(src, absent, from(fake, oldKek)));
    assertRejected(() -> byok.rewrap(src, existing, from(fake, oldKek)));
    assertRejected(() -> byok.rewrap(src, src, from(fake, oldKek)));
    assertThat(absent).doesNotExist();
    assertThat(existing).hasBinaryContent(new byte[] {42});
    assertThat(src).hasBinaryContent(tampered);
    assertThat(dir).isDirectoryNotContaining(p -> !p.equals(src) && !p.equals(existing));
    // the source is read once, so the new slot is made before the payload is authenticated: one
    // wrap per attempt, and the wrapped key is never written anywhere
    assertThat(api().calls("ReEncrypt") + api().calls("Encrypt")).isEqualTo(3);
  }

  private static void assertRejected(org.assertj.core.api.ThrowableAssert.ThrowingCallable rewrap) {
    assertThatThrownBy(rewrap)
        .isInstanceOfSatisfying(
            InvalidCiphertextException.class,
            e ->
                assertThat(e.reason())
                    .isEqualTo(InvalidCiphertextException.Reason.AUTHENTICATION_FAILED));
  }

  /** The fake KMS without its ReEncrypt capability, as a provider whose KMS has none. */
  private static final class WithoutReEncrypt implements KeyProvider {
    private final FakeKms kms;

    WithoutReEncrypt(FakeKms kms) {
      this.kms = kms;
    }

    @Override
    public String providerId() {
      return kms.providerId();
    }

    @Override
    public GeneratedDataKey generateDataKey(String keyId, EncryptionContext context) {
      return kms.generateDataKey(keyId, context);
    }

    @Override
    public WrappedKey encrypt(String keyId, byte[] plaintextKey, EncryptionContext context) {
      return kms.encrypt(keyId, plaintextKey, context);
    }

    @Override
    public byte[] decrypt(String keyArn, byte[] wrappedKey, EncryptionContext context) {
      return kms.decrypt(keyArn, wrappedKey, context);
    }

    @Override
    public KeyDescription describeKey(String keyId) {
      return kms.describeKey(keyId);
    }

    @Override
    public RotationStatus rotationStatus(String keyId) {
      return kms.rotationStatus(keyId);
    }
  }
}
