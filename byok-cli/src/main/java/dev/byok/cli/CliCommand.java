package dev.byok.cli;

import java.util.concurrent.Callable;
import org.jspecify.annotations.NullMarked;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Base of every byok subcommand: access to the run's {@link CliIo}. Subclasses return an exit code
 * from {@link #call()} or throw; {@link ByokCli} turns exceptions into a message and exit code.
 */
@NullMarked
abstract class CliCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  /**
   * @return the streams and environment of this run
   */
  protected CliIo io() {
    return ((ByokCli) spec.root().userObject()).io();
  }
}
