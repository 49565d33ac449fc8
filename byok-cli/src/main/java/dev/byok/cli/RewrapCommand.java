package dev.byok.cli;

import picocli.CommandLine.Command;

/** Placeholder until `byok rewrap` lands. */
@Command(name = "rewrap", description = "not implemented yet")
final class RewrapCommand extends CliCommand {
  @Override
  public Integer call() {
    throw new CliException(ExitCodes.FAILURE, "byok rewrap is not implemented yet");
  }
}
