package dev.byok.cli;

import picocli.CommandLine.Command;

/** Placeholder until `byok kms` lands. */
@Command(name = "kms", description = "not implemented yet")
final class KmsCommand extends CliCommand {
  @Override
  public Integer call() {
    throw new CliException(ExitCodes.FAILURE, "byok kms is not implemented yet");
  }
}
