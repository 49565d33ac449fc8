package dev.byok;

import static dev.byok.InvalidCiphertextException.Reason.CONTEXT_MISMATCH;
import static dev.byok.InvalidCiphertextException.Reason.KEY_COMMITMENT_MISMATCH;
import static dev.byok.RobustTestSupport.CONTEXT;
import static dev.byok.RobustTestSupport.FIRST_PLAIN;
import static dev.byok.RobustTestSupport.PLAIN;
import static dev.byok.RobustTestSupport.assertInvalid;
import static dev.byok.RobustTestSupport.concat;
import static dev.byok.RobustTestSupport.decryptChannel;
import static dev.byok.RobustTestSupport.decryptStream;
import static dev.byok.RobustTestSupport.withField;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.RobustTestSupport.ByteArrayChannel;
import dev.byok.RobustTestSupport.CountingInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The checks that come before any payload byte: the required encryption context (checked before the
 * resolver is even asked), and the key commitment (wrong key, or a header whose authenticated
 * fields were changed). Rewrap replaces only the key slots.
 */
class ContextAndKeyTest {
  private final DataKey key = DataKey.generate();
  private final byte[] pt = RobustTestSupport.plaintext(FIRST_PLAIN + 2 * PLAIN + 10);
  private final byte[] envelope = RobustTestSupport.envelopeOf(key, pt);
  private final EnvelopeHeader header = EnvelopeHeader.parse(envelope);

  /** Same id, other material: only the commitment can tell. */
  private DataKey impostor() {
    return DataKey.of(key.id(), DataKey.generate().copyKeyMaterial());
  }

  @Test
  void wrongKeyIsRejectedBeforeAnyPayloadByteIsRead() throws IOException {
    EnvelopeDecryptor dec = EnvelopeDecryptor.create(DataKeyResolver.of(impostor()));
    CountingInputStream source = new CountingInputStream(new ByteArrayInputStream(envelope));
    assertInvalid(KEY_COMMITMENT_MISMATCH, () -> dec.newDecryptingStream(source));
    assertThat(source.count).as("bytes read: the header only").isEqualTo(header.length());

    ByteArrayChannel channel = new ByteArrayChannel(envelope);
    assertInvalid(KEY_COMMITMENT_MISMATCH, () -> dec.newDecryptingChannel(channel));
    assertThat(channel.readEnd).isLessThanOrEqualTo(header.length());

    RangePlan plan = header.planRange(envelope.length, 5000, 100);
    CountingInputStream fetched =
        new CountingInputStream(
            new ByteArrayInputStream(
                Arrays.copyOfRange(
                    envelope,
                    (int) plan.ciphertextOffset(),
                    (int) (plan.ciphertextOffset() + plan.ciphertextLength()))));
    assertInvalid(KEY_COMMITMENT_MISMATCH, () -> dec.decryptRange(header, plan, fetched, null));
    assertThat(fetched.count).isZero();
    assertThat(header.matchesKey(impostor())).isFalse();
    assertThat(header.matchesKey(key)).isTrue();
  }

  static Stream<EncryptionContext> wrongContexts() {
    return Stream.of(
        EncryptionContext.empty(),
        EncryptionContext.of("a", "1"),
        EncryptionContext.of("a", "1", "b", "2", "c", "3"),
        EncryptionContext.of("a", "1", "b", "3"),
        EncryptionContext.of("a", "1", "B", "2"),
        EncryptionContext.of("a", "1", "b", "2 "));
  }

  @ParameterizedTest
  @MethodSource("wrongContexts")
  void wrongContextIsRejectedAndTheResolverNeverAsked(EncryptionContext wrong, @TempDir Path dir)
      throws IOException {
    AtomicInteger calls = new AtomicInteger();
    EnvelopeDecryptor dec =
        EnvelopeDecryptor.create(
            h -> {
              calls.incrementAndGet();
              return key;
            });
    CountingInputStream source = new CountingInputStream(new ByteArrayInputStream(envelope));
    InvalidCiphertextException e =
        assertInvalid(CONTEXT_MISMATCH, () -> dec.newDecryptingStream(source, wrong));
    assertThat(e.getMessage()).contains(wrong.asMap().toString());
    assertThat(source.count).isLessThanOrEqualTo(header.length());
    assertInvalid(
        CONTEXT_MISMATCH, () -> dec.newDecryptingChannel(new ByteArrayChannel(envelope), wrong));
    RangePlan plan = header.planRange(envelope.length, 0, 10);
    assertInvalid(
        CONTEXT_MISMATCH,
        () -> dec.decryptRange(header, plan, InputStream.nullInputStream(), wrong));
    Path file = Files.write(dir.resolve("e.byok"), envelope);
    assertInvalid(CONTEXT_MISMATCH, () -> dec.decryptFile(file, dir.resolve("out"), wrong));
    assertThat(calls).hasValue(0);

    // the right context, built in another order, passes and asks the resolver once
    EncryptionContext same = EncryptionContext.of(Map.of("b", "2", "a", "1"));
    try (InputStream in = dec.newDecryptingStream(new ByteArrayInputStream(envelope), same)) {
      assertThat(in.readAllBytes()).isEqualTo(pt);
    }
    assertThat(calls).hasValue(1);
  }

  /** Changes to authenticated header fields that keep the header well-formed. */
  static Stream<Object[]> authenticatedChanges() {
    return Stream.of(
        new Object[] {"first DEK id byte", 12, 0x01},
        new Object[] {"last DEK id byte", 27, 0x80},
        new Object[] {"first context key 'a' -> '0'", 32, 'a' ^ '0'},
        new Object[] {"first context value '1' -> '3'", 35, '1' ^ '3'},
        new Object[] {"segment size 4096 -> 4096 + 256", 10, 0x01},
        new Object[] {"first commitment byte", -32, 0x01},
        new Object[] {"last commitment byte", -1, 0x01});
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("authenticatedChanges")
  void changedAuthenticatedHeaderFieldsBreakTheCommitment(String what, int at, int xor) {
    int pos = at < 0 ? header.immutableLength() + at : at;
    byte[] bad = envelope.clone();
    bad[pos] ^= (byte) xor;
    EnvelopeHeader parsed = EnvelopeHeader.parse(bad);
    assertThat(parsed.matchesKey(key)).isFalse();
    assertInvalid(KEY_COMMITMENT_MISMATCH, () -> decryptStream(key, bad));
    assertInvalid(KEY_COMMITMENT_MISMATCH, () -> decryptChannel(key, bad));
  }

  @Test
  void withKeySlotsRewritesOnlyTheSlots() throws IOException {
    List<KeySlot> slots =
        List.of(
            KeySlot.of("aws-kms", "arn:aws:kms:eu-west-1:111122223333:key/new", new byte[300]),
            KeySlot.of("local", "key-2", new byte[] {9}));
    EnvelopeHeader rewrapped = header.withKeySlots(slots);
    byte[] out =
        concat(
            rewrapped.toByteArray(),
            Arrays.copyOfRange(envelope, header.length(), envelope.length));

    EnvelopeHeader reparsed = EnvelopeHeader.parse(out);
    assertThat(reparsed.keySlots()).containsExactlyElementsOf(slots);
    assertThat(reparsed.associatedData()).isEqualTo(header.associatedData());
    assertThat(Arrays.copyOf(out, header.immutableLength()))
        .isEqualTo(Arrays.copyOf(envelope, header.immutableLength()));
    // payload header and every segment byte for byte
    assertThat(Arrays.copyOfRange(out, reparsed.payloadOffset(), out.length))
        .isEqualTo(Arrays.copyOfRange(envelope, header.payloadOffset(), envelope.length));
    assertThat(out.length - envelope.length).isEqualTo(reparsed.length() - header.length());
    assertThat(reparsed.matchesKey(key)).isTrue();
    assertThat(decryptStream(key, out)).isEqualTo(pt);
    assertThat(decryptChannel(key, out)).isEqualTo(pt);
    try (InputStream in =
        EnvelopeDecryptor.create(DataKeyResolver.of(key))
            .newDecryptingStream(new ByteArrayInputStream(out), CONTEXT)) {
      assertThat(in.readAllBytes()).isEqualTo(pt);
    }
    // and back again
    byte[] back =
        concat(
            reparsed.withKeySlots(header.keySlots()).toByteArray(),
            Arrays.copyOfRange(out, reparsed.length(), out.length));
    assertThat(back).isEqualTo(envelope);
  }

  @Test
  void withKeySlotsRejectsNoneOrTooMany() {
    assertThatThrownBy(() -> header.withKeySlots(List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("got 0");
    List<KeySlot> seventeen = new ArrayList<>();
    for (int i = 0; i < 17; i++) {
      seventeen.add(KeySlot.of("p", "k" + i, new byte[] {1}));
    }
    assertThatThrownBy(() -> header.withKeySlots(seventeen))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("got 17");
    assertThat(header.withKeySlots(seventeen.subList(0, 16)).keySlots()).hasSize(16);
  }

  @Test
  void theResolversOwnFailureReachesTheCallerUnchanged() {
    ByokException revoked = new ByokException("key revoked");
    EnvelopeDecryptor dec =
        EnvelopeDecryptor.create(
            h -> {
              throw revoked;
            });
    assertThatThrownBy(() -> dec.newDecryptingStream(new ByteArrayInputStream(envelope)))
        .isSameAs(revoked);
    EnvelopeDecryptor nullResolver = EnvelopeDecryptor.create(h -> null);
    assertThatThrownBy(() -> nullResolver.newDecryptingStream(new ByteArrayInputStream(envelope)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(header.dekIdHex());
  }

  @Test
  void theResolverSeesTheParsedHeader() throws IOException {
    List<EnvelopeHeader> seen = new ArrayList<>();
    EnvelopeDecryptor dec =
        EnvelopeDecryptor.create(
            h -> {
              seen.add(h);
              return key;
            });
    byte[] changedId = withField(envelope, 12, 1, envelope[12] ^ 0xff);
    assertInvalid(
        KEY_COMMITMENT_MISMATCH,
        () -> dec.newDecryptingStream(new ByteArrayInputStream(changedId)));
    assertThat(seen).hasSize(1);
    assertThat(seen.get(0).dekId()).isNotEqualTo(key.id());
    assertThat(seen.get(0).keySlots()).containsExactly(RobustTestSupport.SLOT);
  }
}
