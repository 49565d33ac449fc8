package dev.byok.testkit.conformance;

import dev.byok.spi.KeyProvider;
import org.jspecify.annotations.Nullable;

/**
 * What {@link KeyProviderConformance} needs from a provider author: the provider under test, wired
 * to a fake or test instance of its KMS, and programmatic controls over that KMS. One fixture
 * serves one test; the suite closes it afterwards.
 *
 * <p>Every control acts on the KMS, never on the provider: the suite checks that the provider sees
 * the change through the KMS's answers. Key ids are the strings {@link #newKey()} returns (what a
 * host configures); controls also accept the resolved identifiers the provider returned for those
 * keys ({@link dev.byok.spi.WrappedKey#keyArn()}) where the KMS does.
 *
 * <p><b>Thread-safety:</b> the suite calls the controls from the test thread only; {@link
 * #provider()} is called concurrently by the thread-safety test and must return the same instance.
 */
public interface KmsFixture extends AutoCloseable {
  /**
   * The provider under test. Called many times; returns the same instance each time.
   *
   * @return the provider, wired to this fixture's KMS
   */
  KeyProvider provider();

  /**
   * Creates an enabled symmetric key the provider may use.
   *
   * @return the id the provider takes as {@code keyId} for {@code generateDataKey} and {@code
   *     encrypt}
   */
  String newKey();

  /**
   * Disables the key (AWS {@code DisableKey}; GCP: disable the primary version; Azure: {@code
   * enabled=false}).
   *
   * @param key an id from {@link #newKey()}
   */
  void disable(String key);

  /**
   * Enables a disabled key again.
   *
   * @param key an id from {@link #newKey()}
   */
  void enable(String key);

  /**
   * The KMS's "delete": AWS {@code ScheduleKeyDeletion}, GCP: destroy the versions, Azure: delete
   * (soft-delete) the key.
   *
   * @param key an id from {@link #newKey()}
   */
  void destroy(String key);

  /**
   * Removes the host's permission to use the key (key policy, IAM binding, RBAC role or access
   * policy), leaving the key itself enabled.
   *
   * @param key an id from {@link #newKey()}
   */
  void revokeAccess(String key);

  /**
   * Gives the permission {@link #revokeAccess} took back.
   *
   * @param key an id from {@link #newKey()}
   */
  void restoreAccess(String key);

  /**
   * Rotates the key: new key material / a new primary or current version encrypts from now on; the
   * old one still decrypts.
   *
   * @param key an id from {@link #newKey()}
   */
  void rotate(String key);

  /**
   * Makes the next {@code calls} requests that reach the KMS, whatever their operation, fail with
   * {@code fault}.
   *
   * @param calls how many requests, 1 or more
   * @param fault the transient fault
   */
  void failNext(int calls, Fault fault);

  /**
   * How many requests one provider call makes to the KMS when every one fails transiently: 1 when
   * the provider's client does not retry, else its configured maximum number of attempts (the first
   * one included). The suite injects this many faults to make one provider call fail, and checks
   * that fewer are absorbed by the retries.
   *
   * @return 1 by default
   */
  default int attemptsPerCall() {
    return 1;
  }

  /**
   * How many requests one provider call makes when every one fails with this fault: by default
   * {@link #attemptsPerCall()}. Override when the client retries some faults and not others (the
   * Cloud KMS client retries {@code UNAVAILABLE} but not {@code RESOURCE_EXHAUSTED}).
   *
   * @param fault the transient fault
   * @return the number of requests, 1 or more
   */
  default int attemptsPerCall(Fault fault) {
    return attemptsPerCall();
  }

  /**
   * A well-formed id of a key that does not exist in the fixture's KMS, for the "unknown key" test.
   *
   * @return the id, or {@code null} (the default) to skip that test
   */
  default @Nullable String unknownKey() {
    return null;
  }

  /** Releases the KMS, servers and clients this fixture started. */
  @Override
  void close();
}
