package dev.byok.testkit;

import dev.byok.kms.local.InMemoryKms;
import java.util.Objects;
import java.util.function.Consumer;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension giving each test a fresh {@link FakeKms} on a fresh {@link ManualClock}, and
 * failing a test that passed but left scripted faults ({@link InMemoryKms#failNext}) unconsumed —
 * the call the test scripted a failure for never happened.
 *
 * <pre>{@code
 * @RegisterExtension final FakeKmsExtension fake = FakeKmsExtension.create();
 *
 * @Test void survivesThrottling() {
 *   String arn = fake.api().createKey().arn();
 *   byte[] wrapped = fake.kms().generateDataKey(arn, EncryptionContext.empty()).wrapped().ciphertext();
 *   fake.api().failNext("Decrypt", "ThrottlingException");
 *   assertThrows(KmsUnavailableException.class, () -> fake.kms().decrypt(arn, wrapped, EncryptionContext.empty()));
 *   assertEquals(32, fake.kms().decrypt(arn, wrapped, EncryptionContext.empty()).length);   // the retry
 * }
 * }</pre>
 *
 * <p>Test methods may also declare parameters of type {@link FakeKms}, {@link InMemoryKms} and
 * {@link ManualClock}. Needs {@code org.junit.jupiter:junit-jupiter-api} on the test class path (an
 * optional dependency of byok-testkit).
 *
 * <p><b>Thread-safety:</b> register it on an instance field (not a static one); the fake it hands
 * out is thread-safe, the extension's per-test state is meant for one test at a time. {@link
 * #kms()}, {@link #api()} and {@link #clock()} never return {@code null} but throw outside a test.
 */
@NullMarked
public final class FakeKmsExtension
    implements BeforeEachCallback, AfterEachCallback, ParameterResolver {
  private final Consumer<FakeKms.Builder> configuration;
  private volatile @Nullable FakeKms kms;
  private volatile @Nullable ManualClock clock;

  private FakeKmsExtension(Consumer<FakeKms.Builder> configuration) {
    this.configuration = configuration;
  }

  /** {@return an extension with the default fake (us-east-1, account 111122223333)} */
  public static FakeKmsExtension create() {
    return new FakeKmsExtension(b -> {});
  }

  /**
   * {@return an extension with a configured fake}
   *
   * @param configuration applied to each test's builder after the manual clock is set
   */
  public static FakeKmsExtension configured(Consumer<FakeKms.Builder> configuration) {
    return new FakeKmsExtension(Objects.requireNonNull(configuration, "configuration"));
  }

  /** {@return this test's fake} */
  public FakeKms kms() {
    FakeKms k = kms;
    if (k == null) {
      throw new IllegalStateException("FakeKmsExtension is only active during a test");
    }
    return k;
  }

  /** {@return this test's fake's AWS-semantics layer} */
  public InMemoryKms api() {
    return kms().api();
  }

  /** {@return this test's clock} */
  public ManualClock clock() {
    ManualClock c = clock;
    if (c == null) {
      throw new IllegalStateException("FakeKmsExtension is only active during a test");
    }
    return c;
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    ManualClock c = new ManualClock();
    FakeKms.Builder builder = FakeKms.builder().clock(c);
    configuration.accept(builder);
    clock = c;
    kms = builder.build();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    FakeKms k = kms;
    kms = null;
    clock = null;
    if (k != null && context.getExecutionException().isEmpty()) {
      verifyNoLeaks(k);
    }
  }

  /**
   * The check run after each passing test.
   *
   * @param kms the fake
   * @throws AssertionError listing scripted faults that were never consumed
   */
  static void verifyNoLeaks(FakeKms kms) {
    try {
      kms.api().checkNoUnconsumedFaults();
    } catch (IllegalStateException e) {
      throw new AssertionError(e.getMessage(), e);
    }
  }

  @Override
  public boolean supportsParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    Class<?> type = parameterContext.getParameter().getType();
    return type == FakeKms.class || type == InMemoryKms.class || type == ManualClock.class;
  }

  @Override
  public Object resolveParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    Class<?> type = parameterContext.getParameter().getType();
    if (type == ManualClock.class) {
      return clock();
    }
    return type == InMemoryKms.class ? api() : kms();
  }
}
