package dev.byok.cli;

import picocli.CommandLine.Command;

/** Placeholder until `byok encrypt` lands. */
@Command(name = "encrypt", description = "not implemented yet")
final class EncryptCommand extends CliCommand {
  @Override
  public Integer call() {
    throw new CliException(ExitCodes.FAILURE, "byok encrypt is not implemented yet");
  }
}
