package dev.byok.testkit;

import static dev.byok.testkit.Envelopes.FIRST_PLAIN;
import static dev.byok.testkit.Envelopes.PLAIN;
import static dev.byok.testkit.Envelopes.SEGMENT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.EncryptionContext;
import dev.byok.EnvelopeHeader;
import dev.byok.InvalidCiphertextException;
import dev.byok.testkit.Tampering.Expected;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The variant list covers what the issue asks for, at the offsets the format spec gives. */
class TamperingVariantsTest {
  private static final byte[] PLAINTEXT =
      Envelopes.plaintext(FIRST_PLAIN + 2 * PLAIN + 100, 11); // 4 segments
  private static final byte[] ENVELOPE = Envelopes.encrypt(Envelopes.ENCRYPTOR, PLAINTEXT);
  private static final byte[] OTHER =
      Envelopes.encrypt(Envelopes.REPLICA, Envelopes.plaintext(PLAINTEXT.length, 12));
  private static final int P = EnvelopeHeader.parse(ENVELOPE).payloadOffset();

  private static Map<String, Tampering> byName(List<Tampering> variants) {
    return variants.stream().collect(Collectors.toMap(Tampering::name, Function.identity()));
  }

  @Test
  void everyVariantThatMustBeRejectedDiffersFromTheOriginalAndNamesAreUnique() {
    List<Tampering> variants = TamperSuite.variants(ENVELOPE, OTHER);

    assertThat(variants.get(0).name()).isEqualTo("untouched envelope (control)");
    assertThat(variants).extracting(Tampering::name).doesNotHaveDuplicates();
    assertThat(variants)
        .filteredOn(t -> t.expected() == Expected.REJECTED)
        .hasSizeGreaterThan(200)
        .allMatch(t -> !Arrays.equals(t.envelope(), ENVELOPE));
  }

  @Test
  void everyHeaderByteIsFlippedOnce() {
    int headerLength = P + 40;
    List<Tampering> flips =
        TamperSuite.variants(ENVELOPE).stream()
            .filter(t -> t.name().startsWith("flip") && !t.name().matches(".*\\(segment \\d.*"))
            .collect(Collectors.toList());

    assertThat(flips).hasSize(headerLength);
    for (int i = 0; i < headerLength; i++) {
      byte[] t = flips.get(i).envelope();
      assertThat((t[i] ^ ENVELOPE[i]) & 0xff).as("byte %d", i).isEqualTo(1 << (i % 8));
    }
    assertThat(flips)
        .filteredOn(t -> t.name().endsWith("(key slots)"))
        .isNotEmpty()
        .allMatch(
            t ->
                t.expected() == Expected.REJECTED_OR_ORIGINAL && t.maxReleasedBeforeFailure() == 0);
    assertThat(flips)
        .filteredOn(t -> !t.name().endsWith("(key slots)"))
        .allMatch(t -> t.expected() == Expected.REJECTED && t.maxReleasedBeforeFailure() == 0);
  }

  @Test
  void truncatesAtEverySegmentBoundaryAndOneByteEitherSide() {
    Map<String, Tampering> v = byName(TamperSuite.variants(ENVELOPE));

    assertThat(v.get("empty input").envelope()).isEmpty();
    for (int k = 1; k <= 3; k++) {
      int boundary = P + k * SEGMENT;
      Tampering at = v.get("truncate at " + boundary + ", segment " + k + " boundary");
      assertThat(at.envelope()).isEqualTo(Arrays.copyOf(ENVELOPE, boundary));
      // segment k-1 now ends the input, so it is the first one that changed
      assertThat(at.maxReleasedBeforeFailure()).isEqualTo(plaintextOffset(k - 1));
      assertThat(
              v.get("truncate at " + (boundary - 1) + ", segment " + k + " boundary -1")
                  .maxReleasedBeforeFailure())
          .isEqualTo(plaintextOffset(k - 1));
      assertThat(
              v.get("truncate at " + (boundary + 1) + ", segment " + k + " boundary +1")
                  .maxReleasedBeforeFailure())
          .isEqualTo(plaintextOffset(k));
    }
    assertThat(
            v.get("truncate at " + (P + 40) + ", the end of the header (no segment)")
                .maxReleasedBeforeFailure())
        .isZero();
  }

  @Test
  void releaseBoundsFollowTheFirstChangedSegment() {
    Map<String, Tampering> v = byName(TamperSuite.variants(ENVELOPE, OTHER));
    int lastByteOfSegment2 = P + 3 * SEGMENT - 1;

    assertThat(
            v.get(
                    "flip bit "
                        + lastByteOfSegment2 % 8
                        + " of byte "
                        + lastByteOfSegment2
                        + " (segment 2 tag)")
                .maxReleasedBeforeFailure())
        .isEqualTo(plaintextOffset(2));
    assertThat(v.get("drop segment 0").maxReleasedBeforeFailure()).isZero();
    assertThat(v.get("drop segment 3").maxReleasedBeforeFailure()).isEqualTo(plaintextOffset(2));
    assertThat(v.get("duplicate segment 1").maxReleasedBeforeFailure())
        .isEqualTo(plaintextOffset(2));
    assertThat(v.get("swap segments 1 and 2").maxReleasedBeforeFailure())
        .isEqualTo(plaintextOffset(1));
    assertThat(v.get("segment 2 from the other blob").maxReleasedBeforeFailure())
        .isEqualTo(plaintextOffset(2));
    assertThat(v.get("append 1 byte").maxReleasedBeforeFailure()).isEqualTo(plaintextOffset(3));
    assertThat(v.get("append a fake segment of 4096 bytes").envelope())
        .hasSize(ENVELOPE.length + SEGMENT);
    assertThat(
            v.get("payload header (salt, nonce prefix) from the other blob")
                .maxReleasedBeforeFailure())
        .isZero();
  }

  @Test
  void theOtherBlobsSlotsMustDecryptWhenTheImmutableHeaderIsShared() {
    Tampering shared =
        byName(TamperSuite.variants(ENVELOPE, OTHER)).get("key slot section from the other blob");
    byte[] otherContext =
        Envelopes.encrypt(
            Envelopes.encryptor(
                EncryptionContext.of("tenant", "t2"),
                "arn:aws:kms:eu-west-1:111122223333:key/primary"),
            PLAINTEXT);
    Tampering foreign =
        byName(TamperSuite.variants(ENVELOPE, otherContext))
            .get("key slot section from the other blob");

    assertThat(shared.expected()).isEqualTo(Expected.ORIGINAL);
    assertThat(shared.envelope()).isNotEqualTo(ENVELOPE); // the replica's slot really differs
    assertThat(EnvelopeHeader.parse(shared.envelope()).keySlots())
        .isEqualTo(EnvelopeHeader.parse(OTHER).keySlots());
    assertThat(foreign.expected()).isEqualTo(Expected.REJECTED_OR_ORIGINAL);
    // byok-core decrypts both: the resolver hands out the right key, and the commitment holds
    TamperSuite.run(
            List.of(shared, foreign),
            PLAINTEXT,
            TamperSuite.streaming(Envelopes.DECRYPTOR),
            InvalidCiphertextException.class)
        .assertClean();
  }

  @Test
  void aSingleSegmentEnvelopeHasNoSegmentOperationsThatNeedTwo() {
    byte[] one = Envelopes.encrypt(Envelopes.ENCRYPTOR, Envelopes.plaintext(FIRST_PLAIN, 3));
    List<String> names =
        TamperSuite.variants(one).stream().map(Tampering::name).collect(Collectors.toList());

    assertThat(names)
        .contains(
            "duplicate segment 0",
            "append 1 byte",
            "truncate at " + (one.length - 1) + ", the end -1")
        .noneMatch(n -> n.startsWith("drop") || n.startsWith("swap") || n.contains("segment 1"));
  }

  @Test
  void notAnEnvelopeIsRefused() {
    assertThatThrownBy(() -> TamperSuite.variants(new byte[] {1, 2, 3}))
        .isInstanceOf(InvalidCiphertextException.class);
  }

  private static long plaintextOffset(int segment) {
    return segment == 0 ? 0 : FIRST_PLAIN + (long) (segment - 1) * PLAIN;
  }
}
