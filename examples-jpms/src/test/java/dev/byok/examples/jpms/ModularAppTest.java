package dev.byok.examples.jpms;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Runs {@link ModularApp} as a real application on the module path, in a child JVM: {@code java
 * --module-path <the app and its runtime dependencies> -m dev.byok.examples.jpms/...}. Every byok
 * module must resolve as an explicit module (module-info), the SDK as automatic modules, and both
 * round trips must work there.
 */
class ModularAppTest {
  /** Test-only jars of this module's class path; everything else is the app's runtime path. */
  private static final Pattern TEST_ONLY =
      Pattern.compile(
          ".*/(junit-|opentest4j|apiguardian|assertj-|byte-buddy|jqwik|test-classes).*");

  @Test
  void theApplicationRunsOnTheModulePath() throws Exception {
    List<String> modulePath = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (!entry.isEmpty() && !TEST_ONLY.matcher(entry.replace('\\', '/')).matches()) {
        modulePath.add(entry);
      }
    }
    assertThat(modulePath).anyMatch(e -> e.replace('\\', '/').contains("examples-jpms/target"));
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Path log = Files.createTempFile("modular-app", ".log");
    try {
      Process p =
          new ProcessBuilder(
                  java.toString(),
                  "--module-path",
                  String.join(File.pathSeparator, modulePath),
                  "--show-module-resolution",
                  "-m",
                  "dev.byok.examples.jpms/dev.byok.examples.jpms.ModularApp")
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the app finishes").isTrue();
      String out = Files.readString(log, StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as(out).isZero();
      assertThat(out)
          .contains("app module: dev.byok.examples.jpms")
          .contains("fake-kms: hello from a module via dev.byok.core")
          .contains("aws-kms: hello over the AWS SDK via dev.byok.kms.aws");
      // --show-module-resolution prints "<reader> requires <module> <location>[ automatic]"
      for (String module :
          List.of("dev.byok.core", "dev.byok.kms.aws", "dev.byok.kms.local", "dev.byok.testkit")) {
        List<String> resolved =
            out.lines().filter(l -> l.contains(" requires " + module + " ")).toList();
        assertThat(resolved).as(module + " resolved on the module path").isNotEmpty();
        assertThat(resolved)
            .as(module + " has a module-info")
            .noneMatch(l -> l.endsWith("automatic"));
      }
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
