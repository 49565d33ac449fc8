package dev.byok.testkit.conformance;

import dev.byok.kms.local.InMemoryKms;
import dev.byok.kms.local.LocalKmsException;
import dev.byok.spi.KeyProvider;
import dev.byok.testkit.FakeKms;
import dev.byok.testkit.ManualClock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A {@link KmsFixture} over byok-kms-local's {@link InMemoryKms}, for any provider that talks to
 * it: {@link FakeKms} itself ({@link #fake()}), or an AWS KMS provider whose client points at a
 * {@code LocalKmsServer} in front of the same {@code InMemoryKms} ({@link #of}).
 *
 * <p>The controls map to AWS KMS: disable/enable = {@code DisableKey}/{@code EnableKey}; destroy =
 * {@code ScheduleKeyDeletion} with the 7-day minimum window; revoke = the key policy stops allowing
 * the caller ({@link InMemoryKms#denyAccess}); rotate = {@code RotateKeyOnDemand}; {@link
 * Fault#UNAVAILABLE} = {@code KMSInternalException} (HTTP 500), {@link Fault#THROTTLED} = {@code
 * ThrottlingException}.
 *
 * <p>Thread-safe (the {@code InMemoryKms} is).
 */
public final class InMemoryKmsFixture implements KmsFixture {
  private final InMemoryKms kms;
  private final KeyProvider provider;
  private final int attemptsPerCall;
  private final List<AutoCloseable> resources;

  private InMemoryKmsFixture(
      InMemoryKms kms, KeyProvider provider, int attemptsPerCall, List<AutoCloseable> resources) {
    this.kms = kms;
    this.provider = provider;
    this.attemptsPerCall = attemptsPerCall;
    this.resources = resources;
  }

  /**
   * A fixture over a fresh {@link FakeKms} (provider id {@code fake-kms}, region {@code us-east-1},
   * a {@link ManualClock}); the fake makes exactly one KMS call per provider call.
   *
   * @return the fixture
   */
  public static InMemoryKmsFixture fake() {
    FakeKms fake = FakeKms.builder().clock(new ManualClock()).build();
    return new InMemoryKmsFixture(fake.api(), fake, 1, List.of());
  }

  /**
   * A fixture whose controls act on {@code kms} and whose provider is {@code provider}.
   *
   * @param kms the KMS the provider reaches (directly or over a {@code LocalKmsServer})
   * @param provider the provider under test
   * @param attemptsPerCall see {@link KmsFixture#attemptsPerCall()}: the client's maximum attempts
   * @param resources closed by {@link #close()}, last first (e.g. the provider, the client, the
   *     server)
   * @return the fixture
   * @throws IllegalArgumentException if {@code attemptsPerCall} is less than 1
   */
  public static InMemoryKmsFixture of(
      InMemoryKms kms, KeyProvider provider, int attemptsPerCall, AutoCloseable... resources) {
    Objects.requireNonNull(kms, "kms");
    Objects.requireNonNull(provider, "provider");
    if (attemptsPerCall < 1) {
      throw new IllegalArgumentException(
          "attemptsPerCall must be 1 or more, was " + attemptsPerCall);
    }
    return new InMemoryKmsFixture(kms, provider, attemptsPerCall, List.of(resources));
  }

  /** {@return the KMS the controls act on} */
  public InMemoryKms kms() {
    return kms;
  }

  @Override
  public KeyProvider provider() {
    return provider;
  }

  /** {@return a new key's ARN} */
  @Override
  public String newKey() {
    return kms.createKey().arn();
  }

  @Override
  public void disable(String key) {
    kms.disableKey(key);
  }

  @Override
  public void enable(String key) {
    kms.enableKey(key);
  }

  /** Schedules the key's deletion in 7 days (the key is pending deletion, not yet gone). */
  @Override
  public void destroy(String key) {
    kms.scheduleKeyDeletion(key, 7);
  }

  @Override
  public void revokeAccess(String key) {
    kms.denyAccess(key, true);
  }

  @Override
  public void restoreAccess(String key) {
    kms.denyAccess(key, false);
  }

  @Override
  public void rotate(String key) {
    kms.rotateKeyOnDemand(key);
  }

  @Override
  public void failNext(int calls, Fault fault) {
    kms.failNextCalls(
        calls,
        switch (Objects.requireNonNull(fault, "fault")) {
          case UNAVAILABLE -> LocalKmsException.INTERNAL;
          case THROTTLED -> LocalKmsException.THROTTLING;
        });
  }

  @Override
  public int attemptsPerCall() {
    return attemptsPerCall;
  }

  /** {@return the ARN of a key that does not exist, in the KMS's region and account} */
  @Override
  public String unknownKey() {
    return "arn:aws:kms:"
        + kms.region()
        + ":"
        + kms.accountId()
        + ":key/00000000-0000-4000-8000-000000000000";
  }

  /**
   * Closes the resources given to {@link #of}, last first.
   *
   * @throws IllegalStateException if one failed to close (the others are still closed)
   */
  @Override
  public void close() {
    List<Exception> failures = new ArrayList<>();
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        failures.add(e);
      }
    }
    if (!failures.isEmpty()) {
      IllegalStateException e = new IllegalStateException("a fixture resource failed to close");
      failures.forEach(e::addSuppressed);
      throw e;
    }
  }

  @Override
  public String toString() {
    return "InMemoryKmsFixture[" + provider + "]";
  }
}
