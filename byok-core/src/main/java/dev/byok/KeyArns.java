package dev.byok;

import java.util.regex.Pattern;

/**
 * What a key identifier in a header or an allow-list may look like.
 *
 * <p>A header's key ARN is untrusted text that reaches the KMS, logs, exception messages and {@code
 * byok inspect}: it may hold only the characters a KMS key ARN, alias or key id can hold ({@value
 * #ALLOWED}). An allow-list prefix must pin the partition, the Region, the account and {@code
 * :key/}: a broader one lets anyone who can create a key under it forge accepted blobs.
 *
 * <p>Stateless and thread-safe.
 */
final class KeyArns {
  /** The characters a key identifier in a header may hold, as a regular-expression class. */
  static final String ALLOWED = "[A-Za-z0-9:/_.-]";

  private static final Pattern KEY_ID = Pattern.compile(ALLOWED + "+");

  /**
   * The broadest a wildcard allow-list entry may be, per KMS: the scope inside which a key is
   * created, and no broader. AWS: {@code arn:<partition>:kms:<region>:<12-digit account>:key/} and
   * at most a key-id prefix. Google Cloud KMS: one key ring, {@code
   * projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/}, optionally narrowed to one CryptoKey's
   * versions ({@code .../cryptoKeys/<k>/cryptoKeyVersions/}). Azure Key Vault: one vault, {@code
   * https://<vault host>/keys/}, optionally narrowed to one key's versions ({@code
   * .../keys/<name>/}).
   */
  private static final Pattern PINNED_PREFIX =
      Pattern.compile(
          "arn:aws(-[a-z]+)*:kms:[a-z]{2}(-[a-z]+)+-[0-9]{1,2}:[0-9]{12}:key/[A-Za-z0-9-]*"
              + "|projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/locations/[a-z0-9-]+/keyRings/[A-Za-z0-9_-]+"
              + "/cryptoKeys/([A-Za-z0-9_-]*|[A-Za-z0-9_-]+/cryptoKeyVersions/[0-9]*)"
              + "|https://[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?"
              + "/keys/([A-Za-z0-9-]*|[A-Za-z0-9-]+/[A-Za-z0-9]*)");

  private KeyArns() {}

  /**
   * Checks a key identifier (a slot's key ARN, an exact allow-list entry).
   *
   * @return {@code null} if it is acceptable, else why not (already escaped for display)
   */
  static @org.jspecify.annotations.Nullable String problem(String keyId) {
    if (KEY_ID.matcher(keyId).matches()) {
      return null;
    }
    for (int i = 0; i < keyId.length(); ) {
      int cp = keyId.codePointAt(i);
      String one = new String(Character.toChars(cp));
      if (!KEY_ID.matcher(one).matches()) {
        return "key ARN '"
            + Escaping.forDisplay(keyId)
            + "' holds "
            + Escaping.forDisplay(String.format("U+%04X", cp))
            + ", which no KMS key ARN, alias or key id can hold (allowed: "
            + ALLOWED
            + ")";
      }
      i += Character.charCount(cp);
    }
    return "key ARN is empty";
  }

  /**
   * Checks one allow-list entry.
   *
   * @return the entry
   * @throws IllegalArgumentException saying why, if it is a wildcard broader than one account's
   *     keys in one Region, or not a key identifier
   */
  static String checkAllowEntry(String entry) {
    if (entry.endsWith("*")) {
      String prefix = entry.substring(0, entry.length() - 1);
      if (!PINNED_PREFIX.matcher(prefix).matches()) {
        throw new IllegalArgumentException(
            "allow-list entry '"
                + Escaping.forDisplay(entry)
                + "' is too broad: a prefix must pin the partition, Region, account and ':key/',"
                + " e.g. arn:aws:kms:eu-west-1:111122223333:key/* (Google Cloud KMS: one key"
                + " ring's cryptoKeys/ or one CryptoKey's cryptoKeyVersions/; Azure Key Vault: one"
                + " vault's keys/ or one key's versions), or name an exact key,"
                + " because anyone who can create or use a key under a broader prefix could write"
                + " blobs this reader accepts");
      }
      return entry;
    }
    String p = problem(entry);
    if (p != null) {
      throw new IllegalArgumentException(
          "allow-list entry is not an exact key ARN or a pinned prefix ending in '*': " + p);
    }
    return entry;
  }
}
