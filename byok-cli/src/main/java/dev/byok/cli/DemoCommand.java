package dev.byok.cli;

import picocli.CommandLine.Command;

/** Placeholder until `byok demo` lands. */
@Command(name = "demo", description = "not implemented yet")
final class DemoCommand extends CliCommand {
  @Override
  public Integer call() {
    throw new CliException(ExitCodes.FAILURE, "byok demo is not implemented yet");
  }
}
