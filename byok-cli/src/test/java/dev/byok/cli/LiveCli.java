package dev.byok.cli;

import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs one long-lived CLI command ({@code kms serve}, {@code monitor}) in-process on a background
 * thread, with output the test can wait on line by line — no sleeping: {@link #awaitOut} blocks
 * until a line matches or a deadline passes. {@link #close()} interrupts the command and waits for
 * it.
 */
final class LiveCli implements AutoCloseable {
  private static final Duration DEFAULT_WAIT = Duration.ofSeconds(10);

  private final Output out = new Output();
  private final Output err = new Output();
  private final FutureTask<Integer> task;
  private final Thread thread;

  private LiveCli(Map<String, String> env, String... args) {
    PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
    PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
    CliIo io = new CliIo(new ByteArrayInputStream(new byte[0]), o, e, false, false, env);
    task = new FutureTask<>(() -> ByokCli.run(io, args));
    thread = new Thread(task, "live-cli " + String.join(" ", args));
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * @return the command running on a background thread, pointed at {@code endpoint}
   */
  static LiveCli start(URI endpoint, String... args) {
    return new LiveCli(Map.of("BYOK_KMS_ENDPOINT", endpoint.toString()), args);
  }

  /**
   * @return the command running on a background thread, with an empty environment
   */
  static LiveCli start(String... args) {
    return new LiveCli(Map.of(), args);
  }

  /**
   * Waits until a line of standard output matches.
   *
   * @param regex found anywhere in the line
   * @return the match (groups available)
   * @throws AssertionError after 10 s, with everything printed so far
   */
  Matcher awaitOut(String regex) throws InterruptedException {
    return out.await(Pattern.compile(regex), DEFAULT_WAIT, this);
  }

  /**
   * @return the exit code, once the command ends by itself (within 10 s)
   */
  int awaitExit() throws InterruptedException {
    try {
      return task.get(DEFAULT_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("command still running after " + DEFAULT_WAIT + "\n" + this, e);
    } catch (ExecutionException e) {
      throw new AssertionError(e.getCause());
    }
  }

  String stdout() {
    return out.text();
  }

  String stderr() {
    return err.text();
  }

  /** Interrupts the command (as Ctrl-C would stop it) and returns its exit code. */
  int interrupt() throws InterruptedException {
    thread.interrupt();
    return awaitExit();
  }

  @Override
  public void close() throws InterruptedException {
    if (!task.isDone()) {
      interrupt();
    }
  }

  @Override
  public String toString() {
    return "--- stdout\n" + stdout() + "--- stderr\n" + stderr();
  }

  /** A growing UTF-8 buffer whose readers can wait for a matching line. Thread-safe. */
  private static final class Output extends OutputStream {
    private final java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();

    @Override
    public synchronized void write(int b) {
      buf.write(b);
      notifyAll();
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      buf.write(b, off, len);
      notifyAll();
    }

    synchronized String text() {
      return buf.toString(StandardCharsets.UTF_8);
    }

    synchronized Matcher await(Pattern p, Duration timeout, LiveCli owner)
        throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        for (String line : text().split("\n")) {
          Matcher m = p.matcher(line);
          if (m.find()) {
            return m;
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError(
              "no output line matching /" + p + "/ within " + timeout + "\n" + owner);
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }
  }
}
