package dev.byok.kms.azure;

import com.azure.core.exception.HttpResponseException;
import com.azure.json.JsonSerializable;
import dev.byok.ByokConfigurationException;
import dev.byok.ByokException;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The one table that turns Key Vault failures into byok's classes (documented row by row in
 * docs/azure-key-vault.md; every row is exercised over the wire by AzureKeyVaultProviderTest).
 */
final class AzureErrors {
  private static final Pattern CODE = Pattern.compile("\"code\"\\s*:\\s*\"([^\"]{1,100})\"");

  private AzureErrors() {}

  /**
   * Maps a failure of {@code operation} on {@code keyId}; never returns an Azure type.
   *
   * @param unwrap whether the operation was an unwrap: there a 400 means the wrapped key was
   *     rejected
   */
  static ByokException map(String operation, String keyId, RuntimeException e, boolean unwrap) {
    if (!(e instanceof HttpResponseException)) {
      // network, time-outs, TLS, credential that cannot get a token: the key may be fine
      return new KmsUnavailableException(
          operation + " on " + keyId + ": could not reach Key Vault: " + describe(e), false, e);
    }
    HttpResponseException h = (HttpResponseException) e;
    int status = h.getResponse() == null ? 0 : h.getResponse().getStatusCode();
    Codes codes = codes(h);
    @Nullable String code = codes.code();
    @Nullable String inner = codes.inner();
    String message =
        operation
            + " on "
            + keyId
            + " failed: HTTP "
            + status
            + (code == null ? "" : " " + code)
            + (inner == null ? "" : "/" + inner);
    if (status == 429 || status == 408 || status >= 500 || status == 0) {
      return new KmsUnavailableException(message, status == 429, e);
    }
    if (status == 401) {
      // the host's token was refused after the challenge: host-side credential trouble
      return new KmsUnavailableException(message, false, e);
    }
    if (status == 403) {
      KeyUnusableException.Reason reason;
      if ("KeyDisabled".equals(inner)) {
        reason = KeyUnusableException.Reason.DISABLED;
      } else if ("KeyExpired".equals(inner) || "KeyNotYetValid".equals(inner)) {
        reason = KeyUnusableException.Reason.UNAVAILABLE;
      } else {
        reason = KeyUnusableException.Reason.ACCESS_DENIED;
      }
      return new KeyUnusableException(reason, keyId, message, e);
    }
    if (status == 404) {
      return new KeyUnusableException(KeyUnusableException.Reason.NOT_FOUND, keyId, message, e);
    }
    if (status == 400 && unwrap) {
      return new InvalidCiphertextException(
          InvalidCiphertextException.Reason.WRAPPED_KEY_REJECTED, message, e);
    }
    return new ByokConfigurationException(message, e);
  }

  /** The outer and innermost error codes of Key Vault's error body. */
  record Codes(@Nullable String code, @Nullable String inner) {}

  /** The outer and innermost error codes of Key Vault's error body, where it sent one. */
  static Codes codes(HttpResponseException h) {
    @Nullable String body = null;
    Object value = h.getValue();
    if (value instanceof JsonSerializable<?>) {
      try {
        body = ((JsonSerializable<?>) value).toJsonString();
      } catch (IOException | RuntimeException ignored) {
        body = null;
      }
    }
    if (body == null) {
      body = String.valueOf(h.getMessage());
    }
    Matcher m = CODE.matcher(body);
    @Nullable String first = null;
    @Nullable String last = null;
    while (m.find()) {
      if (first == null) {
        first = m.group(1);
      } else {
        last = m.group(1);
      }
    }
    return new Codes(first, last);
  }

  private static String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    @Nullable String m = root.getMessage();
    return root.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }
}
