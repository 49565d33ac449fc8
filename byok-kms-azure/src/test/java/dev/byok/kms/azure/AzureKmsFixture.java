package dev.byok.kms.azure;

import dev.byok.kms.local.azure.AzureKeyVaultServer;
import dev.byok.spi.KeyProvider;
import dev.byok.testkit.conformance.Fault;
import dev.byok.testkit.conformance.KmsFixture;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The conformance fixture (issue 14, {@code KmsFixture}) for Azure Key Vault: the provider over the
 * official client against {@link AzureKeyVaultServer}. {@link Fault#UNAVAILABLE} is HTTP 503,
 * {@link Fault#THROTTLED} is 429; the client makes {@value #ATTEMPTS} attempts for either.
 *
 * <p>Key ids handed out are versionless key URLs; {@link #newKey()} alternates RSA (vault) and
 * oct-HSM (Managed HSM) keys so both wrapping algorithms run through the suite.
 */
public final class AzureKmsFixture implements KmsFixture {
  /** Attempts per call the client makes (the first and {@link AzureTestVault}'s two retries). */
  public static final int ATTEMPTS = 3;

  private final AzureTestVault vault = new AzureTestVault();
  private final AtomicInteger keys = new AtomicInteger();

  /** Starts a test vault and a provider wired to it. */
  public AzureKmsFixture() {}

  /** {@return the provider under test} */
  @Override
  public KeyProvider provider() {
    return vault.provider;
  }

  /** {@return a new enabled key's versionless URL} */
  @Override
  public String newKey() {
    int n = keys.incrementAndGet();
    String name = String.format(Locale.ROOT, "conformance-%d", n);
    return n % 2 == 1 ? vault.server.createRsaKey(name) : vault.server.createOctHsmKey(name);
  }

  /** Disables every version of the key. */
  @Override
  public void disable(String key) {
    vault.server.setEnabled(name(key), false);
  }

  /** Enables every version of the key. */
  @Override
  public void enable(String key) {
    vault.server.setEnabled(name(key), true);
  }

  /** Soft-deletes the key (Key Vault's delete; recoverable until purged). */
  @Override
  public void destroy(String key) {
    vault.server.delete(name(key));
  }

  /** Removes the caller's role assignment on the key (403 ForbiddenByRbac). */
  @Override
  public void revokeAccess(String key) {
    vault.server.setAccessDenied(name(key), true);
  }

  /** Gives the permission back. */
  @Override
  public void restoreAccess(String key) {
    vault.server.setAccessDenied(name(key), false);
  }

  /** Creates a new current version. */
  @Override
  public void rotate(String key) {
    vault.server.rotate(name(key));
  }

  /** Fails the next {@code calls} requests (after the client's retries, these count too). */
  @Override
  public void failNext(int calls, Fault fault) {
    vault.server.failNext(
        calls,
        fault == Fault.THROTTLED
            ? AzureKeyVaultServer.Fault.THROTTLED
            : AzureKeyVaultServer.Fault.UNAVAILABLE);
  }

  @Override
  public int attemptsPerCall() {
    return ATTEMPTS;
  }

  @Override
  public String unknownKey() {
    return vault.server.vaultUrl().toString().replaceAll("/+$", "") + "/keys/no-such-key";
  }

  @Override
  public void close() {
    vault.close();
  }

  /** The key name in a key URL ({@code https://host/keys/<name>[/<version>]}). */
  private static String name(String key) {
    String rest = key.substring(key.indexOf("/keys/") + "/keys/".length());
    int slash = rest.indexOf('/');
    return slash < 0 ? rest : rest.substring(0, slash);
  }
}
