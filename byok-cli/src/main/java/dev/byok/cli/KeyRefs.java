package dev.byok.cli;

import dev.byok.EncryptionContext;
import dev.byok.KeyRef;
import dev.byok.kms.aws.AwsKmsProvider;
import java.util.Map;
import org.jspecify.annotations.NullMarked;

/** Parses the CLI's key references and contexts. Stateless. */
@NullMarked
final class KeyRefs {
  private KeyRefs() {}

  /**
   * @param s {@code aws-kms://<arn|alias/...|key id>}, or the same without the scheme
   * @return the key reference
   * @throws CliException (usage) for another provider or an empty id
   */
  static KeyRef parse(String s) {
    String v = s.strip();
    KeyRef ref;
    try {
      ref = v.contains("://") ? KeyRef.parse(v) : KeyRef.of(AwsKmsProvider.PROVIDER_ID, v);
    } catch (IllegalArgumentException e) {
      throw new CliException(
          ExitCodes.USAGE, "bad key reference '" + s + "': " + Failures.message(e), e);
    }
    if (!ref.providerId().equals(AwsKmsProvider.PROVIDER_ID)) {
      throw new CliException(
          ExitCodes.USAGE,
          "key '"
              + s
              + "': the CLI speaks AWS KMS (aws-kms://...), "
              + "locally through `byok kms serve` and --endpoint");
    }
    return ref;
  }

  /**
   * @return whether {@code keyId} is a key ARN (not an alias ARN, alias name or bare key id)
   */
  static boolean isKeyArn(String keyId) {
    return keyId.startsWith("arn:") && !keyId.contains(":alias/");
  }

  /**
   * @return the context for {@code --context k=v} pairs (empty for none)
   */
  static EncryptionContext context(Map<String, String> pairs) {
    try {
      return pairs.isEmpty() ? EncryptionContext.empty() : EncryptionContext.of(pairs);
    } catch (IllegalArgumentException e) {
      throw new CliException(ExitCodes.USAGE, "bad --context: " + Failures.message(e), e);
    }
  }
}
