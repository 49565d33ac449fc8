package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code byok monitor} whose standard output goes away (the reader of its pipe left) stops at its
 * next event line with exit 6, instead of watching on for nobody until {@code --for} ends.
 */
class MonitorOutputTest {
  @RegisterExtension static final LocalKmsExtension KMS = new LocalKmsExtension();

  /** Captures lines until {@link #breakIt()}; then every write fails as a broken pipe does. */
  private static final class Breakable extends OutputStream {
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
    private final CountDownLatch started = new CountDownLatch(1);
    private volatile boolean broken;

    void breakIt() {
      broken = true;
    }

    @Override
    public synchronized void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
      if (broken) {
        throw new IOException("Broken pipe");
      }
      buf.write(b, off, len);
      if (buf.toString(StandardCharsets.UTF_8).contains("STARTED watching")) {
        started.countDown();
      }
    }
  }

  @Test
  void aMonitorWhoseOutputBreaksStopsAtItsNextEvent() throws Exception {
    String arn = KMS.createKey("watched");
    Breakable out = new Breakable();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CliIo io =
        new CliIo(
            new ByteArrayInputStream(new byte[0]),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            false,
            false,
            Map.of("BYOK_KMS_ENDPOINT", KMS.endpoint().toString()));
    FutureTask<Integer> run =
        new FutureTask<>(
            () ->
                ByokCli.run(
                    io,
                    "monitor",
                    "--interval",
                    "200ms",
                    "--grace",
                    "300ms",
                    "--for",
                    "60s",
                    "--key",
                    arn));
    Thread t = new Thread(run, "monitor");
    t.setDaemon(true);
    t.start();
    try {
      assertThat(out.started.await(10, TimeUnit.SECONDS)).as("monitor started").isTrue();
      out.breakIt();
      KMS.api().disableKey(arn); // the next probe prints SUSPECT: that write fails
      assertThat(run.get(10, TimeUnit.SECONDS)).isEqualTo(ExitCodes.IO);
      assertThat(err.toString(StandardCharsets.UTF_8))
          .startsWith("byok: cannot write standard output");
    } finally {
      t.interrupt();
    }
  }
}
