package dev.byok.cli;

import picocli.CommandLine.Command;

/** Placeholder until `byok decrypt` lands. */
@Command(name = "decrypt", description = "not implemented yet")
final class DecryptCommand extends CliCommand {
  @Override
  public Integer call() {
    throw new CliException(ExitCodes.FAILURE, "byok decrypt is not implemented yet");
  }
}
