package dev.byok;

import static dev.byok.KeyLayerFixture.byok;
import static dev.byok.KeyLayerFixture.decrypt;
import static dev.byok.KeyLayerFixture.encrypt;
import static dev.byok.KeyLayerFixture.header;
import static dev.byok.KeyLayerFixture.plaintext;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Readers get a lease copy of a cached data key; the key commitment a lease checked must be
 * remembered by the cached key, so the next blob under the same immutable header skips the HMAC
 * (the cache-hit cost this buys is in docs/benchmarks.md).
 */
class CommitmentMemoTest {
  private final TestKms kms = new TestKms();
  private final String kek = kms.createKey();

  @Test
  void aCommitmentCheckedThroughALeaseIsRememberedByTheCachedKey() {
    try (Byok byok = byok(kms, kek).build()) {
      byte[] data = plaintext(100, 7);
      byte[] envelope = encrypt(byok, data);
      EnvelopeHeader header = header(envelope);
      byok.keys().invalidate(kmsArn()); // the read below unwraps and caches afresh

      assertThat(decrypt(byok, envelope)).isEqualTo(data);
      DataKey cached = byok.keys().cachedKey(header);
      assertThat(cached).isNotNull();
      assertThat(cached.verifiedFor(header.immutableBytes())).isTrue();

      DataKey lease = byok.keys().resolve(header);
      try {
        assertThat(lease.verifiedFor(header.immutableBytes())).isTrue(); // the next read skips it
      } finally {
        lease.destroy();
      }
    }
  }

  @Test
  void aLeaseDoesNotMarkAnotherHeaderVerified() {
    try (Byok byok = byok(kms, kek).build()) {
      byte[] first = encrypt(byok, plaintext(10, 1));
      byte[] second = encrypt(byok, plaintext(10, 2), EncryptionContext.of("tenant", "t2"));
      decrypt(byok, first);
      DataKey cached = byok.keys().cachedKey(header(first));
      assertThat(cached).isNotNull();
      assertThat(cached.verifiedFor(header(second).immutableBytes())).isFalse();
    }
  }

  private String kmsArn() {
    return kek;
  }
}
