package dev.byok;

import static dev.byok.Blobs.byok;
import static dev.byok.Blobs.concat;
import static dev.byok.Blobs.dataKeyCalls;
import static dev.byok.Blobs.decrypt;
import static dev.byok.Blobs.encrypt;
import static dev.byok.Blobs.header;
import static dev.byok.Blobs.keysCalled;
import static dev.byok.Blobs.plaintext;
import static dev.byok.Blobs.withSlots;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.kms.local.InMemoryKms;
import dev.byok.testkit.FakeKmsExtension;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A header is untrusted input: slots naming an unknown provider or a KEK off the allow-list, too
 * many slots, absurd lengths are typed errors, and no data-key call reaches any KMS for them.
 */
class UntrustedHeaderTest {
  @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();

  private String trusted;
  private String other; // a real key in the same fake KMS, which would unwrap if it were asked
  private byte[] blob;
  private byte[] otherBlob;
  private final byte[] plain = plaintext(100, 5);

  private InMemoryKms api() {
    return fake.api();
  }

  @BeforeEach
  void blobs() {
    trusted = api().createKey().arn();
    other = api().createKey().arn();
    blob = encrypt(byok(fake, trusted).build(), plain);
    otherBlob = encrypt(byok(fake, other).build(), plain);
    api().resetCallLog();
  }

  private Byok reader() {
    return byok(fake, trusted).build();
  }

  private void assertNoDataKeyCall() {
    assertThat(dataKeyCalls(api())).as("data-key calls in %s", api().callLog()).isZero();
  }

  @Test
  void aSlotNamingAnUnknownProviderIsRefusedWithoutAKmsCall() {
    KeySlot s = header(blob).keySlots().get(0);
    byte[] hostile = withSlots(blob, List.of(KeySlot.of("evil-kms", s.keyArn(), s.wrappedKey())));
    assertThatThrownBy(() -> decrypt(reader(), hostile))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining("evil-kms");
    assertNoDataKeyCall();
  }

  @Test
  void aSlotNamingAKekOffTheAllowListIsNeverFollowed() {
    assertThatThrownBy(() -> decrypt(reader(), otherBlob))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining(other)
        .hasMessageContaining("allow-list");
    // the same slot spliced into a blob of the trusted key's data key
    byte[] spliced = withSlots(blob, header(otherBlob).keySlots());
    assertThatThrownBy(() -> decrypt(reader(), spliced))
        .isInstanceOf(ByokConfigurationException.class);
    // a KMS address in another account and region
    KeySlot foreign =
        KeySlot.of(
            "fake-kms",
            "arn:aws:kms:eu-west-1:999999999999:key/" + java.util.UUID.randomUUID(),
            header(blob).keySlots().get(0).wrappedKey());
    assertThatThrownBy(() -> decrypt(reader(), withSlots(blob, List.of(foreign))))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining("999999999999");
    // a reader that names its KEK by alias resolves its own alias (DescribeKey), never the header's
    // key
    api().createAlias("alias/app", trusted);
    assertThatThrownBy(() -> decrypt(byok(fake, "alias/app").build(), otherBlob))
        .isInstanceOf(ByokConfigurationException.class);
    assertThat(keysCalled(api(), "DescribeKey")).containsOnly("alias/app");
    assertNoDataKeyCall();

    // control: allowed explicitly, the same blob decrypts, so the refusal above was the
    // allow-list's
    assertThat(decrypt(byok(fake, trusted).allowDecryptWith(other).build(), otherBlob))
        .isEqualTo(plain);
  }

  @Test
  void aHostileSlotBesideAGoodOneIsSkippedAndOnlyTheAllowedKekIsAsked() {
    KeySlot hostile = header(otherBlob).keySlots().get(0);
    byte[] mixed = withSlots(blob, List.of(hostile, header(blob).keySlots().get(0)));
    assertThat(decrypt(reader(), mixed)).isEqualTo(plain);
    assertThat(keysCalled(api(), "Decrypt")).containsExactly(trusted);
  }

  @Test
  void moreSlotsThanTheBoundIsMalformed() {
    KeySlot s = header(blob).keySlots().get(0);
    KeySlot[] slots = new KeySlot[EnvelopeFormat.MAX_KEY_SLOTS + 1];
    Arrays.fill(slots, s);
    byte[] hostile = withRawSlotSection(blob, slotSection(slots));
    assertMalformed(hostile);
    // control: the bound itself is accepted
    byte[] atBound =
        withRawSlotSection(blob, slotSection(Arrays.copyOf(slots, EnvelopeFormat.MAX_KEY_SLOTS)));
    assertThat(header(atBound).keySlots()).hasSize(EnvelopeFormat.MAX_KEY_SLOTS);
  }

  @Test
  void aWrappedKeyOfAbsurdLengthIsMalformed() {
    String arn = header(blob).keySlots().get(0).keyArn();
    for (int length : new int[] {KeySlot.MAX_WRAPPED_KEY_BYTES + 1, 0xffff}) {
      ByteArrayOutputStream slot = new ByteArrayOutputStream();
      slot.write(1); // one slot
      writeSlot(slot, "fake-kms", arn, new byte[length]);
      assertMalformed(withRawSlotSection(blob, slot.toByteArray()));
    }
    // a length that runs past the section
    ByteArrayOutputStream slot = new ByteArrayOutputStream();
    slot.write(1);
    writeSlot(slot, "fake-kms", arn, new byte[100]);
    byte[] section = slot.toByteArray();
    section[section.length - 102] =
        0x10; // high byte: claims 0x1064 = 4196 wrapped bytes, 100 present
    assertMalformed(withRawSlotSection(blob, section));
  }

  private void assertMalformed(byte[] hostile) {
    assertThatThrownBy(() -> decrypt(reader(), hostile))
        .isInstanceOfSatisfying(
            InvalidCiphertextException.class,
            e ->
                assertThat(e.reason())
                    .isEqualTo(InvalidCiphertextException.Reason.MALFORMED_HEADER));
    assertThatThrownBy(() -> Byok.inspect(new ByteArrayInputStream(hostile)))
        .isInstanceOf(InvalidCiphertextException.class);
    assertNoDataKeyCall();
  }

  /** A slot section body (count, then slots), encoded by hand so it can break the bounds. */
  private static byte[] slotSection(KeySlot... slots) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(slots.length);
    for (KeySlot s : slots) {
      writeSlot(b, s.providerId(), s.keyArn(), s.wrappedKey());
    }
    return b.toByteArray();
  }

  private static void writeSlot(
      ByteArrayOutputStream b, String provider, String arn, byte[] wrapped) {
    byte[] p = provider.getBytes(StandardCharsets.UTF_8);
    byte[] a = arn.getBytes(StandardCharsets.UTF_8);
    b.write(p.length);
    b.writeBytes(p);
    b.write(a.length >>> 8);
    b.write(a.length);
    b.writeBytes(a);
    b.write(wrapped.length >>> 8);
    b.write(wrapped.length);
    b.writeBytes(wrapped);
  }

  /**
   * The envelope with its slot section replaced by {@code body} (and a length field that matches
   * it).
   */
  private static byte[] withRawSlotSection(byte[] envelope, byte[] body) {
    EnvelopeHeader h = header(envelope);
    int n = body.length;
    return concat(
        Arrays.copyOf(envelope, h.immutableLength()),
        new byte[] {(byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n},
        body,
        Arrays.copyOfRange(envelope, h.payloadOffset(), envelope.length));
  }
}
