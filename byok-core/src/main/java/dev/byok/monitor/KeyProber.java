package dev.byok.monitor;

import dev.byok.ByokException;
import dev.byok.KmsUnavailableException;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.RotationStatus;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The I/O of one probe: {@code DescribeKey}, the canary (made under the key if there is none yet,
 * or if an alias now points at another key) and, when due, the rotation status. No state and no
 * locks: the monitor calls it with no lock held and feeds {@link Result#observation()} to the state
 * machine.
 */
final class KeyProber {
  private static final Logger LOG = LoggerFactory.getLogger(KeyProber.class);

  private KeyProber() {}

  /**
   * What one probe found.
   *
   * @param description DescribeKey's answer, or {@code null} if it failed
   * @param describeFailure DescribeKey's failure, or {@code null}
   * @param canary the canary used (possibly new), or {@code null} if none could be made
   * @param canaryOk whether the canary decrypted to its value
   * @param canaryFailure the canary's failure, or {@code null}
   * @param rotation the rotation status, or {@code null} if not due or unavailable
   */
  record Result(
      @Nullable KeyDescription description,
      @Nullable ByokException describeFailure,
      @Nullable Canary canary,
      boolean canaryOk,
      @Nullable ByokException canaryFailure,
      @Nullable RotationStatus rotation) {
    /** {@return the state machine's input for this probe} */
    KeyStateMachine.Observation.Probe observation() {
      return KeyStateMachine.classifyProbe(description, describeFailure, canaryOk, canaryFailure);
    }
  }

  /**
   * Probes a key.
   *
   * @param p the key's provider
   * @param keyId the key as watched (alias or ARN)
   * @param canary the canary made earlier, or {@code null}
   * @param canaryKeyId the key to make a new canary under
   * @param pinned whether the canary stays with its key ARN even if {@code keyId} now resolves to
   *     another (a watch of an old ARN after a retarget)
   * @param rotationDue whether to ask for the rotation status
   * @return what it found
   */
  static Result probe(
      KeyProvider p,
      String keyId,
      @Nullable Canary canary,
      String canaryKeyId,
      boolean pinned,
      boolean rotationDue) {
    KeyDescription description = null;
    ByokException describeFailure = null;
    try {
      description = p.describeKey(keyId);
    } catch (ByokException e) {
      describeFailure = e;
    } catch (RuntimeException bug) {
      describeFailure = providerBug("DescribeKey", keyId, bug);
    }
    Canary c = canary;
    if (c != null && description != null && !description.keyArn().equals(c.keyArn()) && !pinned) {
      c = null; // a retargeted alias gets a fresh canary under the key it points at now
    }
    ByokException canaryFailure = null;
    boolean canaryOk = false;
    try {
      if (c == null) {
        c = Canary.make(p, canaryKeyId);
      }
      canaryOk = c.check(p);
    } catch (ByokException e) {
      canaryFailure = e;
    } catch (RuntimeException bug) {
      canaryFailure = providerBug("canary", keyId, bug);
    }
    RotationStatus rotation = null;
    if (rotationDue && description != null) {
      try {
        rotation = p.rotationStatus(keyId);
      } catch (RuntimeException e) { // ByokException, or a provider's bug
        LOG.debug("rotation status of {} unavailable: {}", keyId, e.toString());
      }
    }
    return new Result(description, describeFailure, c, canaryOk, canaryFailure, rotation);
  }

  /**
   * A provider that throws something other than a {@link ByokException} (a raw SDK exception, a
   * {@code NullPointerException} on a {@code null} answer) is broken, not revoked: the probe counts
   * as transient and the key is probed again on schedule.
   */
  private static ByokException providerBug(String what, String keyId, RuntimeException bug) {
    LOG.warn("key provider failed unexpectedly during {} of {}", what, keyId, bug);
    return new KmsUnavailableException(
        what + " of " + keyId + " failed unexpectedly: " + bug.getClass().getName(), false, bug);
  }
}
