package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The parallel push and pull streams: same bytes as the sequential ones, same failures, bounded.
 */
@Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
class ParallelStreamsTest {
  static final int S = NioEnvelopeTest.S;
  static final int FIRST = NioEnvelopeTest.FIRST;
  static final int LATER = NioEnvelopeTest.LATER;
  static final EnvelopeEncryptor ENC = NioEnvelopeTest.ENC;
  static final EnvelopeDecryptor DEC = NioEnvelopeTest.DEC;
  static final byte[] SALT = NioEnvelopeTest.SALT;
  static final byte[] PREFIX = NioEnvelopeTest.PREFIX;
  static final int HEADER = ENC.header().toByteArray().length + 40;
  static final int SEGMENTS = 10;
  static final byte[] PT = RoundTrips.randomBytes(FIRST + (SEGMENTS - 2) * LATER + 99, 77);

  private final ExecutorService pool = Executors.newFixedThreadPool(4);

  @AfterEach
  void stop() throws InterruptedException {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  /** Where segment {@code i} starts in the envelope. */
  static int segmentAt(int i) {
    return i == 0 ? HEADER : HEADER + FIRST + 16 + (i - 1) * S;
  }

  static byte[] sequential(byte[] pt) throws IOException {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (OutputStream out = ENC.newEncryptingStream(sink, SALT, PREFIX)) {
      out.write(pt);
    }
    return sink.toByteArray();
  }

  static Stream<Arguments> sizesAndParallelism() {
    int[] sizes = {
      0,
      1,
      FIRST - 1,
      FIRST,
      FIRST + 1,
      FIRST + LATER - 1,
      FIRST + LATER,
      FIRST + LATER + 1,
      FIRST + 12 * LATER + 333
    };
    return IntStream.rangeClosed(1, 8)
        .boxed()
        .flatMap(k -> Arrays.stream(sizes).mapToObj(n -> Arguments.of(n, k)));
  }

  /** Writes {@code pt} in random-sized writes (single bytes among them) from one reused array. */
  private static void writeRandomly(OutputStream out, byte[] pt, long seed) throws IOException {
    Random r = new Random(seed);
    byte[] scratch = new byte[3 * S];
    int off = 0;
    while (off < pt.length) {
      if (r.nextInt(8) == 0) {
        out.write(pt[off++]);
        continue;
      }
      int n = Math.min(pt.length - off, r.nextInt(3 * S) + 1);
      System.arraycopy(pt, off, scratch, 0, n);
      out.write(scratch, 0, n);
      Arrays.fill(scratch, (byte) 0); // the caller reuses its array at once: the stream copied it
      off += n;
    }
  }

  @ParameterizedTest
  @MethodSource("sizesAndParallelism")
  void pushOutputIsByteForByteTheSequentialOutputAndReadsBackInParallel(int n, int k)
      throws IOException {
    byte[] pt = RoundTrips.randomBytes(n, n + k);
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (OutputStream out = ENC.newEncryptingStream(sink, SALT, PREFIX, pool, k)) {
      writeRandomly(out, pt, 31L * n + k);
      if (n % 2 == 1) {
        out.flush(); // flushing writes what is sealed; the partial segment stays
      }
    }
    byte[] envelope = sink.toByteArray();
    assertThat(envelope).isEqualTo(sequential(pt));

    InputStream in = DEC.newDecryptingStream(new ByteArrayInputStream(envelope), null, pool, k);
    assertThat(RoundTrips.readAll(in, 1 + (n + k) % (2 * S))).isEqualTo(pt);
    assertThat(in.read()).isEqualTo(-1);
    in.close();
  }

  @Test
  void theParallelStreamTakesLongWritesAndByteWritesAlike() throws IOException {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (OutputStream out = ENC.newEncryptingStream(sink, SALT, PREFIX, pool, 3)) {
      for (byte b : Arrays.copyOf(PT, FIRST + 2)) {
        out.write(b);
      }
      out.write(PT, FIRST + 2, PT.length - FIRST - 2);
    }
    assertThat(sink.toByteArray()).isEqualTo(sequential(PT));
    try (InputStream in =
        DEC.newDecryptingStream(new ByteArrayInputStream(sink.toByteArray()), null, pool, 3)) {
      ByteArrayOutputStream back = new ByteArrayOutputStream();
      for (int b = in.read(); b >= 0; b = in.read()) {
        back.write(b);
      }
      assertThat(back.toByteArray()).isEqualTo(PT);
    }
  }

  @Test
  void theSinkAndTheSourceAreOnlyEverTouchedByTheCallingThread() throws IOException {
    Set<Thread> writers = ConcurrentHashMap.newKeySet();
    ByteArrayOutputStream sink =
        new ByteArrayOutputStream() {
          @Override
          public synchronized void write(byte[] b, int off, int len) {
            writers.add(Thread.currentThread());
            super.write(b, off, len);
          }
        };
    try (OutputStream out = ENC.newEncryptingStream(sink, SALT, PREFIX, pool, 4)) {
      writeRandomly(out, PT, 9);
      out.flush();
    }
    assertThat(writers).containsExactly(Thread.currentThread());

    Set<Thread> readers = ConcurrentHashMap.newKeySet();
    InputStream source =
        new FilterInputStream(new ByteArrayInputStream(sink.toByteArray())) {
          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            readers.add(Thread.currentThread());
            return super.read(b, off, len);
          }
        };
    try (InputStream in = DEC.newDecryptingStream(source, null, pool, 4)) {
      assertThat(in.readAllBytes()).isEqualTo(PT);
    }
    assertThat(readers).containsExactly(Thread.currentThread());
  }

  // ------------------------------------------------------------------ bad ciphertext

  /** What a reader returned before it failed, and how it failed. */
  record Outcome(byte[] released, @Nullable Throwable error) {
    InvalidCiphertextException.@Nullable Reason reason() {
      return error instanceof InvalidCiphertextIOException e ? e.getCause().reason() : null;
    }
  }

  private static Outcome readUntilError(InputStream in, int chunk) {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[chunk];
    try (in) {
      for (int r; (r = in.read(buf, 0, chunk)) >= 0; ) {
        got.write(buf, 0, r);
      }
      return new Outcome(got.toByteArray(), null);
    } catch (IOException e) {
      return new Outcome(got.toByteArray(), e);
    }
  }

  static byte[] flip(byte[] env, int at) {
    byte[] c = env.clone();
    c[at] ^= 1;
    return c;
  }

  static byte[] swap(byte[] env, int i, int j) {
    byte[] c = env.clone();
    System.arraycopy(env, segmentAt(i), c, segmentAt(j), S);
    System.arraycopy(env, segmentAt(j), c, segmentAt(i), S);
    return c;
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  static Stream<Arguments> badEnvelopes() throws IOException {
    byte[] env = sequential(PT);
    int last = SEGMENTS - 1;
    return Stream.of(
        Arguments.of("flip in segment 0", flip(env, HEADER + 3)),
        Arguments.of("flip in segment 5", flip(env, segmentAt(5) + 10)),
        Arguments.of("flip in the final tag", flip(env, env.length - 1)),
        Arguments.of("cut at a segment boundary", Arrays.copyOf(env, segmentAt(last))),
        Arguments.of("cut inside a segment", Arrays.copyOf(env, segmentAt(6) + 100)),
        Arguments.of("cut 5 bytes into a segment", Arrays.copyOf(env, segmentAt(4) + 5)),
        Arguments.of("cut to the header", Arrays.copyOf(env, HEADER)),
        Arguments.of("one trailing byte", concat(env, new byte[1])),
        Arguments.of("trailing tag", concat(env, new byte[17])),
        Arguments.of(
            "trailing segment", concat(env, Arrays.copyOfRange(env, segmentAt(2), segmentAt(3)))),
        Arguments.of("segments 3 and 4 swapped", swap(env, 3, 4)),
        Arguments.of("segments 1 and 7 swapped", swap(env, 1, 7)),
        Arguments.of(
            "segment 3 dropped",
            concat(
                Arrays.copyOf(env, segmentAt(3)),
                Arrays.copyOfRange(env, segmentAt(4), env.length))),
        Arguments.of(
            "final segment replaced by segment 2",
            concat(
                Arrays.copyOf(env, segmentAt(last)),
                Arrays.copyOfRange(env, segmentAt(2), segmentAt(3)))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badEnvelopes")
  void badCiphertextFailsAsTheSequentialReaderDoesAndReleasesOnlyAuthenticatedSegments(
      String what, byte[] envelope) throws IOException {
    Outcome seq = readUntilError(DEC.newDecryptingStream(new ByteArrayInputStream(envelope)), 1000);
    assertThat(seq.error()).as("the sequential reader fails").isNotNull();
    for (int k : new int[] {2, 3, 8}) {
      for (int chunk : new int[] {1000, 3 * S}) {
        Outcome par =
            readUntilError(
                DEC.newDecryptingStream(
                    RoundTrips.trickle(new ByteArrayInputStream(envelope), 700), null, pool, k),
                chunk);
        assertThat(par.error()).as("k=%d", k).isInstanceOf(InvalidCiphertextIOException.class);
        assertThat(par.reason()).as("k=%d", k).isEqualTo(seq.reason());
        // exactly the segments before the bad one, each authenticated, and not a byte more
        assertThat(par.released()).as("k=%d", k).isEqualTo(seq.released());
        int n = par.released().length;
        assertThat(Arrays.copyOf(PT, n)).isEqualTo(par.released());
        assertThat(n == 0 || (n - FIRST) % LATER == 0)
            .as("%d bytes released: whole segments only", n)
            .isTrue();
      }
    }
  }

  @Test
  void aFailureIsStickyAndTyped() throws IOException {
    byte[] bad = flip(sequential(PT), segmentAt(2) + 1);
    InputStream in = DEC.newDecryptingStream(new ByteArrayInputStream(bad), null, pool, 4);
    byte[] buf = new byte[PT.length];
    assertThat(in.readNBytes(buf, 0, FIRST + LATER)).isEqualTo(FIRST + LATER);
    assertThatThrownBy(in::read)
        .isInstanceOfSatisfying(
            InvalidCiphertextIOException.class,
            e ->
                assertThat(e.getCause().reason())
                    .isEqualTo(InvalidCiphertextException.Reason.AUTHENTICATION_FAILED));
    assertThatThrownBy(() -> in.read(buf)).isInstanceOf(InvalidCiphertextIOException.class);
    assertThat(in.available()).isZero();
    in.close();
  }

  // ------------------------------------------------------------------ bound, failures, interrupt

  /** Holds tasks until {@link #open}; then runs them (and later ones) on the pool. */
  static final class HeldExecutor implements Executor {
    private final ArrayDeque<Runnable> held = new ArrayDeque<>();
    private @Nullable Executor target;
    final AtomicInteger submitted = new AtomicInteger();

    @Override
    public synchronized void execute(Runnable r) {
      submitted.incrementAndGet();
      if (target != null) {
        target.execute(r);
      } else {
        held.add(r);
      }
    }

    synchronized int held() {
      return held.size();
    }

    synchronized void open(Executor to) {
      target = to;
      for (Runnable r; (r = held.poll()) != null; ) {
        to.execute(r);
      }
    }
  }

  /** Counts bytes written to it and whether it was closed. */
  static final class CountingSink extends ByteArrayOutputStream {
    volatile boolean closed;
    final AtomicLong failAfterWrites = new AtomicLong(Long.MAX_VALUE);

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      if (failAfterWrites.decrementAndGet() < 0) {
        throw new IllegalStateException("disk full");
      }
      super.write(b, off, len);
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  private static void awaitWaiting(Thread t) {
    while (t.getState() != Thread.State.WAITING) { // blocked for a free slot or a sealed segment
      assertThat(t.isAlive()).isTrue();
      Thread.onSpinWait();
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3, 5})
  void atMostKSegmentsAreInFlightAndWriteBlocksUntilOneIsSealed(int k) throws Exception {
    HeldExecutor held = new HeldExecutor();
    CountingSink sink = new CountingSink();
    OutputStream out = ENC.newEncryptingStream(sink, SALT, PREFIX, held, k);
    AtomicReference<Throwable> outcome = new AtomicReference<>();
    Thread writer =
        new Thread(
            () -> {
              try {
                out.write(PT); // one call covering all SEGMENTS segments
              } catch (Throwable e) {
                outcome.set(e);
              }
            });
    writer.start();
    awaitWaiting(writer);
    assertThat(held.held()).isEqualTo(k);
    assertThat(sink.size()).isEqualTo(HEADER); // nothing sealed yet, so nothing written
    held.open(pool);
    writer.join();
    assertThat(outcome.get()).isNull();
    out.close();
    assertThat(sink.toByteArray()).isEqualTo(sequential(PT));
    assertThat(held.submitted.get()).isEqualTo(SEGMENTS - 1); // the final one sealed by close()
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 4})
  void theReaderReadsAtMostKSegmentsAhead(int k) throws Exception {
    HeldExecutor held = new HeldExecutor();
    AtomicLong consumed = new AtomicLong();
    InputStream counting =
        new FilterInputStream(new ByteArrayInputStream(sequential(PT))) {
          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
              consumed.addAndGet(n);
            }
            return n;
          }
        };
    InputStream in = DEC.newDecryptingStream(counting, null, held, k);
    AtomicReference<byte[]> got = new AtomicReference<>();
    AtomicReference<Throwable> outcome = new AtomicReference<>();
    Thread reader =
        new Thread(
            () -> {
              try {
                got.set(in.readAllBytes());
              } catch (Throwable e) {
                outcome.set(e);
              }
            });
    reader.start();
    awaitWaiting(reader);
    assertThat(held.held()).isEqualTo(k);
    // the header, k segments and the look-ahead past the k-th: not a byte more
    assertThat(consumed.get()).isEqualTo(segmentAt(k) + 17L);
    held.open(pool);
    reader.join();
    assertThat(outcome.get()).isNull();
    assertThat(got.get()).isEqualTo(PT);
  }

  @Test
  void aFailingSinkSurfacesInWriteOnTheCallersThreadAndIsSticky() throws IOException {
    CountingSink sink = new CountingSink();
    OutputStream out = ENC.newEncryptingStream(sink, SALT, PREFIX, pool, 3);
    sink.failAfterWrites.set(2); // segments 0 and 1 go out, segment 2 fails
    assertThatThrownBy(
            () -> {
              out.write(PT);
              out.flush();
            })
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("disk full");
    assertThatThrownBy(() -> out.write(1))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("earlier write failed");
    assertThatThrownBy(out::flush).isInstanceOf(IOException.class);
    assertThatThrownBy(out::close)
        .isInstanceOf(IOException.class)
        .hasMessageContaining("no final segment");
    assertThat(sink.closed).isTrue();
    assertThat(sink.size()).isEqualTo(segmentAt(2));
    byte[] partial = sink.toByteArray();
    assertThatThrownBy(() -> NioEnvelopeTest.streamDecrypt(partial))
        .isInstanceOf(InvalidCiphertextIOException.class);
  }

  /** Runs the first {@code n} tasks on the pool and rejects the rest. */
  private Executor rejectingAfter(int n) {
    AtomicInteger accepted = new AtomicInteger();
    return r -> {
      if (accepted.incrementAndGet() > n) {
        throw new RejectedExecutionException("full");
      }
      pool.execute(r);
    };
  }

  @Test
  void aRejectingExecutorFailsTheWriteAndNothingLooksComplete() throws IOException {
    CountingSink sink = new CountingSink();
    OutputStream out = ENC.newEncryptingStream(sink, rejectingAfter(2), 2);
    assertThatThrownBy(() -> out.write(PT))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("rejected")
        .hasRootCauseInstanceOf(RejectedExecutionException.class);
    assertThatThrownBy(() -> out.write(PT)).isInstanceOf(IOException.class);
    assertThatThrownBy(out::close).isInstanceOf(IOException.class);
    assertThat(sink.closed).isTrue();
    assertThat(sink.size()).isLessThan(segmentAt(SEGMENTS - 1));
  }

  @Test
  void aRejectingExecutorFailsTheReadStickily() throws IOException {
    InputStream in =
        DEC.newDecryptingStream(
            new ByteArrayInputStream(sequential(PT)), null, rejectingAfter(2), 2);
    byte[] buf = new byte[PT.length];
    assertThatThrownBy(() -> in.readNBytes(buf, 0, buf.length))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("rejected")
        .hasRootCauseInstanceOf(RejectedExecutionException.class);
    assertThatThrownBy(in::read).isInstanceOf(IOException.class);
    in.close();
  }

  @Test
  void interruptingAWaitingWriterFailsItStickilyAndKeepsTheFlag() throws Exception {
    HeldExecutor held = new HeldExecutor();
    CountingSink sink = new CountingSink();
    OutputStream out = ENC.newEncryptingStream(sink, SALT, PREFIX, held, 2);
    AtomicReference<Throwable> outcome = new AtomicReference<>();
    AtomicReference<Boolean> flag = new AtomicReference<>();
    AtomicReference<Throwable> closed = new AtomicReference<>();
    Thread writer =
        new Thread(
            () -> {
              try {
                out.write(PT);
              } catch (Throwable e) {
                outcome.set(e);
              }
              flag.set(Thread.interrupted());
              try {
                out.close();
              } catch (Throwable e) {
                closed.set(e);
              }
            });
    writer.start();
    awaitWaiting(writer);
    writer.interrupt();
    writer.join();
    assertThat(outcome.get()).isInstanceOf(InterruptedIOException.class);
    assertThat(flag.get()).isTrue();
    assertThat(closed.get()).isInstanceOf(IOException.class).hasMessageContaining("no final");
    assertThat(sink.closed).isTrue();
    held.open(pool); // the abandoned tasks run now: they write nothing
    pool.shutdown();
    assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    assertThat(sink.size()).isEqualTo(HEADER);
  }

  @Test
  void interruptingAWaitingReaderFailsItStickilyAndKeepsTheFlag() throws Exception {
    HeldExecutor held = new HeldExecutor();
    InputStream in =
        DEC.newDecryptingStream(new ByteArrayInputStream(sequential(PT)), null, held, 3);
    AtomicReference<Throwable> outcome = new AtomicReference<>();
    AtomicReference<Boolean> flag = new AtomicReference<>();
    AtomicReference<Throwable> again = new AtomicReference<>();
    Thread reader =
        new Thread(
            () -> {
              try {
                in.read();
              } catch (Throwable e) {
                outcome.set(e);
              }
              flag.set(Thread.interrupted());
              try {
                in.read();
              } catch (Throwable e) {
                again.set(e);
              }
            });
    reader.start();
    awaitWaiting(reader);
    reader.interrupt();
    reader.join();
    assertThat(outcome.get()).isInstanceOf(InterruptedIOException.class);
    assertThat(flag.get()).isTrue();
    assertThat(again.get()).isInstanceOf(IOException.class).hasMessageContaining("earlier read");
    in.close();
    held.open(pool);
  }

  // ------------------------------------------------------------------ pull encryption

  static Stream<Arguments> pullSizesAndParallelism() {
    return sizesAndParallelism().filter(a -> (int) a.get()[1] % 2 == 1 || (int) a.get()[1] == 2);
  }

  @ParameterizedTest
  @MethodSource("pullSizesAndParallelism")
  void pullOutputIsByteForByteTheSequentialOutput(int n, int k) throws IOException {
    byte[] pt = RoundTrips.randomBytes(n, 3 * n + k);
    InputStream in =
        ENC.newEncryptingInputStream(
            RoundTrips.trickle(new ByteArrayInputStream(pt), 1000), SALT, PREFIX, pool, k);
    assertThat(RoundTrips.readAll(in, 1 + (7 * n + k) % (3 * S))).isEqualTo(sequential(pt));
    assertThat(in.read()).isEqualTo(-1);
    in.close();
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 4})
  void thePullEncrypterReadsAtMostKSegmentsAhead(int k) throws Exception {
    HeldExecutor held = new HeldExecutor();
    AtomicLong consumed = new AtomicLong();
    InputStream counting =
        new FilterInputStream(new ByteArrayInputStream(PT)) {
          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
              consumed.addAndGet(n);
            }
            return n;
          }
        };
    InputStream in = ENC.newEncryptingInputStream(counting, SALT, PREFIX, held, k);
    byte[] header = in.readNBytes(HEADER); // the header needs no task
    AtomicReference<byte[]> got = new AtomicReference<>();
    AtomicReference<Throwable> outcome = new AtomicReference<>();
    Thread reader =
        new Thread(
            () -> {
              try {
                got.set(in.readAllBytes());
              } catch (Throwable e) {
                outcome.set(e);
              }
            });
    reader.start();
    awaitWaiting(reader);
    assertThat(held.held()).isEqualTo(k);
    assertThat(consumed.get()).isEqualTo(FIRST + (k - 1L) * LATER + 1); // and one byte ahead
    held.open(pool);
    reader.join();
    assertThat(outcome.get()).isNull();
    assertThat(concat(header, got.get())).isEqualTo(sequential(PT));
  }

  @Test
  void aFailingSourceFailsThePullEncrypterAfterTheSegmentsBeforeItAndStickily() throws IOException {
    int failAt = FIRST + 3 * LATER + 50;
    InputStream failing =
        new InputStream() {
          int at;

          @Override
          public int read() {
            throw new UnsupportedOperationException();
          }

          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            if (at >= failAt) {
              throw new IOException("source broke");
            }
            int n = Math.min(len, failAt - at);
            System.arraycopy(PT, at, b, off, n);
            at += n;
            return n;
          }
        };
    InputStream in = ENC.newEncryptingInputStream(failing, SALT, PREFIX, pool, 3);
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[1000];
    assertThatThrownBy(
            () -> {
              for (int r; (r = in.read(buf)) >= 0; ) {
                got.write(buf, 0, r);
              }
            })
        .isInstanceOf(IOException.class)
        .hasMessage("source broke");
    // the header and segments 0..3, sealed before the source failed in segment 4; no more
    byte[] whole = sequential(PT);
    assertThat(got.toByteArray()).isEqualTo(Arrays.copyOf(whole, segmentAt(4)));
    assertThatThrownBy(in::read)
        .isInstanceOf(IOException.class)
        .hasMessageContaining("earlier read failed");
  }

  @Test
  void aRejectingExecutorOrAnInterruptFailsThePullEncrypterStickily() throws Exception {
    InputStream rejected =
        ENC.newEncryptingInputStream(new ByteArrayInputStream(PT), rejectingAfter(2), 2);
    assertThatThrownBy(rejected::readAllBytes)
        .isInstanceOf(IOException.class)
        .hasMessageContaining("rejected")
        .hasRootCauseInstanceOf(RejectedExecutionException.class);
    assertThatThrownBy(rejected::read).isInstanceOf(IOException.class);

    HeldExecutor held = new HeldExecutor();
    InputStream in = ENC.newEncryptingInputStream(new ByteArrayInputStream(PT), held, 2);
    in.readNBytes(HEADER);
    AtomicReference<Throwable> outcome = new AtomicReference<>();
    AtomicReference<Boolean> flag = new AtomicReference<>();
    Thread reader =
        new Thread(
            () -> {
              try {
                in.read();
              } catch (Throwable e) {
                outcome.set(e);
              }
              flag.set(Thread.interrupted());
            });
    reader.start();
    awaitWaiting(reader);
    reader.interrupt();
    reader.join();
    assertThat(outcome.get()).isInstanceOf(InterruptedIOException.class);
    assertThat(flag.get()).isTrue();
    assertThatThrownBy(in::read).isInstanceOf(IOException.class);
    in.close();
    held.open(pool);
  }

  // ------------------------------------------------------------------ the public surface

  @Test
  void argumentsAreCheckedAndNamed() {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    assertThatThrownBy(() -> ENC.newEncryptingStream(sink, pool, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("parallelism must be >= 1, was 0");
    assertThatThrownBy(() -> ENC.newEncryptingStream(sink, null, 2))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("executor");
    assertThat(sink.size()).isZero();
    ByteArrayInputStream src = new ByteArrayInputStream(new byte[0]);
    assertThatThrownBy(() -> DEC.newDecryptingStream(src, null, pool, -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("parallelism must be >= 1, was -1");
    assertThatThrownBy(() -> DEC.newDecryptingStream(src, null, null, 2))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("executor");
  }

  @Test
  void byokStreamsRoundTripInParallelUnderAContext() throws IOException {
    TestKms kms = new TestKms();
    String arn = kms.createKey();
    EncryptionContext ctx = EncryptionContext.of("tenant", "a");
    try (Byok byok = KeyLayerFixture.byok(kms, arn).segmentSize(4096).build()) {
      ByteArrayOutputStream sink = new ByteArrayOutputStream();
      try (OutputStream out = byok.newEncryptingStream(sink, ctx, pool, 3)) {
        writeRandomly(out, PT, 5);
      }
      byte[] env = sink.toByteArray();
      assertThat(env).hasSize((int) byok.ciphertextLength(PT.length, ctx));
      assertThat(
              RoundTrips.readAll(
                  byok.newDecryptingStream(new ByteArrayInputStream(env), ctx), 8192))
          .isEqualTo(PT);
      assertThat(
              RoundTrips.readAll(
                  byok.newDecryptingStream(new ByteArrayInputStream(env), ctx, pool, 3), 8192))
          .isEqualTo(PT);
      assertThatThrownBy(
              () ->
                  byok.newDecryptingStream(
                      new ByteArrayInputStream(env), EncryptionContext.of("tenant", "b"), pool, 3))
          .isInstanceOfSatisfying(
              InvalidCiphertextException.class,
              e ->
                  assertThat(e.reason())
                      .isEqualTo(InvalidCiphertextException.Reason.CONTEXT_MISMATCH));
      assertThatThrownBy(() -> byok.newEncryptingStream(sink, ctx, pool, 0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("was 0");
    }
  }
}
