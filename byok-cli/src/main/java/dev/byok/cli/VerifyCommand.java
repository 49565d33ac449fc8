package dev.byok.cli;

import picocli.CommandLine.Command;

/** Placeholder until `byok verify` lands. */
@Command(name = "verify", description = "not implemented yet")
final class VerifyCommand extends CliCommand {
  @Override
  public Integer call() {
    throw new CliException(ExitCodes.FAILURE, "byok verify is not implemented yet");
  }
}
