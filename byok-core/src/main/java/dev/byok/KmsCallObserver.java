package dev.byok;

import org.jspecify.annotations.Nullable;

/**
 * Told about every KMS call a {@link DataKeyManager} makes, so a monitor can learn passively from
 * the data path (a denial seen on a real decrypt is news about the key). Called on the thread that
 * made the call, after it, and never while byok holds a lock (byok makes no KMS call under a lock
 * or inside a map computation); must be fast, must not block and must not throw — hand anything
 * slow, and every host callback, to another thread.
 *
 * <p>Implementations must be thread-safe.
 */
@FunctionalInterface
public interface KmsCallObserver {
  /**
   * Told about one KMS call, after it returned or failed.
   *
   * @param operation e.g. {@code decrypt}, {@code generateDataKey}
   * @param keyId the key as named in the call (a resolved ARN, or a configured alias)
   * @param resolvedArn the key ARN the KMS answered with, or {@code null} if unknown (failures)
   * @param failure the classified failure, or {@code null} on success
   */
  void onCall(
      String operation,
      String keyId,
      @Nullable String resolvedArn,
      @Nullable ByokException failure);
}
