package dev.byok;

/**
 * Finds the data key of an envelope from its header: the seam where key management plugs into
 * decryption. An implementation typically unwraps one of {@link EnvelopeHeader#keySlots()} through
 * a KMS, with caching. The decryptor checks the returned key against the header's key commitment
 * before any payload byte is processed, so a resolver cannot make a wrong key decrypt anything.
 *
 * <p>Implementations must be thread-safe: one decryptor serves many threads.
 */
@FunctionalInterface
public interface DataKeyResolver {
  /**
   * Returns the data key for {@code header}.
   *
   * @param header the parsed header; nothing in it has been authenticated yet, so never follow a
   *     KMS address or key found in it without checking it against your own configuration
   * @return the data key (not destroyed); the decryptor destroys it as soon as it has derived the
   *     blob key if it is a single-use key — {@link DataKeyManager} hands out only those, each a
   *     private copy (a lease) that a purge of the cache cannot pull away mid-use
   * @throws ByokException if the key cannot be had (for example the KMS key is revoked)
   */
  DataKey resolve(EnvelopeHeader header);

  /**
   * A resolver that always answers with {@code key}; for tests and for callers that manage data
   * keys themselves.
   *
   * @param key the data key
   * @return the resolver
   */
  static DataKeyResolver of(DataKey key) {
    java.util.Objects.requireNonNull(key, "key");
    return header -> key;
  }
}
