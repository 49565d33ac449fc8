package dev.byok.cli;

import picocli.CommandLine.Command;

/** Placeholder until `byok monitor` lands. */
@Command(name = "monitor", description = "not implemented yet")
final class MonitorCommand extends CliCommand {
  @Override
  public Integer call() {
    throw new CliException(ExitCodes.FAILURE, "byok monitor is not implemented yet");
  }
}
