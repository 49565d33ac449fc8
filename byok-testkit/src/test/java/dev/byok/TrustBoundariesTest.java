package dev.byok;

import static dev.byok.Blobs.SEGMENT;
import static dev.byok.Blobs.encrypt;
import static dev.byok.Blobs.plaintext;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.kms.local.InMemoryKms;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.RotationStatus;
import dev.byok.spi.WrappedKey;
import dev.byok.testkit.FakeKms;
import dev.byok.testkit.FakeKmsExtension;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15's trust boundaries, each finding as a test against the fake KMS (InMemoryKms, with real
 * key policies): who can forge, who can purge, and what rewrap reads.
 */
class TrustBoundariesTest {
  @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();
  @TempDir Path dir;

  private static final EncryptionContext ACME = EncryptionContext.of("tenant", "acme");

  private String acmeKey;
  private String otherKey;

  private InMemoryKms api() {
    return fake.api();
  }

  private KeyRef ref(String arn) {
    return KeyRef.of(fake.kms().providerId(), arn);
  }

  @BeforeEach
  void keys() {
    acmeKey = api().createKey("acme").arn();
    otherKey = api().createKey("another tenant, or a key the attacker created").arn();
  }

  /** The host: one instance that decrypts for every tenant, both keys on its allow-list. */
  private Byok host() {
    return Byok.builder()
        .provider(fake.kms())
        .clock(fake.clock())
        .segmentSize(SEGMENT)
        .allowDecryptWith(acmeKey, otherKey)
        .build();
  }

  /**
   * What a storage-write attacker who may use {@code otherKey} writes: a valid blob with acme's
   * context, its data key wrapped under their key.
   */
  private byte[] forgedForAcme(byte[] plain) {
    Byok attacker =
        Byok.builder()
            .provider(fake.kms())
            .clock(fake.clock())
            .segmentSize(SEGMENT)
            .encryptUnder(ref(otherKey))
            .build();
    return encrypt(attacker, plain, ACME);
  }

  private static byte[] read(Byok reader, byte[] blob) throws IOException {
    try (InputStream in = reader.newDecryptingStream(new ByteArrayInputStream(blob))) {
      return in.readAllBytes();
    }
  }

  // ------------------------------------------------------------------ 1: forgery

  @Test
  void forgeryWithAnotherTrustedKeyIsRefusedByTheTenantsReaderWithNoKmsDecrypt() throws Exception {
    byte[] forged =
        forgedForAcme("transfer everything".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    api().resetCallLog();
    Byok acmeReader = host().forReading(ReadPolicy.of(List.of(ref(acmeKey)), ACME));

    assertThatThrownBy(() -> read(acmeReader, forged))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining(otherKey)
        .hasMessageContaining("allow-list");
    assertThat(api().calls("Decrypt")).isZero();

    // acme's own blobs read, and a blob of acme's key with another context is refused before KMS
    byte[] genuine = encrypt(acmeReader, plaintext(5000, 1), ACME);
    assertThat(read(acmeReader, genuine)).isEqualTo(plaintext(5000, 1));
    byte[] otherContext =
        encrypt(acmeReader, plaintext(10, 2), EncryptionContext.of("tenant", "x"));
    int decrypts = api().calls("Decrypt");
    assertThatThrownBy(() -> read(acmeReader, otherContext))
        .isInstanceOfSatisfying(
            InvalidCiphertextException.class,
            e ->
                assertThat(e.reason())
                    .isEqualTo(InvalidCiphertextException.Reason.CONTEXT_MISMATCH));
    assertThat(api().calls("Decrypt")).isEqualTo(decrypts);
  }

  @Test
  void aContextPredicateIsCheckedBeforeAnyKmsCall() throws Exception {
    Byok writer = host().forKeys(List.of(ref(acmeKey)));
    byte[] acme =
        encrypt(writer, plaintext(100, 3), EncryptionContext.of("tenant", "acme", "n", "1"));
    byte[] globex = encrypt(writer, plaintext(100, 4), EncryptionContext.of("tenant", "globex"));
    api().resetCallLog();
    Byok reader =
        host()
            .forReading(
                ReadPolicy.matching(
                    List.of(ref(acmeKey)), c -> "acme".equals(c.asMap().get("tenant"))));
    assertThatThrownBy(() -> read(reader, globex))
        .isInstanceOf(InvalidCiphertextException.class)
        .hasMessageContaining("globex");
    assertThat(api().calls("Decrypt")).isZero();
    assertThat(read(reader, acme)).isEqualTo(plaintext(100, 3));
  }

  @Test
  void rewrapRefusesToCarryAForgedDataKeyToTheNewKey() throws Exception {
    Path forged = Files.write(dir.resolve("forged"), forgedForAcme(plaintext(3000, 5)));
    Path target = dir.resolve("rewrapped");
    String newKey = api().createKey("acme's new key").arn();
    api().resetCallLog();
    Byok mover =
        Byok.builder()
            .provider(fake.kms())
            .clock(fake.clock())
            .segmentSize(SEGMENT)
            .encryptUnder(ref(newKey))
            .allowDecryptWith(acmeKey, otherKey) // even a host that trusts both for reading
            .build();

    assertThatThrownBy(
            () -> mover.rewrap(forged, target, ReadPolicy.of(List.of(ref(acmeKey)), ACME)))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining(otherKey);
    assertThat(target).doesNotExist();
    assertThat(api().calls("Decrypt")).isZero();
    assertThat(api().calls("ReEncrypt")).isZero();
    assertThat(api().calls("Encrypt")).isZero();
    // rewrapHeader, for hosts that copy payloads themselves, refuses it too
    EnvelopeHeader h = EnvelopeHeader.read(new ByteArrayInputStream(Files.readAllBytes(forged)));
    assertThatThrownBy(() -> mover.rewrapHeader(h, ReadPolicy.of(List.of(ref(acmeKey)), ACME)))
        .isInstanceOf(ByokConfigurationException.class);
    assertThat(api().calls("Decrypt")).isZero();
  }

  // ------------------------------------------------------------------ 2: header-driven purges

  @Test
  void aHostileHeaderDeniedByAContextConditionDoesNotPurgeTheTenantsCache() throws Exception {
    // acme's key policy: usable only with acme's context
    api()
        .putKeyPolicy(
            acmeKey,
            """
            {"Version": "2012-10-17", "Statement": [{
              "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*",
              "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}}
            }]}
            """,
            true);
    Byok acme = host().forReading(ReadPolicy.matching(List.of(ref(acmeKey)), c -> true));
    byte[] genuine = encrypt(acme, plaintext(2000, 6), ACME);
    assertThat(read(acme, genuine)).isEqualTo(plaintext(2000, 6));
    long cached = acme.keys().cachedKeys();
    assertThat(cached).isPositive();

    // storage-only attacker: the same slot, the context changed to one the policy denies
    EnvelopeHeader h = EnvelopeHeader.read(new ByteArrayInputStream(genuine));
    int payloadAt = h.payloadOffset();
    EnvelopeHeader hostile =
        EnvelopeHeader.create(
                h.segmentSize(),
                DataKey.of(h.dekId(), new byte[32]), // the attacker has no data key: any bytes
                EncryptionContext.of("tenant", "evil"),
                h.keySlots())
            .withPayloadHeader(java.util.Arrays.copyOfRange(genuine, payloadAt, payloadAt + 40));
    byte[] hostileBlob =
        Blobs.concat(
            hostile.toByteArray(),
            java.util.Arrays.copyOfRange(genuine, payloadAt + 40, genuine.length));
    api().resetCallLog();
    assertThatThrownBy(() -> read(acme, hostileBlob))
        .isInstanceOfSatisfying(
            KeyUnusableException.class,
            e -> assertThat(e.reason()).isEqualTo(KeyUnusableException.Reason.ACCESS_DENIED));
    assertThat(api().calls("Decrypt")).isEqualTo(1);

    // the tenant's cached data key survived: its next read makes no KMS call
    assertThat(acme.keys().cachedKeys()).isEqualTo(cached);
    assertThat(read(acme, genuine)).isEqualTo(plaintext(2000, 6));
    assertThat(api().calls("Decrypt")).isEqualTo(1);
    assertThat(acme.keys().stats().purges()).isZero();
  }

  @Test
  void aDisabledKeyOnTheDataPathStillPurgesAtOnce() throws Exception {
    Byok acme = host().forReading(ReadPolicy.matching(List.of(ref(acmeKey)), c -> true));
    byte[] first = encrypt(acme, plaintext(100, 7), ACME);
    byte[] second =
        encrypt(acme, plaintext(100, 8), EncryptionContext.of("tenant", "acme", "n", "2"));
    assertThat(read(acme, first)).isEqualTo(plaintext(100, 7));
    api().disableKey(acmeKey); // the KMS states the key's condition: authoritative
    assertThatThrownBy(() -> read(acme, second)).isInstanceOf(KeyUnusableException.class);
    assertThat(acme.keys().cachedKeys()).isZero();
  }

  // ------------------------------------------------------------------ 3: rewrap, one channel

  /** Wraps the fake KMS without ReEncrypt; runs {@code beforeWrap} inside every Encrypt. */
  private static final class HookedKms implements KeyProvider {
    private final FakeKms kms;
    private final Runnable beforeWrap;

    HookedKms(FakeKms kms, Runnable beforeWrap) {
      this.kms = kms;
      this.beforeWrap = beforeWrap;
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
      beforeWrap.run();
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

  private Byok moverWith(Runnable duringRewrap, String newKey) {
    return Byok.builder()
        .provider(new HookedKms(fake.kms(), duringRewrap))
        .clock(fake.clock())
        .segmentSize(SEGMENT)
        .encryptUnder(ref(newKey))
        .build();
  }

  @Test
  void rewrapFromOneOpenChannelASourceReplacedMidwayGivesTheAuthenticBlob() throws Exception {
    byte[] plain = plaintext(5 * SEGMENT + 17, 9);
    Path src =
        Files.write(
            dir.resolve("blob"), encrypt(host().forKeys(List.of(ref(acmeKey))), plain, ACME));
    byte[] tampered = Files.readAllBytes(src);
    tampered[tampered.length - 2 * SEGMENT] ^= 1; // a payload byte, not the header
    Path swap = Files.write(dir.resolve("swap"), tampered);
    String newKey = api().createKey().arn();
    Path target = dir.resolve("target");
    // the source is replaced (atomic rename) after its header was read, while the KMS wraps
    Byok mover =
        moverWith(
            () -> {
              try {
                Files.move(
                    swap, src, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            },
            newKey);

    mover.rewrap(src, target, ReadPolicy.of(List.of(ref(acmeKey)), ACME));

    assertThat(Files.exists(swap)).isFalse(); // the swap did happen mid-way
    assertThat(read(host().forKeys(List.of(ref(newKey))), Files.readAllBytes(target)))
        .isEqualTo(plain);
  }

  @Test
  void rewrapFromOneOpenChannelASourceModifiedInPlaceMidwayWritesNothing() throws Exception {
    byte[] plain = plaintext(5 * SEGMENT + 17, 10);
    byte[] blob = encrypt(host().forKeys(List.of(ref(acmeKey))), plain, ACME);
    Path src = Files.write(dir.resolve("blob"), blob);
    String newKey = api().createKey().arn();
    Path target = dir.resolve("target");
    Byok mover =
        moverWith(
            () -> {
              try (FileChannel ch = FileChannel.open(src, StandardOpenOption.WRITE)) {
                ch.write(
                    ByteBuffer.wrap(new byte[] {(byte) ~blob[blob.length - 3]}), blob.length - 3);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            },
            newKey);

    assertThatThrownBy(() -> mover.rewrap(src, target, ReadPolicy.of(List.of(ref(acmeKey)), ACME)))
        .isInstanceOfSatisfying(
            InvalidCiphertextException.class,
            e ->
                assertThat(e.reason())
                    .isEqualTo(InvalidCiphertextException.Reason.AUTHENTICATION_FAILED));
    assertThat(target).doesNotExist();
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("blob");
    }
  }
}
