package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 15, item 5: allow-list patterns pin partition, Region, account and {@code :key/} (or name
 * an exact key); anything broader is refused by the builders with the reason.
 */
class AllowListPatternTest {
  @ParameterizedTest
  @ValueSource(
      strings = {
        "*",
        "arn:*",
        "arn:aws:*",
        "arn:aws:kms:*",
        "arn:aws:kms:eu-west-1:*", // every account in a Region
        "arn:aws:kms:*:111122223333:key/*", // account-wide in every Region
        "arn:aws:kms::111122223333:key/*", // no Region
        "arn:aws:kms:eu-west-1:111122223333:*", // aliases too, not only keys
        "arn:aws:kms:eu-west-1:111122223333:alias/*",
        "arn:aws:kms:eu-west-1:1111:key/*", // not an account id
        "arn:aws:s3:eu-west-1:111122223333:key/*",
        "arn:aws:kms:eu-west-1:111122223333:key/*/x*"
      })
  void allowListPatternsBroaderThanOneAccountsKeysInOneRegionAreRefused(String broad) {
    assertThatThrownBy(() -> DataKeyManager.builder().allowKeys(broad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + broad + "'")
        .hasMessageContaining("must pin the partition, Region, account and ':key/'")
        .hasMessageContaining("could write blobs this reader accepts");
    assertThatThrownBy(() -> Byok.builder().allowDecryptWith(broad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("too broad");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "arn:aws:kms:eu-west-1:111122223333:key/*",
        "arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/*",
        "arn:aws-cn:kms:cn-north-1:111122223333:key/mrk-*",
        "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:ap-southeast-2:111122223333:alias/exact-alias-arn"
      })
  void pinnedPrefixesAndExactKeysAreAccepted(String entry) {
    DataKeyManager.builder().allowKeys(entry);
    Byok.builder().allowDecryptWith(entry);
  }

  @Test
  void anExactEntryWithCharactersNoKeyArnHoldsIsRefused() {
    assertThatThrownBy(() -> DataKeyManager.builder().allowKeys("arn:aws:kms:eu-west-1:1:key/a b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("U+0020");
    assertThatThrownBy(() -> DataKeyManager.builder().allowKeys("arn:\u001b[31m"))
        .isInstanceOf(IllegalArgumentException.class)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\u001b"));
  }
}
