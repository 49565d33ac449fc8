package dev.byok.cli;

import dev.byok.KeyRef;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.kms.aws.AwsKmsProvider;
import dev.byok.monitor.KeyEvent;
import dev.byok.monitor.KeyMonitorState;
import dev.byok.monitor.KeyStateMonitor;
import dev.byok.spi.KeyDescription;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * {@code byok monitor}: runs a {@link KeyStateMonitor} over the given keys and prints one
 * timestamped line per state change — the same events a host wires to its locks (see
 * docs/key-lifecycle.md) — until Ctrl-C or for {@code --for}. Starts with one line per key giving
 * its ARN and state. Fails fast (exit 4 or 5) if a key does not exist or the KMS cannot be reached
 * at start; afterwards outages and denials are what it reports.
 */
@NullMarked
@Command(
    name = "monitor",
    description = {
      "Watch keys and print their state changes live.",
      "LOCKED / UNLOCKED, alias moved, deletion scheduled, KMS unreachable, ...: the events",
      "byok's KeyStateMonitor gives a host (docs/key-lifecycle.md)."
    })
final class MonitorCommand extends CliCommand {
  private static final DateTimeFormatter CLOCK =
      DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());
  private static final Duration SUSPECT_PROBE_MAX = Duration.ofSeconds(15);

  @Mixin KmsOptions kms;

  @Option(
      names = "--key",
      paramLabel = "KEY",
      required = true,
      description = "a key to watch: aws-kms://ARN, an ARN, alias/NAME or a key id; repeatable")
  List<String> keys = new ArrayList<>();

  @Option(
      names = "--interval",
      paramLabel = "DURATION",
      defaultValue = "30s",
      converter = Durations.class,
      description =
          "time between probes of a healthy key (default: ${DEFAULT-VALUE}; e.g. 200ms, 30s, 5m, PT1M)")
  Duration interval = Duration.ofSeconds(30);

  @Option(
      names = "--grace",
      paramLabel = "DURATION",
      defaultValue = "30s",
      converter = Durations.class,
      description =
          "how long a key must stay denied before it is LOCKED: absorbs KMS eventual consistency "
              + "(default: ${DEFAULT-VALUE})")
  Duration grace = Duration.ofSeconds(30);

  @Option(
      names = "--for",
      paramLabel = "DURATION",
      converter = Durations.class,
      description = "stop after this long (default: run until Ctrl-C)")
  @Nullable Duration runFor;

  @Override
  public Integer call() throws StdioException {
    if (interval.isZero()) {
      throw new CliException(ExitCodes.USAGE, "--interval must be more than 0");
    }
    if (runFor != null && runFor.isZero()) {
      throw new CliException(ExitCodes.USAGE, "--for must be more than 0");
    }
    Set<KeyRef> named = new LinkedHashSet<>();
    for (String k : keys) {
      named.add(KeyRefs.parse(k));
    }
    CliIo io = io();
    PrintStream out = io.out();
    try (AwsKmsProvider provider = kms.provider(io)) {
      Map<KeyRef, @Nullable KeyDescription> initial = new LinkedHashMap<>();
      for (KeyRef ref : named) {
        initial.put(ref, describeAtStart(provider, ref));
      }
      Duration tick = clamp(interval.dividedBy(4), Duration.ofMillis(50), Duration.ofSeconds(1));
      Duration suspect = min(SUSPECT_PROBE_MAX, interval);
      if (!grace.isZero()) {
        suspect = min(suspect, grace.dividedBy(2));
      }
      suspect = suspect.compareTo(tick) < 0 ? tick : suspect;
      CountDownLatch stop = new CountDownLatch(1);
      try (KeyStateMonitor monitor =
          KeyStateMonitor.builder()
              .provider(provider)
              .probeInterval(interval)
              .gracePeriod(grace)
              .suspectProbeInterval(suspect)
              .tick(tick)
              // print events on the probing thread, in order with the command's own lines
              .eventExecutor(Runnable::run)
              .build()) {
        monitor.addListener(
            e -> {
              print(out, e);
              if (out.checkError()) {
                stop.countDown(); // nobody reads the events any more (closed pipe, full disk)
              }
            });
        Thread hook =
            new Thread(
                () -> {
                  monitor.close();
                  stop.countDown();
                },
                "byok-monitor-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
          for (KeyRef ref : named) {
            monitor.watch(ref);
            monitor.probeNow(ref); // a disabled key shows up as SUSPECT right away
            print(
                out,
                Instant.now(),
                "WATCHING " + ref.keyId() + " " + initialLine(ref, initial.get(ref), monitor));
          }
          print(
              out,
              Instant.now(),
              "STARTED watching "
                  + (named.size() == 1 ? "1 key" : named.size() + " keys")
                  + "; probing every "
                  + Durations.format(interval)
                  + ", locking after "
                  + Durations.format(grace)
                  + " of denial"
                  + (runFor == null
                      ? "; Ctrl-C stops"
                      : "; stopping after " + Durations.format(runFor)));
          monitor.start();
          if (runFor == null) {
            stop.await();
          } else {
            stop.await(runFor.toMillis(), TimeUnit.MILLISECONDS);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return ExitCodes.INTERRUPTED;
        } finally {
          try {
            Runtime.getRuntime().removeShutdownHook(hook);
          } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run
          }
        }
      }
    }
    Streams.check(out, "standard output"); // a lost event line fails the run (exit 6)
    return ExitCodes.OK;
  }

  /**
   * A missing key or an unreachable KMS at start is a typo more often than news: fails fast.
   *
   * @return the key's description, or {@code null} if DescribeKey is denied (the canary may still
   *     pass)
   */
  private @Nullable KeyDescription describeAtStart(AwsKmsProvider provider, KeyRef ref) {
    try {
      return provider.describeKey(ref.keyId());
    } catch (KmsUnavailableException e) {
      if (e.getCause() instanceof SdkException sdk) {
        throw KmsErrors.translate(
            kms, io(), "DescribeKey", ref.keyId(), sdk); // unreachable, throttled, credentials
      }
      throw new CliException(
          ExitCodes.KMS_UNAVAILABLE,
          KmsErrors.unreachable(kms, io()) + " (" + Failures.message(e) + ")",
          e);
    } catch (KeyUnusableException e) {
      if (e.reason() == KeyUnusableException.Reason.NOT_FOUND) {
        throw e; // Failures: "does not exist in this account and Region (check --key, --region,
        // --endpoint)"
      }
      return null;
    }
  }

  private static String initialLine(
      KeyRef ref, @Nullable KeyDescription d, KeyStateMonitor monitor) {
    String arn = monitor.keyArn(ref);
    if (arn == null && d != null) {
      arn = d.keyArn();
    }
    return (arn == null || arn.equals(ref.keyId()) ? "" : "-> " + arn + " ")
        + "is "
        + monitor.state(ref)
        + (d == null
            ? " (DescribeKey denied: the KMS state is not visible)"
            : " (KMS state " + d.state() + ")");
  }

  /** Prints one event in plain words; called on the monitor's thread. */
  static void print(PrintStream out, KeyEvent e) {
    String key = e.key().keyId();
    String arn = e.keyArn() != null && !e.keyArn().equals(key) ? " (" + e.keyArn() + ")" : "";
    String text =
        switch (e.type()) {
          case STATE_CHANGED ->
              switch (e.to()) {
                case SUSPECT ->
                    "SUSPECT "
                        + key
                        + arn
                        + " — the KMS denies the key ("
                        + e.reason()
                        + "); LOCKED at "
                        + (e.lockAt() == null
                            ? "the end of the grace period"
                            : CLOCK.format(e.lockAt()))
                        + " unless it answers again";
                case ACTIVE ->
                    e.from() == KeyMonitorState.SUSPECT
                        ? "ACTIVE "
                            + key
                            + arn
                            + " — answers again within the grace period; nothing was locked"
                        : null; // from LOCKED / UNREACHABLE: the UNLOCKED / KMS_REACHABLE line says
                // it
                default -> null; // LOCKED / UNREACHABLE: their own lines say it
              };
          case LOCKED -> "LOCKED " + key + arn + " — " + lockAdvice(e.reason(), key);
          case UNLOCKED -> "UNLOCKED " + key + arn + " — usable again (" + e.reason() + ")";
          case RESTORE_PENDING_ACKNOWLEDGEMENT ->
              "RESTORE_PENDING " + key + arn + " — " + e.reason();
          case KEY_RETARGETED ->
              "KEY_RETARGETED "
                  + key
                  + " now -> "
                  + e.keyArn()
                  + " (was "
                  + e.previousArn()
                  + "); new data uses the new key, data written before still needs the old one (watched too)";
          case KEY_MATERIAL_ROTATED ->
              "KEY_MATERIAL_ROTATED "
                  + key
                  + arn
                  + " — new key material, same ARN; "
                  + "old data still decrypts";
          case DELETION_SCHEDULED ->
              "DELETION_SCHEDULED "
                  + key
                  + arn
                  + " — deletion on "
                  + (e.deletionDate() == null
                      ? "(unknown date)"
                      : e.deletionDate().truncatedTo(ChronoUnit.SECONDS))
                  + "; after that, data under it is lost for good: cancel before (byok kms cancel-deletion "
                  + key
                  + ")";
          case KMS_UNREACHABLE ->
              "KMS_UNREACHABLE "
                  + key
                  + arn
                  + " — "
                  + e.reason()
                  + "; nothing is locked for an outage";
          case KMS_REACHABLE -> "KMS_REACHABLE " + key + arn + " — the KMS answers again";
          case THROTTLED -> "THROTTLED " + key + arn + " — " + e.reason();
          case MONITORING_DEGRADED ->
              "MONITORING_DEGRADED "
                  + key
                  + arn
                  + " — "
                  + e.reason()
                  + "; grant kms:DescribeKey and kms:GetKeyRotationStatus to see more";
          case ROTATION_STATUS_CHANGED ->
              "ROTATION_STATUS_CHANGED " + key + arn + " — " + e.reason();
        };
    if (text != null) {
      print(out, e.at(), text);
    }
  }

  /**
   * @return what the denial is and what lifts it, from the monitor's reason (e.g. "canary refused:
   *     DISABLED")
   */
  static String lockAdvice(String reason, String key) {
    String what;
    String until;
    if (reason.contains("PENDING_DELETION")) {
      what = "key scheduled for deletion";
      until =
          "the deletion is cancelled and the key enabled (byok kms cancel-deletion "
              + key
              + ", then byok kms enable "
              + key
              + ")";
    } else if (reason.contains("DISABLED")) {
      what = "key disabled";
      until = "it is enabled (byok kms enable " + key + ")";
    } else if (reason.contains("ACCESS_DENIED")) {
      what = "access denied";
      until = "the key policy or IAM allows these credentials again";
    } else if (reason.contains("NOT_FOUND")) {
      what = "key not found";
      until = "the key (or the alias) exists again";
    } else {
      what = "the KMS refuses the key";
      until = "it is usable again";
    }
    return what + " (" + reason + "); reads and writes under it are refused until " + until;
  }

  private static void print(PrintStream out, Instant at, String line) {
    synchronized (out) {
      out.println(CLOCK.format(at) + " " + line);
      out.flush();
    }
  }

  private static Duration clamp(Duration d, Duration lo, Duration hi) {
    return d.compareTo(lo) < 0 ? lo : d.compareTo(hi) > 0 ? hi : d;
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
