package dev.byok;

import static dev.byok.KeyLayerFixture.CTX;
import static dev.byok.KeyLayerFixture.decrypt;
import static dev.byok.KeyLayerFixture.encrypt;
import static dev.byok.KeyLayerFixture.header;
import static dev.byok.KeyLayerFixture.plaintext;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Review of issue 15, findings 2 and 3: a view's KEKs are a boundary, provider included. */
class ViewBoundaryReviewTest {
  private final TestKms kms = new TestKms();
  private final TestKms other = new TestKms("other-kms");
  private final String a = kms.createKey();
  private final String b = kms.createKey();
  private final String sameIdElsewhere = other.createKey();
  private final Byok byok = Byok.builder().provider(kms).provider(other).build();

  private static KeyRef ref(String arn) {
    return KeyRef.of(TestKms.ID, arn);
  }

  /** Finding 2: a slot under another provider with the same key id string is another key. */
  @Test
  void readPolicyMatchesTheSlotsProviderNotJustItsKeyId() {
    assertThat(sameIdElsewhere).isEqualTo(a); // both test KMSes number their keys alike
    byte[] forged =
        encrypt(byok.forKeys(List.of(KeyRef.of("other-kms", sameIdElsewhere))), plaintext(10, 1));
    int calls = other.calls("decrypt");
    Byok tenantA = byok.forKeys(List.of(ref(a)));
    assertThatThrownBy(() -> decrypt(tenantA, forged))
        .isInstanceOf(ByokConfigurationException.class);
    Byok readerA = byok.forReading(ReadPolicy.of(List.of(ref(a)), CTX));
    assertThatThrownBy(() -> decrypt(readerA, forged))
        .isInstanceOf(ByokConfigurationException.class);
    assertThat(other.calls("decrypt")).as("no KMS call for the forged slot").isEqualTo(calls);
  }

  /** Finding 3: a tenant's view cannot rewrap another tenant's blob under its own KEK. */
  @Test
  void aViewRewrapsOnlyFromItsOwnKeks() {
    byte[] blobB = encrypt(byok.forKeys(List.of(ref(b))), plaintext(10, 2));
    Byok tenantA = byok.forKeys(List.of(ref(a)));
    int calls = kms.calls("decrypt");
    assertThatThrownBy(
            () -> tenantA.rewrapHeader(header(blobB), ReadPolicy.of(List.of(ref(b)), CTX)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(b);
    assertThat(kms.calls("decrypt")).isEqualTo(calls);
    // an instance that was built (not a view) still may
    Byok owner = Byok.builder().provider(kms).encryptUnder(ref(a)).build();
    EnvelopeHeader moved = owner.rewrapHeader(header(blobB), ReadPolicy.of(List.of(ref(b)), CTX));
    assertThat(moved.keySlots()).extracting(KeySlot::keyArn).containsExactly(a);
  }

  /** Finding 3: a reading view's own context check applies to what it rewraps. */
  @Test
  void aReadingViewRewrapsOnlyBlobsItsOwnContextAccepts() {
    byte[] otherContext =
        encrypt(
            byok.forKeys(List.of(ref(a))), plaintext(10, 3), EncryptionContext.of("tenant", "t2"));
    Byok readerA = byok.forReading(ReadPolicy.of(List.of(ref(a)), CTX));
    ReadPolicy anyContext = ReadPolicy.matching(List.of(ref(a)), c -> true);
    assertThatThrownBy(() -> readerA.rewrapHeader(header(otherContext), anyContext))
        .isInstanceOfSatisfying(
            InvalidCiphertextException.class,
            e ->
                assertThat(e.reason())
                    .isEqualTo(InvalidCiphertextException.Reason.CONTEXT_MISMATCH));
  }

  private static void isContextMismatch(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof InvalidCiphertextException e) {
        assertThat(e.reason()).isEqualTo(InvalidCiphertextException.Reason.CONTEXT_MISMATCH);
        return;
      }
    }
    throw new AssertionError("not a context mismatch", t);
  }

  /** Finding 3: views of views intersect; they never widen. */
  @Test
  void viewsOfViewsIntersect() {
    Byok tenantA = byok.forKeys(List.of(ref(a)));
    assertThatThrownBy(() -> tenantA.forKeys(List.of(ref(b))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> tenantA.forReading(ReadPolicy.of(List.of(ref(b)), CTX)))
        .isInstanceOf(IllegalArgumentException.class);
    Byok readerA = byok.forReading(ReadPolicy.of(List.of(ref(a)), CTX));
    byte[] otherContext = encrypt(tenantA, plaintext(10, 4), EncryptionContext.of("tenant", "t2"));
    Byok narrowed = readerA.forKeys(List.of(ref(a)));
    assertThatThrownBy(() -> decrypt(narrowed, otherContext))
        .satisfies(ViewBoundaryReviewTest::isContextMismatch);
    Byok wider = readerA.forReading(ReadPolicy.matching(List.of(ref(a)), c -> true));
    assertThatThrownBy(() -> decrypt(wider, otherContext))
        .satisfies(ViewBoundaryReviewTest::isContextMismatch);
    byte[] good = encrypt(tenantA, plaintext(10, 5));
    assertThat(decrypt(narrowed, good)).isEqualTo(plaintext(10, 5));
    assertThat(decrypt(wider, good)).isEqualTo(plaintext(10, 5));
  }
}
