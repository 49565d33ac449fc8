package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code byok generate-completion}: picocli's bash/zsh completion script (the build writes it to
 * target/byok_completion). It names every command and subcommand, and bash accepts it.
 */
class CompletionTest {
  private static final List<String> COMMANDS =
      List.of("encrypt", "decrypt", "inspect", "verify", "rewrap", "kms", "monitor", "demo");

  @TempDir Path tmp;

  @Test
  void theScriptNamesEveryCommandAndWorksInZshToo() {
    Cli.Result r = new Cli().run("generate-completion");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    String script = r.stdout();
    assertThat(script).contains("complete -F _complete_byok");
    // the same script serves zsh through bashcompinit
    assertThat(script).contains("bashcompinit");
    for (String c : COMMANDS) {
      assertThat(script).as(c).containsPattern("\\b" + c + "\\b");
    }
    for (String sub : List.of("serve", "create-key", "schedule-deletion", "cancel-deletion")) {
      assertThat(script).as(sub).contains(sub);
    }
    assertThat(script).contains("--key").contains("--context").contains("--endpoint");
  }

  @Test
  @EnabledOnOs({OS.LINUX, OS.MAC})
  void bashSourcesItAndCompletesTheCommands() throws Exception {
    Path script = tmp.resolve("byok_completion");
    Files.write(script, new Cli().run("generate-completion").stdoutBytes());
    // complete "byok de" the way bash would on Tab
    String probe =
        "source '"
            + script
            + "' && complete -p byok"
            + " && COMP_WORDS=(byok de) && COMP_CWORD=1 && COMP_LINE='byok de' && COMP_POINT=7"
            + " && _complete_byok && printf '%s\\n' \"${COMPREPLY[@]}\"";
    Process p =
        new ProcessBuilder("bash", "--norc", "--noprofile", "-c", probe)
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("-F _complete_byok byok");
    assertThat(out.lines()).as(out).contains("decrypt", "demo").doesNotContain("encrypt");
  }
}
