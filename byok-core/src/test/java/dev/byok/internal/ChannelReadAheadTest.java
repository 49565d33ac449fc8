package dev.byok.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.byok.InvalidCiphertextException;
import dev.byok.InvalidCiphertextIOException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The decrypting channel's read-ahead: up to k segments decrypted on an executor ahead of a reader
 * moving forward, over a real file. Same bytes and the same typed errors as without read-ahead,
 * whatever the read sizes and jumps; at most k segments in flight; rejection, interrupt and close
 * handled; every slot's cipher is closed with the channel.
 */
@Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
class ChannelReadAheadTest {
  private static final int S = 4096;
  private static final int SEGMENTS = 40;
  private final SegmentLayout layout = new SegmentLayout(S);
  private final byte[] key = new byte[32];
  private final byte[] prefix = new byte[SegmentLayout.NONCE_PREFIX_LENGTH];
  private final byte[] pt;
  private final ExecutorService pool = Executors.newFixedThreadPool(4);
  @TempDir Path dir;

  ChannelReadAheadTest() {
    new Random(21).nextBytes(key);
    new Random(22).nextBytes(prefix);
    pt = new byte[layout.plaintextCapacity(0) + (SEGMENTS - 1) * layout.plaintextCapacity(1) - 77];
    new Random(23).nextBytes(pt);
  }

  @AfterEach
  void stop() throws InterruptedException {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  private byte[] payload() throws IOException {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (OutputStream out =
        new EncryptingOutputStream(
            sink,
            new SegmentCipher(key, prefix),
            layout,
            new byte[SegmentLayout.PAYLOAD_HEADER_LENGTH], // where salt and prefix would be
            n -> {})) {
      out.write(pt);
    }
    return sink.toByteArray();
  }

  private Path file(byte[] bytes) throws IOException {
    return Files.write(Files.createTempFile(dir, "blob", ".bin"), bytes);
  }

  private DecryptingChannel channel(Path file, java.util.concurrent.Executor ex, int k)
      throws IOException {
    return new DecryptingChannel(
        FileChannel.open(file, StandardOpenOption.READ),
        new SegmentDecrypter(new SegmentCipher(key, prefix)),
        layout,
        0,
        ex,
        k);
  }

  /** Reads to the end in reads of {@code chunk}; what came out, and the failure if any. */
  private static Object[] drain(SeekableByteChannel ch, int chunk) {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    ByteBuffer buf = ByteBuffer.allocate(chunk);
    Throwable failure = null;
    try {
      while (true) {
        buf.clear();
        int n = ch.read(buf);
        if (n < 0) {
          break;
        }
        got.write(buf.array(), 0, n);
      }
    } catch (IOException e) {
      failure = e;
    }
    return new Object[] {got.toByteArray(), failure};
  }

  @ParameterizedTest(name = "k={0}")
  @ValueSource(ints = {2, 3, 8})
  void sequentialReadsOfEverySizeGiveThePlaintext(int k) throws IOException {
    Path f = file(payload());
    for (int chunk : new int[] {1000, S - 16, S, 3 * S + 5, pt.length + 1}) {
      try (DecryptingChannel ch = channel(f, pool, k)) {
        Object[] r = drain(ch, chunk);
        assertThat(r[1]).as("chunk %d", chunk).isNull();
        assertThat((byte[]) r[0]).as("chunk %d", chunk).isEqualTo(pt);
        assertThat(ch.size()).isEqualTo(pt.length);
      }
    }
  }

  @Test
  void jumpsBackAndForthReadTheRightBytes() throws IOException {
    Path f = file(payload());
    Random random = new Random(5);
    try (DecryptingChannel ch = channel(f, pool, 3)) {
      for (int i = 0; i < 200; i++) {
        long pos = random.nextInt(pt.length);
        int len = 1 + random.nextInt(3 * S);
        ch.position(pos);
        ByteBuffer buf = ByteBuffer.allocate(len);
        int n = 0;
        while (buf.hasRemaining()) {
          int r = ch.read(buf);
          if (r < 0) {
            break;
          }
          n += r;
          if (random.nextInt(4) == 0) {
            break; // sometimes a short sequential run, sometimes a longer one
          }
        }
        assertThat(Arrays.copyOfRange(buf.array(), 0, n))
            .isEqualTo(Arrays.copyOfRange(pt, (int) pos, (int) pos + n));
      }
    }
  }

  /** Damage at several places: the same bytes released and the same error as without read-ahead. */
  @ParameterizedTest(name = "damage {0}")
  @ValueSource(strings = {"flip-5", "flip-last", "cut-inside", "cut-at-boundary", "trailing"})
  void damageGivesTheSameBytesAndErrorAsWithoutReadAhead(String damage) throws IOException {
    byte[] p = payload();
    long seg5 = layout.ciphertextOffset(5);
    byte[] bad =
        switch (damage) {
          case "flip-5" -> flip(p, (int) seg5 + 100);
          case "flip-last" -> flip(p, p.length - 3);
          case "cut-inside" -> Arrays.copyOf(p, (int) seg5 + 1000);
          case "cut-at-boundary" -> Arrays.copyOf(p, (int) layout.ciphertextOffset(SEGMENTS - 1));
          default -> Arrays.copyOf(p, p.length + 40);
        };
    Path f = file(bad);
    Object[] expected = attempt(f, pool, 1);
    assertThat(expected[1])
        .as("the damage is found")
        .isInstanceOf(InvalidCiphertextException.class);
    for (int k : new int[] {2, 8}) {
      Object[] got = attempt(f, pool, k);
      assertThat((byte[]) got[0]).as("released bytes, k=%d", k).isEqualTo(expected[0]);
      InvalidCiphertextException e = (InvalidCiphertextException) got[1];
      InvalidCiphertextException want = (InvalidCiphertextException) expected[1];
      assertThat(e.reason()).isEqualTo(want.reason());
      assertThat(e).hasMessage(want.getMessage());
    }
  }

  /**
   * Opens a channel and reads it to the end in reads of 1000 bytes: the bytes released and the
   * typed failure (unwrapped), checking that a failure is sticky.
   */
  private Object[] attempt(Path f, java.util.concurrent.Executor ex, int k) throws IOException {
    try (DecryptingChannel ch = channel(f, ex, k)) {
      Object[] r = drain(ch, 1000);
      if (r[1] != null) {
        assertThatThrownBy(() -> ch.read(ByteBuffer.allocate(10)))
            .as("sticky")
            .isInstanceOf(IOException.class);
      }
      return new Object[] {r[0], unwrap((Throwable) r[1])};
    } catch (InvalidCiphertextException e) {
      return new Object[] {new byte[0], e}; // the length rule, at open
    }
  }

  private static @Nullable Throwable unwrap(@Nullable Throwable t) {
    return t instanceof InvalidCiphertextIOException ? t.getCause() : t;
  }

  private static byte[] flip(byte[] p, int at) {
    byte[] c = p.clone();
    c[at] ^= 1;
    return c;
  }

  @Test
  void exactlyKSegmentsAreReadAheadAndNoMore() throws IOException {
    Path f = file(payload());
    ConcurrentLinkedQueue<Runnable> held = new ConcurrentLinkedQueue<>(); // runs nothing by itself
    try (DecryptingChannel ch = channel(f, held::add, 3)) {
      ByteBuffer first = ByteBuffer.allocate(layout.plaintextCapacity(0));
      assertThat(ch.read(first)).isEqualTo(first.capacity()); // segment 0, decrypted here
      assertThat(held).as("segments 1, 2 and 3 handed to the executor").hasSize(3);
      for (int seg = 1; seg <= 5; seg++) {
        Runnable next = held.poll();
        assertThat(next).isNotNull();
        next.run(); // the pool decrypts the oldest segment ahead
        ByteBuffer buf = ByteBuffer.allocate(layout.plaintextCapacity(seg));
        assertThat(ch.read(buf)).isEqualTo(buf.capacity());
        int from = (int) layout.plaintextOffset(seg);
        assertThat(buf.array()).isEqualTo(Arrays.copyOfRange(pt, from, from + buf.capacity()));
        assertThat(held).as("one more handed over for the one consumed").hasSize(3);
      }
      assertThat(ch.slotDecrypters()).as("memory: k slots").hasSize(3);
      for (Runnable r : held) {
        r.run();
      }
    }
  }

  @Test
  void aRejectedTaskIsAStickyIoException() throws IOException {
    Path f = file(payload());
    java.util.concurrent.Executor rejecting =
        task -> {
          throw new RejectedExecutionException("pool is shut down");
        };
    try (DecryptingChannel ch = channel(f, rejecting, 2)) {
      assertThatThrownBy(() -> ch.read(ByteBuffer.allocate(100)))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("rejected");
      assertThatThrownBy(() -> ch.read(ByteBuffer.allocate(100))).isInstanceOf(IOException.class);
    }
  }

  @Test
  void anInterruptWhileWaitingIsStickyAndCloseClosesEverySlotsCipher() throws Exception {
    Path f = file(payload());
    ConcurrentLinkedQueue<Runnable> held = new ConcurrentLinkedQueue<>();
    DecryptingChannel ch = channel(f, held::add, 2);
    AtomicReference<Throwable> seen = new AtomicReference<>();
    AtomicReference<Boolean> flag = new AtomicReference<>();
    CountDownLatch firstDone = new CountDownLatch(1);
    Thread reader =
        new Thread(
            () -> {
              ByteBuffer buf = ByteBuffer.allocate(layout.plaintextCapacity(0));
              try {
                ch.read(buf); // segment 0, decrypted here; segments 1 and 2 handed to `held`
                firstDone.countDown();
                ch.read(ByteBuffer.allocate(100)); // waits for segment 1, which never runs
              } catch (Throwable t) {
                seen.set(t);
                flag.set(Thread.currentThread().isInterrupted());
              }
            });
    reader.start();
    assertThat(firstDone.await(10, TimeUnit.SECONDS)).isTrue();
    while (reader.getState() != Thread.State.WAITING) {
      Thread.onSpinWait(); // parked on the slot's semaphore
    }
    reader.interrupt();
    reader.join(10_000);
    assertThat(seen.get()).isInstanceOf(InterruptedIOException.class);
    assertThat(flag.get()).isTrue();
    assertThatThrownBy(() -> ch.read(ByteBuffer.allocate(10))).isInstanceOf(IOException.class);
    List<SegmentDecrypter> slots = new ArrayList<>(ch.slotDecrypters());
    assertThat(slots).hasSize(2);
    ch.close();
    for (Runnable task : held) {
      task.run(); // abandoned before they started: they return without decrypting
    }
    for (SegmentDecrypter d : slots) {
      assertThat(catchThrowable(() -> d.decrypt(1, false, new byte[S], 0, S, new byte[S], 0)))
          .as("a closed slot's cipher refuses work")
          .isInstanceOf(IllegalStateException.class);
    }
  }
}
