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
        "arn:aws:kms:eu-west-1:111122223333:key/*/x*",
        "projects/*", // Google Cloud KMS: every project
        "projects/my-project/locations/europe-west1/*", // every key ring of a location
        "projects/my-project/locations/europe-west1/keyRings/*",
        "https://*", // Azure Key Vault: every vault
        "https://tenant-a.vault.azure.net/*", // secrets and certificates too, not only keys
        "https://tenant-a.vault.azure.net/keys/k/v/*"
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
        "arn:aws:kms:ap-southeast-2:111122223333:alias/exact-alias-arn",
        "projects/my-project/locations/europe-west1/keyRings/tenants/cryptoKeys/*",
        "projects/my-project/locations/europe-west1/keyRings/tenants/cryptoKeys/a/cryptoKeyVersions/*",
        "projects/my-project/locations/global/keyRings/r/cryptoKeys/a/cryptoKeyVersions/3",
        "https://tenant-a.vault.azure.net/keys/*",
        "https://tenant-a.vault.azure.net/keys/customer-key/*",
        "https://127.0.0.1:8443/keys/customer-key/*",
        "https://tenant-a.vault.azure.net/keys/customer-key/0123456789abcdef0123456789abcdef"
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
