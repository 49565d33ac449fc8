package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** One blob's segments over a bounded pool: same bytes as the sequential writer, failures whole. */
@Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
class ParallelEncryptTest {
  static final int S = NioEnvelopeTest.S;
  static final int FIRST = NioEnvelopeTest.FIRST;
  static final int LATER = NioEnvelopeTest.LATER;
  static final EnvelopeEncryptor ENC = NioEnvelopeTest.ENC;
  static final byte[] SALT = NioEnvelopeTest.SALT;
  static final byte[] PREFIX = NioEnvelopeTest.PREFIX;
  static final int SEGMENTS = 10;
  static final byte[] PT = RoundTrips.randomBytes(FIRST + (SEGMENTS - 2) * LATER + 99, 77);
  static final long FIXED = ENC.header().toByteArray().length;

  @TempDir Path dir;
  private final ExecutorService pool = Executors.newFixedThreadPool(4);

  @AfterEach
  void stop() throws InterruptedException {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  static long segmentAt(long i) {
    return FIXED + (i == 0 ? 40 : i * S);
  }

  private byte[] sequential(byte[] pt) throws IOException {
    Path file = dir.resolve("seq");
    Files.deleteIfExists(file);
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ENC.encrypt(ByteBuffer.wrap(pt), ch, 0, null, 1, SALT, PREFIX);
    }
    return Files.readAllBytes(file);
  }

  @ParameterizedTest
  @CsvSource({
    "0, 2, false",
    "1, 3, false",
    "4, 2, false",
    "3, 1, false",
    "10, 2, true",
    "10, 3, false",
    "10, 8, true",
    "17, 4, true"
  })
  void parallelOutputIsByteForByteTheSequentialOutput(int laterSegments, int k, boolean direct)
      throws IOException {
    byte[] pt = RoundTrips.randomBytes(FIRST + laterSegments * LATER + 5, laterSegments);
    ByteBuffer src = NioEnvelopeTest.bufferOf(pt, direct, 2);
    Path file = dir.resolve("par");
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      long n = ENC.encrypt(src, ch, 0, pool, k, SALT, PREFIX);
      assertThat(n).isEqualTo(ENC.ciphertextLength(pt.length));
    }
    assertThat(src.hasRemaining()).isFalse();
    assertThat(Files.readAllBytes(file)).isEqualTo(sequential(pt));
    assertThat(NioEnvelopeTest.streamDecrypt(Files.readAllBytes(file))).isEqualTo(pt);

    ByteBuffer back = NioEnvelopeTest.buffer(pt.length + 3, !direct);
    back.position(3);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      assertThat(NioEnvelopeTest.DEC.decrypt(ch, back, null, pool, k)).isEqualTo(pt.length);
    }
    assertThat(back.position()).isEqualTo(3 + pt.length);
    assertThat(NioEnvelopeTest.bytes(back, 3, 3 + pt.length)).isEqualTo(pt);
  }

  @ParameterizedTest
  @CsvSource({"2, false", "3, true"})
  void parallelDecryptionOfATamperedBlobLeavesNoPlaintext(int k, boolean direct)
      throws IOException {
    byte[] envelope = sequential(PT);
    envelope[(int) segmentAt(5) + 10] ^= 1;
    Path file = Files.write(dir.resolve("tampered"), envelope);
    ByteBuffer out = NioEnvelopeTest.buffer(PT.length, direct);
    for (int i = 0; i < out.capacity(); i++) {
      out.put(i, NioEnvelopeTest.FILL);
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      assertThatThrownBy(() -> NioEnvelopeTest.DEC.decrypt(ch, out, null, pool, k))
          .isInstanceOfSatisfying(
              InvalidCiphertextException.class,
              e ->
                  assertThat(e.reason())
                      .isEqualTo(InvalidCiphertextException.Reason.AUTHENTICATION_FAILED));
    }
    assertThat(out.position()).isZero();
    for (int i = 0; i < PT.length; i++) {
      assertThat(out.get(i)).as("byte %d", i).isZero(); // segments that authenticated: wiped too
    }

    Path cut =
        Files.write(
            dir.resolve("cut"), Arrays.copyOf(sequential(PT), (int) segmentAt(SEGMENTS - 1)));
    try (FileChannel ch = FileChannel.open(cut, StandardOpenOption.READ)) {
      assertThatThrownBy(() -> NioEnvelopeTest.DEC.decrypt(ch, out, null, pool, k))
          .isInstanceOfSatisfying(
              InvalidCiphertextException.class,
              e -> assertThat(e.reason()).isEqualTo(InvalidCiphertextException.Reason.TRUNCATED));
    }
  }

  @Test
  void parallelDecryptionWithARejectingExecutorFailsAndLeavesNoPlaintext() throws IOException {
    Path file = Files.write(dir.resolve("ok"), sequential(PT));
    AtomicInteger accepted = new AtomicInteger();
    java.util.concurrent.Executor twoThenReject =
        r -> {
          if (accepted.incrementAndGet() > 2) {
            throw new RejectedExecutionException("full");
          }
          pool.execute(r);
        };
    ByteBuffer out = ByteBuffer.allocate(PT.length);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      assertThatThrownBy(() -> NioEnvelopeTest.DEC.decrypt(ch, out, null, twoThenReject, 2))
          .isInstanceOf(IOException.class)
          .hasRootCauseInstanceOf(RejectedExecutionException.class);
    }
    assertThat(out.array()).containsOnly(0);
    assertThat(out.position()).isZero();
  }

  @Test
  void thePublicParallelCallRoundTrips() throws IOException {
    Path file = dir.resolve("pub");
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ENC.encrypt(ByteBuffer.wrap(PT), ch, 0, pool, 3);
    }
    assertThat(NioEnvelopeTest.streamDecrypt(Files.readAllBytes(file))).isEqualTo(PT);
    assertThatThrownBy(() -> ENC.encrypt(ByteBuffer.wrap(PT), null, 0, pool, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("parallelism must be >= 1, was 0");
  }

  /** Records positional writes; writes of segments (not the header) wait at a gate. */
  private static final class Gated implements ProbeChannel.WriteHook {
    final CountDownLatch entered;
    final CountDownLatch gate = new CountDownLatch(1);
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();
    final Set<Long> written = ConcurrentHashMap.newKeySet();
    final AtomicBoolean returned = new AtomicBoolean();
    final List<String> violations = new CopyOnWriteArrayList<>();
    final long failAt;

    Gated(int waitFor, long failAt) {
      this.entered = new CountDownLatch(waitFor);
      this.failAt = failAt;
    }

    @Override
    public int write(FileChannel real, ByteBuffer src, long position) throws IOException {
      if (returned.get()) {
        violations.add("write at " + position + " after the call returned");
      }
      if (position < segmentAt(0)) {
        return real.write(src, position); // the header, written by the caller first
      }
      maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      try {
        entered.countDown();
        gate.await();
        if (position == failAt) {
          throw new IOException("disk full");
        }
        written.add(position);
        return real.write(src, position);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException();
      } finally {
        inFlight.decrementAndGet();
      }
    }
  }

  private Thread caller(
      Gated hook, int k, AtomicReference<Throwable> outcome, AtomicBoolean interruptedAfter)
      throws IOException {
    FileChannel real =
        FileChannel.open(
            dir.resolve("gated"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    FileChannel ch = new ProbeChannel(real, hook);
    Thread t =
        new Thread(
            () -> {
              try (ch) {
                ENC.encrypt(ByteBuffer.wrap(PT), ch, 0, pool, k);
              } catch (Throwable e) {
                outcome.set(e);
              } finally {
                hook.returned.set(true);
                interruptedAfter.set(Thread.currentThread().isInterrupted());
              }
            });
    t.start();
    return t;
  }

  @Test
  void atMostKSegmentsAreInFlight() throws Exception {
    Gated hook = new Gated(2, -1);
    AtomicReference<Throwable> outcome = new AtomicReference<>();
    Thread t = caller(hook, 2, outcome, new AtomicBoolean());
    hook.entered.await();
    while (t.getState() != Thread.State.WAITING) { // the caller blocks for a free slot
      Thread.onSpinWait();
    }
    assertThat(hook.inFlight.get()).isEqualTo(2);
    hook.gate.countDown();
    t.join();
    assertThat(outcome.get()).isNull();
    assertThat(hook.maxInFlight.get()).isEqualTo(2);
    assertThat(hook.violations).isEmpty();
    assertThat(Files.readAllBytes(dir.resolve("gated"))).isEqualTo(sequentialOf(PT));
  }

  private byte[] sequentialOf(byte[] pt) throws IOException {
    byte[] actual = Files.readAllBytes(dir.resolve("gated"));
    assertThat(NioEnvelopeTest.streamDecrypt(actual)).isEqualTo(pt);
    return actual;
  }

  @Test
  void oneFailedSegmentFailsTheWholeCallAndTheFinalSegmentIsNeverWritten() throws Exception {
    Gated hook = new Gated(2, segmentAt(1));
    AtomicReference<Throwable> outcome = new AtomicReference<>();
    Thread t = caller(hook, 2, outcome, new AtomicBoolean());
    hook.entered.await(); // segments 0 and 1 in flight: 1 fails once the gate opens
    hook.gate.countDown();
    t.join();
    assertThat(outcome.get()).isInstanceOf(IOException.class).hasRootCauseMessage("disk full");
    assertThat(hook.written).doesNotContain(segmentAt(SEGMENTS - 1));
    assertNoWriteAfterReturn(hook);
    byte[] partial = Files.readAllBytes(dir.resolve("gated"));
    assertThatThrownBy(() -> NioEnvelopeTest.streamDecrypt(partial))
        .isInstanceOf(IOException.class);
  }

  @Test
  void interruptingTheCallerStopsNewSegmentsAndWaitsForThoseInFlight() throws Exception {
    Gated hook = new Gated(2, -1);
    AtomicReference<Throwable> outcome = new AtomicReference<>();
    AtomicBoolean interruptedAfter = new AtomicBoolean();
    Thread t = caller(hook, 2, outcome, interruptedAfter);
    hook.entered.await();
    t.interrupt();
    while (t.getState() != Thread.State.WAITING) { // it waits for the two segments in flight
      Thread.onSpinWait();
    }
    assertThat(t.isAlive()).isTrue();
    hook.gate.countDown();
    t.join();
    assertThat(outcome.get()).isInstanceOf(InterruptedIOException.class);
    assertThat(interruptedAfter).isTrue(); // interrupt status kept
    assertThat(hook.written).hasSize(2).doesNotContain(segmentAt(SEGMENTS - 1));
    assertNoWriteAfterReturn(hook);
  }

  @Test
  void aRejectingExecutorFailsTheCallWithNothingComplete() throws IOException {
    AtomicInteger accepted = new AtomicInteger();
    java.util.concurrent.Executor twoThenReject =
        r -> {
          if (accepted.incrementAndGet() > 2) {
            throw new RejectedExecutionException("full");
          }
          pool.execute(r);
        };
    Path file = dir.resolve("rej");
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      assertThatThrownBy(() -> ENC.encrypt(ByteBuffer.wrap(PT), ch, 0, twoThenReject, 2))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("rejected")
          .hasRootCauseInstanceOf(RejectedExecutionException.class);
    }
    assertThat(Files.size(file)).isLessThan(segmentAt(SEGMENTS - 1) + 1);
  }

  private void assertNoWriteAfterReturn(Gated hook) throws InterruptedException {
    int before = hook.written.size();
    pool.shutdown();
    assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    assertThat(hook.written).hasSize(before);
    assertThat(hook.violations).isEmpty();
  }
}
