package dev.byok.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.jspecify.annotations.NullMarked;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;

/**
 * The {@code byok} command: {@code byok-cli/target/byok <command>} (the launcher, which runs {@code
 * byok.jar}). See docs/cli.md.
 *
 * <p>{@link #run(CliIo, String...)} runs one command line against given streams and returns the
 * exit code (tests use it); {@link #main} runs against the process's streams and exits. Failures
 * print one line saying what to do, and no stack trace unless {@code --verbose}. An instance serves
 * one run; not thread-safe.
 */
@NullMarked
@Command(
    name = "byok",
    mixinStandardHelpOptions = true,
    scope = ScopeType.INHERIT, // --help and --version on every subcommand too
    versionProvider = ByokCli.Version.class,
    description = {
      "Bring-your-own-key envelope encryption under AWS KMS keys (or the local test KMS).",
      "Quick start, no AWS account: byok demo"
    },
    subcommands = {
      EncryptCommand.class,
      DecryptCommand.class,
      InspectCommand.class,
      VerifyCommand.class,
      RewrapCommand.class,
      KmsCommand.class,
      MonitorCommand.class,
      DemoCommand.class,
      CommandLine.HelpCommand.class,
      // bash and zsh completion: source <(byok generate-completion); the build writes it to
      // byok-cli/target/byok_completion
      AutoComplete.GenerateCompletion.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:ok",
      "1:unexpected failure (run with --verbose)",
      "2:bad command line",
      "3:input is not an authentic byok blob (tampered, truncated, wrong context)",
      "4:key unusable (disabled, pending deletion, not found, access denied, not allowed)",
      "5:KMS unreachable or throttling",
      "6:file problem (missing input, output exists, cannot write: disk full, closed stdout, broken pipe)",
      "130:interrupted (finished files are kept; an unfinished output is removed)",
      "143:stopped by SIGTERM (same cleanup as 130)"
    })
public final class ByokCli {
  @Option(
      names = "--verbose",
      scope = ScopeType.INHERIT,
      description = "print stack traces of failures")
  boolean verbose;

  private final CliIo io;

  private ByokCli(CliIo io) {
    this.io = io;
  }

  CliIo io() {
    return io;
  }

  /**
   * Runs the CLI on the process's streams and exits with its exit code.
   *
   * @param args the command line
   */
  public static void main(String[] args) {
    System.exit(run(CliIo.system(), args));
  }

  /**
   * Runs one command line.
   *
   * @param io streams and environment
   * @param args the command line
   * @return the exit code (see {@code byok --help})
   */
  public static int run(CliIo io, String... args) {
    CommandLine cl = commandLine(io);
    int code = cl.execute(args);
    cl.getOut().flush();
    return outputChecked(io, code);
  }

  /**
   * A run that could not write all of its standard output did not succeed: exit 6 with the reason,
   * unless the run already failed for another reason (reported already).
   */
  private static int outputChecked(CliIo io, int code) {
    try {
      Streams.check(io.out(), "standard output");
      return code;
    } catch (StdioException e) {
      if (code != ExitCodes.OK) {
        return code;
      }
      io.err().println("byok: " + e.getMessage());
      io.err().flush();
      return ExitCodes.IO;
    }
  }

  static CommandLine commandLine(CliIo io) {
    CommandLine cl = new CommandLine(new ByokCli(io));
    cl.setOut(new PrintWriter(io.out(), true, StandardCharsets.UTF_8));
    cl.setErr(new PrintWriter(io.err(), true, StandardCharsets.UTF_8));
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> report(ex, io.err(), verbose(parsed)));
    return cl;
  }

  private static int report(Exception ex, PrintStream err, boolean verbose) {
    err.println("byok: " + Failures.describe(ex));
    if (verbose) {
      ex.printStackTrace(err);
    }
    err.flush();
    return Failures.exitCode(ex);
  }

  private static boolean verbose(ParseResult parsed) {
    for (ParseResult p = parsed; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption("--verbose")) {
        return true;
      }
    }
    return false;
  }

  /** {@code byok --version}: the build's version, from a resource Maven filters. */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
      Properties p = new Properties();
      try (InputStream in = ByokCli.class.getResourceAsStream("/dev/byok/cli/version.properties")) {
        if (in != null) {
          p.load(in);
        }
      }
      return new String[] {"byok " + p.getProperty("version", "(unknown version)")};
    }
  }
}
