package dev.byok;

import static dev.byok.KeyLayerFixture.byok;
import static dev.byok.KeyLayerFixture.encrypt;
import static dev.byok.KeyLayerFixture.plaintext;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledForJreRange;
import org.junit.jupiter.api.condition.JRE;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hole 7: 1,000 virtual threads read blobs under 10 data keys, cold then warm. No KMS call is made
 * under a lock (the KMS answers only once every reader is in, so the readers of a key really wait
 * on its one call), so JFR records no {@code jdk.VirtualThreadPinned} event, and each data key
 * costs exactly one KMS Decrypt. Runs on JDK 21+ (the build targets 17: virtual threads are reached
 * by reflection).
 */
@EnabledForJreRange(min = JRE.JAVA_21)
@Timeout(120)
class VirtualThreadTest {
  private static final int THREADS = 1000;
  private static final int DATA_KEYS = 10;

  @TempDir Path dir;

  private static ExecutorService virtualThreads() throws ReflectiveOperationException {
    return (ExecutorService)
        Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
  }

  /**
   * A JFR recording of {@code jdk.VirtualThreadPinned} with no threshold, reached by reflection:
   * the test classes are patched into the {@code dev.byok.core} module, which does not read {@code
   * jdk.jfr}.
   */
  private static final class PinnedRecording implements AutoCloseable {
    private final Object recording;
    private final Class<?> type;

    PinnedRecording() throws ReflectiveOperationException {
      type = Class.forName("jdk.jfr.Recording");
      recording = type.getConstructor().newInstance();
      Object settings =
          type.getMethod("enable", String.class).invoke(recording, "jdk.VirtualThreadPinned");
      settings
          .getClass()
          .getMethod("withThreshold", Duration.class)
          .invoke(settings, Duration.ZERO);
      type.getMethod("start").invoke(recording);
    }

    /** Stops the recording and returns the pinned events it holds, printed with their stacks. */
    List<String> stopAndRead(Path file) throws ReflectiveOperationException {
      type.getMethod("stop").invoke(recording);
      type.getMethod("dump", Path.class).invoke(recording, file);
      List<?> events =
          (List<?>)
              Class.forName("jdk.jfr.consumer.RecordingFile")
                  .getMethod("readAllEvents", Path.class)
                  .invoke(null, file);
      List<String> pinned = new ArrayList<>();
      for (Object e : events) {
        Object t =
            Class.forName("jdk.jfr.consumer.RecordedEvent").getMethod("getEventType").invoke(e);
        Object name = Class.forName("jdk.jfr.EventType").getMethod("getName").invoke(t);
        String printed = e.toString(); // with its stack trace
        // "Freeze or preempt failed (2)" is HotSpot's freeze_pinned_cs: a JDK-internal critical
        // section (Continuation.pin) on the thread, not a monitor or native frame of byok's; seen
        // once under a loaded 2-core CI. Any other reason still fails the test.
        if ("jdk.VirtualThreadPinned".equals(name)
            && !printed.contains("pinnedReason = \"Freeze or preempt failed (2)\"")) {
          pinned.add(printed);
        }
      }
      return pinned;
    }

    @Override
    public void close() throws ReflectiveOperationException {
      type.getMethod("close").invoke(recording);
    }
  }

  @Test
  void aThousandVirtualThreadsPinNothingAndMakeOneKmsCallPerDataKey() throws Exception {
    TestKms kms = new TestKms();
    String arn = kms.createKey();
    Byok writer = byok(kms, arn).build();
    List<byte[]> plains = new ArrayList<>();
    List<byte[]> blobs = new ArrayList<>();
    for (int i = 0; i < DATA_KEYS; i++) {
      byte[] p = plaintext(2000, i);
      plains.add(p);
      blobs.add(encrypt(writer, p, EncryptionContext.of("tenant", "t" + i)));
    }
    // load and initialise every class the readers touch first: class loading and initialisation
    // may pin a virtual thread in the JDK itself, which is not what this test is about
    Byok warmUp = byok(kms, arn).build();
    assertThat(KeyLayerFixture.decrypt(warmUp, blobs.get(0))).isEqualTo(plains.get(0));
    ExecutorService warmPool = virtualThreads();
    warmPool.submit(() -> KeyLayerFixture.decrypt(warmUp, blobs.get(0))).get(20, TimeUnit.SECONDS);
    warmPool.shutdown();
    int warmCalls = kms.calls("decrypt");

    Byok reader = byok(kms, arn).build();
    CountDownLatch allIn = new CountDownLatch(THREADS);
    kms.hook(
        (op, key) -> {
          if (op.equals("decrypt")) {
            allIn.await(); // a cold unwrap answers only once every reader is waiting
          }
        });

    Path jfr = dir.resolve("pinned.jfr");
    List<String> events;
    try (PinnedRecording recording = new PinnedRecording()) {
      ExecutorService pool = virtualThreads();
      try {
        List<Future<?>> reads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
          int i = t % DATA_KEYS;
          reads.add(
              pool.submit(
                  () -> {
                    allIn.countDown();
                    byte[] cold = KeyLayerFixture.decrypt(reader, blobs.get(i));
                    byte[] warm = KeyLayerFixture.decrypt(reader, blobs.get(i)); // cached
                    if (!Arrays.equals(cold, plains.get(i))
                        || !Arrays.equals(warm, plains.get(i))) {
                      throw new AssertionError("blob " + i + " decrypted wrong");
                    }
                    return null;
                  }));
        }
        for (Future<?> f : reads) {
          f.get(100, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      events = recording.stopAndRead(jfr);
    }
    assertThat(events).as("virtual threads pinned to their carrier").isEmpty();
    assertThat(Files.size(jfr)).isPositive();
    assertThat(kms.calls("decrypt") - warmCalls).isEqualTo(DATA_KEYS);
    assertThat(reader.keys().stats().hits()).isGreaterThanOrEqualTo(THREADS);
  }
}
