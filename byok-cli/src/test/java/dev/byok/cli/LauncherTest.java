package dev.byok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code byok} launcher (src/main/launcher/byok, copied to target/byok by the build), run as a
 * real process with {@code sh}: it runs the {@code byok.jar} beside it on the JVM it picks, passes
 * arguments and the exit code through, and uses a class-data archive only when it fits — a corrupt
 * one or one made with other JVM flags is dropped without a message. The {@code byok.jar} here is a
 * manifest-only jar whose Class-Path is the test class path, so the real CLI runs.
 */
@EnabledOnOs({OS.LINUX, OS.MAC})
class LauncherTest {
  private static final Path JAVA_HOME = Path.of(System.getProperty("java.home"));

  @TempDir Path tmp;
  private Path bin;

  @BeforeEach
  void install() throws IOException {
    bin = Files.createDirectories(tmp.resolve("opt dir/bin")); // a space in the path, on purpose
    Path launcher = Files.copy(Path.of("src/main/launcher/byok"), bin.resolve("byok"));
    Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
    Manifest m = new Manifest();
    m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, ByokCli.class.getName());
    m.getMainAttributes()
        .put(
            Attributes.Name.CLASS_PATH,
            List.of(System.getProperty("java.class.path").split(File.pathSeparator)).stream()
                .map(p -> Path.of(p).toAbsolutePath().toUri().toString())
                .collect(Collectors.joining(" ")));
    try (OutputStream out = Files.newOutputStream(bin.resolve("byok.jar"));
        JarOutputStream jar = new JarOutputStream(out, m)) {
      jar.flush();
    }
  }

  @Test
  void runsTheJarBesideItOnJavaHome() throws Exception {
    Run r = run(Map.of("JAVA_HOME", JAVA_HOME.toString()), "--version");
    assertThat(r.exit).as(r.toString()).isZero();
    assertThat(r.stdout).startsWith("byok ");
    assertThat(r.stderr).isEmpty();
  }

  @Test
  void passesArgumentsWithSpacesAndTheExitCode() throws Exception {
    Path missing = tmp.resolve("no such file.byok");
    Run r = run(Map.of("JAVA_HOME", JAVA_HOME.toString()), "inspect", missing.toString());
    assertThat(r.exit).as(r.toString()).isEqualTo(ExitCodes.IO);
    assertThat(r.stderr).contains("no such file.byok");

    Run usage = run(Map.of("JAVA_HOME", JAVA_HOME.toString()), "encrypt", "--no-such-flag");
    assertThat(usage.exit).as(usage.toString()).isEqualTo(ExitCodes.USAGE);
  }

  @Test
  void userOptionsComeLastAndMayPickTheCollector() throws Exception {
    Run r =
        run(
            Map.of(
                "JAVA_HOME", JAVA_HOME.toString(), "BYOK_JAVA_OPTS", "-XX:+UseParallelGC -Xmx256m"),
            "--version");
    assertThat(r.exit).as(r.toString()).isZero();
    assertThat(r.stdout).startsWith("byok ");
    assertThat(r.stderr).isEmpty();
  }

  @Test
  void aJavaHomeWithoutJavaIsNamed() throws Exception {
    Path empty = Files.createDirectories(tmp.resolve("not-a-jdk"));
    Run r = run(Map.of("JAVA_HOME", empty.toString()), "--version");
    assertThat(r.exit).isEqualTo(1);
    assertThat(r.stderr).contains("JAVA_HOME=" + empty).contains("no bin/java");
    assertThat(r.stdout).isEmpty();
  }

  @Test
  void withoutJavaHomeTakesJavaOnPath() throws Exception {
    Run r =
        run(
            Map.of(
                "PATH",
                JAVA_HOME.resolve("bin") + File.pathSeparator + "/usr/bin:/bin",
                "BYOK_LAUNCHER_DRY_RUN",
                "1"));
    assertThat(r.exit).as(r.toString()).isZero();
    List<String> lines = r.stdout.lines().toList();
    assertThat(lines.get(1)).isEqualTo(JAVA_HOME.resolve("bin/java").toString());
    assertThat(lines).contains("-jar", bin.resolve("byok.jar").toString());

    // a PATH with the tools the script uses, but no java
    Path tools = Files.createDirectories(tmp.resolve("tools"));
    for (String tool : List.of("dirname", "readlink", "sed", "head", "cksum", "cut", "tr")) {
      for (String dir : List.of("/usr/bin", "/bin")) {
        if (Files.isExecutable(Path.of(dir, tool)) && !Files.exists(tools.resolve(tool))) {
          Files.createSymbolicLink(tools.resolve(tool), Path.of(dir, tool));
        }
      }
    }
    Run none = run(Map.of("PATH", tools.toString()), "--version");
    assertThat(none.exit).isEqualTo(1);
    assertThat(none.stderr).contains("no Java runtime found");
  }

  @Test
  void theArchiveIsNamedForThisJvmAndUsedOnlyWhenPresent() throws Exception {
    Path archive = archiveName();
    assertThat(archive.getParent()).isEqualTo(bin);
    String name = archive.getFileName().toString();
    assertThat(name)
        .startsWith("byok-")
        .endsWith(Runtime.version().feature() >= 25 ? ".aot" : ".jsa");
    assertThat(name).contains(Integer.toString(Runtime.version().feature()));
    assertThat(dryRun()).noneMatch(a -> a.contains(archive.toString()));

    Files.writeString(archive, "not an archive");
    assertThat(dryRun()).anyMatch(a -> a.endsWith("=" + archive));
    Run off =
        run(
            Map.of(
                "JAVA_HOME", JAVA_HOME.toString(),
                "BYOK_LAUNCHER_DRY_RUN", "1",
                "BYOK_NO_ARCHIVE", "1"));
    assertThat(off.stdout.lines().skip(1)).noneMatch(a -> a.contains(archive.toString()));
  }

  @Test
  void aCorruptArchiveIsIgnoredWithoutAWord() throws Exception {
    Path archive = archiveName();
    Files.write(archive, new byte[64 * 1024]);
    Run r = run(Map.of("JAVA_HOME", JAVA_HOME.toString()), "--version");
    assertThat(r.exit).as(r.toString()).isZero();
    assertThat(r.stdout).startsWith("byok ");
    assertThat(r.stderr).isEmpty();
  }

  /**
   * An archive that this JVM made, but with other flags (ParallelGC instead of the launcher's
   * SerialGC) for another program (the jar tool): the JVM cannot use it and the launcher's run says
   * nothing.
   */
  @Test
  void anArchiveMadeWithOtherFlagsIsIgnoredWithoutAWord() throws Exception {
    Path archive = archiveName();
    String dump =
        Runtime.version().feature() >= 25
            ? "-XX:AOTCacheOutput=" + archive
            : "-XX:ArchiveClassesAtExit=" + archive;
    List<String> cmd =
        List.of(
            JAVA_HOME.resolve("bin/java").toString(),
            "-XX:+UseParallelGC",
            "-Xlog:disable",
            "-Xlog:all=off",
            dump,
            "-m",
            "jdk.jartool/sun.tools.jar.Main",
            "--version");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String made = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(archive).as(made).exists();

    Run r = run(Map.of("JAVA_HOME", JAVA_HOME.toString()), "--version");
    assertThat(r.exit).as(r.toString()).isZero();
    assertThat(r.stdout).startsWith("byok ");
    assertThat(r.stderr).isEmpty();
  }

  private Path archiveName() throws Exception {
    Run r = run(Map.of("JAVA_HOME", JAVA_HOME.toString(), "BYOK_LAUNCHER_DRY_RUN", "1"));
    String first = r.stdout.lines().findFirst().orElseThrow();
    assertThat(first).startsWith("archive: " + bin);
    return Path.of(first.substring("archive: ".length()));
  }

  private List<String> dryRun() throws Exception {
    Run r = run(Map.of("JAVA_HOME", JAVA_HOME.toString(), "BYOK_LAUNCHER_DRY_RUN", "1"));
    assertThat(r.exit).isZero();
    return r.stdout.lines().skip(1).toList();
  }

  private record Run(int exit, String stdout, String stderr) {
    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
    }
  }

  /**
   * Runs {@code sh bin/byok args} with only {@code env} (plus a PATH if none) in its environment.
   */
  private Run run(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("/bin/sh", bin.resolve("byok").toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile());
    Map<String, String> e = pb.environment();
    e.clear();
    Map<String, String> all = new HashMap<>(env);
    all.putIfAbsent("PATH", "/usr/bin:/bin");
    e.putAll(all);
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    Path out = tmp.resolve("out." + System.nanoTime());
    Path err = tmp.resolve("err." + System.nanoTime());
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the launcher finished").isTrue();
    return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
  }
}
