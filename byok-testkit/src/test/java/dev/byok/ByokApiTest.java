package dev.byok;

import static dev.byok.Blobs.CTX;
import static dev.byok.Blobs.SEGMENT;
import static dev.byok.Blobs.byok;
import static dev.byok.Blobs.decrypt;
import static dev.byok.Blobs.encrypt;
import static dev.byok.Blobs.header;
import static dev.byok.Blobs.plaintext;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.kms.local.InMemoryKms;
import dev.byok.testkit.FakeKms;
import dev.byok.testkit.FakeKmsExtension;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The entry point's surface: pull mode, files, ranges, inspect, stats, outages, builder checks. */
class ByokApiTest {
  @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();
  @TempDir Path dir;

  private String arn;
  private Byok byok;

  private InMemoryKms api() {
    return fake.api();
  }

  @BeforeEach
  void setUp() {
    arn = api().createKey().arn();
    byok = byok(fake, arn).build();
  }

  /** Sizes around the segment boundaries: empty, one byte, first segment ±1, several segments. */
  @ParameterizedTest
  @ValueSource(ints = {0, 1, SEGMENT - 57, SEGMENT - 56, SEGMENT - 55, 3 * SEGMENT + 17})
  void pullModeLengthIsExactlyTheBytesProduced(int size) throws IOException {
    byte[] plain = plaintext(size, size);
    byte[] envelope;
    long declared;
    try (EncryptedInputStream in =
        byok.newEncryptingInputStream(new ByteArrayInputStream(plain), size, CTX)) {
      declared = in.length();
      envelope = in.readAllBytes();
    }
    assertThat(envelope).hasSize((int) declared);
    assertThat(byok.ciphertextLength(size, CTX)).isEqualTo(declared);
    assertThat(decrypt(byok, envelope)).isEqualTo(plain);

    // unknown length: the same envelope shape
    byte[] unknown =
        byok.newEncryptingInputStream(new ByteArrayInputStream(plain), CTX).readAllBytes();
    assertThat(unknown).hasSize((int) declared);
    assertThat(decrypt(byok, unknown)).isEqualTo(plain);
  }

  @Test
  void aSourceShorterOrLongerThanDeclaredFailsTheRead() {
    byte[] plain = plaintext(5000, 1);
    assertThatThrownBy(
            () ->
                byok.newEncryptingInputStream(new ByteArrayInputStream(plain), 5001, CTX)
                    .readAllBytes())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("5001");
    assertThatThrownBy(
            () ->
                byok.newEncryptingInputStream(new ByteArrayInputStream(plain), 4999, CTX)
                    .readAllBytes())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("4999");
    assertThatThrownBy(
            () -> byok.newEncryptingInputStream(new ByteArrayInputStream(plain), -1, CTX))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("-1");
  }

  @Test
  void filesRoundTripAndAWrongContextLeavesTheTargetUntouched() throws IOException {
    byte[] plain = plaintext(2 * SEGMENT + 5, 2);
    Path src = Files.write(dir.resolve("plain"), plain);
    Path enc = dir.resolve("enc");
    Path out = dir.resolve("out");
    byok.encryptFile(src, enc, CTX);
    byok.decryptFile(enc, out, CTX);
    assertThat(out).hasBinaryContent(plain);
    assertThat(header(Files.readAllBytes(enc)).encryptionContext()).isEqualTo(CTX);

    Path other = Files.write(dir.resolve("other"), new byte[] {1, 2, 3});
    assertThatThrownBy(() -> byok.decryptFile(enc, other, EncryptionContext.of("tenant", "t2")))
        .isInstanceOfSatisfying(
            InvalidCiphertextException.class,
            e ->
                assertThat(e.reason())
                    .isEqualTo(InvalidCiphertextException.Reason.CONTEXT_MISMATCH));
    assertThat(other).hasBinaryContent(new byte[] {1, 2, 3});
    byok.decryptFile(enc, other, null);
    assertThat(other).hasBinaryContent(plain);
  }

  @Test
  @Timeout(30) // a range stream that never ends would otherwise hang the build
  void decryptRangeAndChannelReadTheRightBytes() throws IOException {
    byte[] plain = plaintext(5 * SEGMENT, 3);
    byte[] envelope = encrypt(byok, plain);
    EnvelopeHeader h = Byok.inspect(new ByteArrayInputStream(envelope));
    RangePlan plan = h.planRange(envelope.length, 2 * SEGMENT - 10, SEGMENT + 20);
    InputStream fetched =
        new ByteArrayInputStream(
            envelope, (int) plan.ciphertextOffset(), (int) plan.ciphertextLength());
    try (InputStream range = byok.decryptRange(h, plan, fetched, CTX)) {
      // the range ends inside a segment: the stream must end there (-1), not return 0 or more bytes
      assertThat(range.readAllBytes())
          .isEqualTo(Arrays.copyOfRange(plain, 2 * SEGMENT - 10, 3 * SEGMENT + 10));
      assertThat(range.read()).isEqualTo(-1);
    }

    Path file = Files.write(dir.resolve("enc"), envelope);
    try (SeekableByteChannel ch = byok.newDecryptingChannel(FileChannel.open(file), CTX)) {
      assertThat(ch.size()).isEqualTo(plain.length);
      ByteBuffer buf = ByteBuffer.allocate(100);
      ch.position(4 * SEGMENT + 1);
      while (buf.hasRemaining() && ch.read(buf) > 0) {
        // fill
      }
      assertThat(buf.array())
          .isEqualTo(Arrays.copyOfRange(plain, 4 * SEGMENT + 1, 4 * SEGMENT + 101));
    }
  }

  @Test
  void inspectMakesNoKmsCall() throws IOException {
    byte[] envelope = encrypt(byok, plaintext(10, 4));
    int before = api().callLog().size();
    EnvelopeHeader h = Byok.inspect(new ByteArrayInputStream(envelope));
    assertThat(h.encryptionContext()).isEqualTo(CTX);
    assertThat(h.keySlots()).extracting(KeySlot::keyArn).containsExactly(arn);
    assertThat(h.segmentSize()).isEqualTo(SEGMENT);
    assertThat(api().callLog()).hasSize(before);
  }

  @Test
  void statsCountHitsMissesCallsAndPurges() {
    byte[] a = encrypt(byok, plaintext(10, 1));
    encrypt(byok, plaintext(10, 2));
    byte[] b = encrypt(byok, plaintext(10, 3), EncryptionContext.of("tenant", "t2"));
    KeyCacheStats s = byok.keys().stats();
    assertThat(s.dataKeysGenerated()).isEqualTo(2);
    assertThat(s.kmsCalls()).containsEntry("generateDataKey/ok", 2L);
    assertThat(s.hits()).isZero();
    assertThat(s.misses()).isZero();

    for (int i = 0; i < 3; i++) {
      decrypt(byok, a);
    }
    s = byok.keys().stats();
    assertThat(s.misses()).isEqualTo(1);
    assertThat(s.hits()).isEqualTo(2);
    assertThat(s.kmsCalls()).containsEntry("decrypt/ok", 1L);
    assertThat(s.kmsCalls("decrypt")).isEqualTo(1);

    api().disableKey(arn);
    assertThatThrownBy(() -> decrypt(byok, b)).isInstanceOf(KeyUnusableException.class);
    s = byok.keys().stats();
    assertThat(s.kmsCalls()).containsEntry("decrypt/key-unusable", 1L);
    assertThat(s.misses()).isEqualTo(2);
    assertThat(s.purges()).isEqualTo(3); // a's decrypt entry, both active encrypting keys
    assertThat(byok.keys().cachedKeys()).isZero();
    assertThat(s.kmsCalls("decrypt")).isEqualTo(api().calls("Decrypt"));
    assertThat(s.kmsCalls("generateDataKey")).isEqualTo(api().calls("GenerateDataKey"));
  }

  @Test
  void anOutageFailsUncachedBlobsRetryablyWhileCachedOnesKeepDecrypting() {
    byte[] cached = encrypt(byok, plaintext(10, 1));
    byte[] uncached = encrypt(byok, plaintext(10, 2), EncryptionContext.of("tenant", "t2"));
    assertThat(decrypt(byok, cached)).isEqualTo(plaintext(10, 1));
    DataKey key = byok.keys().resolve(header(cached));

    api().startOutage();
    assertThatThrownBy(() -> decrypt(byok, uncached))
        .isInstanceOfSatisfying(
            KmsUnavailableException.class,
            e -> {
              assertThat(e.retryable()).isTrue();
              assertThat(e.throttled()).isFalse();
            });
    assertThat(decrypt(byok, cached)).isEqualTo(plaintext(10, 1));
    assertThat(key.materialIsZero()).isFalse(); // a transient failure purges nothing
    byte[] during = encrypt(byok, plaintext(10, 3)); // the active encrypting key needs no KMS call
    assertThat(byok.keys().stats().kmsCalls()).containsEntry("decrypt/transient", 1L);

    api().endOutage();
    assertThat(decrypt(byok, uncached)).isEqualTo(plaintext(10, 2));
    assertThat(decrypt(byok, during)).isEqualTo(plaintext(10, 3));
  }

  @Test
  void aLengthQueryDoesNotSpendADataKeyUse() throws IOException {
    Byok once = byok(fake, arn).dataKeyPolicy(DataKeyPolicy.noReuse()).build();
    long length = once.ciphertextLength(10, CTX);
    byte[] envelope = encrypt(once, plaintext(10, 1));
    assertThat(envelope).hasSize((int) length);
    assertThat(api().calls("GenerateDataKey")).isEqualTo(1);
  }

  @Test
  void builderFailsFastNamingTheBadValue() {
    FakeKms kms = fake.kms();
    assertFails(() -> Byok.builder().encryptUnder("fake-kms://" + arn).build(), "provider");
    // without a KEK an instance decrypts and makes per-tenant views; encrypting names the gap
    assertThatThrownBy(() -> encrypt(Byok.builder().provider(kms).build(), plaintext(1, 1)))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining("KEK");
    assertFails(
        () -> Byok.builder().provider(kms).encryptUnder("other-kms://alias/x").build(),
        "other-kms");
    assertFails(() -> Byok.builder().provider(kms).provider(FakeKms.create()), "fake-kms");
    assertFails(() -> Byok.builder().encryptUnder("alias/no-scheme"), "alias/no-scheme");
    assertFails(() -> Byok.builder().encryptUnder("Bad_Provider://alias/x"), "Bad_Provider");
    assertFails(() -> Byok.builder().segmentSize(100), "100");
    assertFails(() -> Byok.builder().segmentSize(9 * 1024 * 1024), String.valueOf(9 * 1024 * 1024));
    assertFails(() -> Byok.builder().decryptCache(-1, Duration.ofMinutes(1)), "-1");
    assertFails(() -> Byok.builder().decryptCache(10, Duration.ZERO), "PT0S");
    assertFails(() -> Byok.builder().allowDecryptWith("*"), "'*'");
    assertFails(() -> DataKeyPolicy.builder().maxBlobs(0), "0");
    assertFails(() -> DataKeyPolicy.builder().maxBytes(-5), "-5");
    assertFails(() -> DataKeyPolicy.builder().maxAge(Duration.ofSeconds(-1)), "PT-1S");
    Byok.Builder full = Byok.builder();
    for (int i = 0; i < EnvelopeFormat.MAX_KEY_SLOTS; i++) {
      full.encryptUnder("fake-kms://alias/k" + i);
    }
    assertFails(() -> full.encryptUnder("fake-kms://alias/one-too-many"), "16");
  }

  private static void assertFails(ThrowingCallable call, String named) {
    assertThatThrownBy(call)
        .isInstanceOfAny(IllegalArgumentException.class, IllegalStateException.class)
        .hasMessageContaining(named);
  }
}
