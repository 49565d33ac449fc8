package dev.byok.cli;

import picocli.CommandLine.Command;

/** Placeholder until `byok inspect` lands. */
@Command(name = "inspect", description = "not implemented yet")
final class InspectCommand extends CliCommand {
  @Override
  public Integer call() {
    throw new CliException(ExitCodes.FAILURE, "byok inspect is not implemented yet");
  }
}
