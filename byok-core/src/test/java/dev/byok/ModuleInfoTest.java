package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The compiled module descriptor exports only the API and requires only the lean runtime closure
 * (Caffeine, SLF4J API, static JSpecify), and no AWS artifact is a dependency of byok-core,
 * declared or transitive.
 */
class ModuleInfoTest {
  /** byok-core's compiled classes: target/classes, wherever the build runs. */
  private static Path classesDir() throws URISyntaxException {
    return Path.of(
        EnvelopeEncryptor.class.getProtectionDomain().getCodeSource().getLocation().toURI());
  }

  /**
   * Reads the descriptor; javac records no package list, so the packages come from the class files.
   */
  private static ModuleDescriptor descriptor() throws IOException, URISyntaxException {
    Path classes = classesDir();
    Set<String> packages;
    try (Stream<Path> files = Files.walk(classes)) {
      packages =
          files
              .filter(
                  f ->
                      f.toString().endsWith(".class")
                          && !f.getFileName().toString().equals("module-info.class"))
              .map(
                  f ->
                      classes
                          .relativize(f.getParent())
                          .toString()
                          .replace(java.io.File.separatorChar, '.'))
              .collect(Collectors.toSet());
    }
    try (InputStream in = Files.newInputStream(classes.resolve("module-info.class"))) {
      return ModuleDescriptor.read(in, () -> packages);
    }
  }

  @Test
  void exportsOnlyTheApiPackages() throws Exception {
    ModuleDescriptor d = descriptor();
    assertThat(d.name()).isEqualTo("dev.byok.core");
    assertThat(d.packages()).contains("dev.byok", "dev.byok.internal");
    // API and SPI only: the entry point, the KMS seam, the key monitor
    Set<String> expected = Set.of("dev.byok", "dev.byok.spi", "dev.byok.monitor");
    assertThat(d.exports())
        .allSatisfy(e -> assertThat(e.isQualified()).as("qualified export %s", e).isFalse());
    assertThat(
            d.exports().stream().map(ModuleDescriptor.Exports::source).collect(Collectors.toSet()))
        .isEqualTo(expected);
    assertThat(d.exports().stream().map(ModuleDescriptor.Exports::source))
        .doesNotContain("dev.byok.internal");
    assertThat(d.opens()).isEmpty();
    assertThat(d.isOpen()).isFalse();
    assertThat(d.requires().stream().map(ModuleDescriptor.Requires::name))
        .noneMatch(n -> n.startsWith("software.amazon") || n.startsWith("com.amazonaws"));
  }

  /** The dependencies declared in a pom, outside dependencyManagement. */
  private static List<String> declaredDependencies(Path pom) throws IOException {
    return declaredDependencies(pom, false);
  }

  /**
   * The dependencies declared in a pom, outside dependencyManagement; with {@code runtimeOnly},
   * only those that reach a user's run time (not test, provided or optional).
   */
  private static List<String> declaredDependencies(Path pom, boolean runtimeOnly)
      throws IOException {
    String xml = Files.readString(pom, StandardCharsets.UTF_8).replaceAll("(?s)<!--.*?-->", "");
    xml = xml.replaceAll("(?s)<dependencyManagement>.*?</dependencyManagement>", "");
    xml = xml.replaceAll("(?s)<exclusions>.*?</exclusions>", "");
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("(?s)<dependency>(.*?)</dependency>").matcher(xml);
    while (m.find()) {
      String scope = tag(m.group(1), "scope");
      boolean runtime =
          (scope.equals("?") || scope.equals("compile") || scope.equals("runtime"))
              && !tag(m.group(1), "optional").equals("true");
      if (runtime || !runtimeOnly) {
        out.add(tag(m.group(1), "groupId") + ":" + tag(m.group(1), "artifactId"));
      }
    }
    return out;
  }

  private static String tag(String xml, String name) {
    Matcher m = Pattern.compile("<" + name + ">\\s*(.*?)\\s*</" + name + ">").matcher(xml);
    return m.find() ? m.group(1) : "?";
  }

  @Test
  void thePomsDeclareNoAwsArtifact() throws Exception {
    Path module = classesDir().getParent().getParent();
    List<String> core = declaredDependencies(module.resolve("pom.xml"));
    assertThat(core)
        .as("byok-core's dependencies")
        .contains("com.google.crypto.tink:tink") // the parser sees test dependencies too
        .noneMatch(d -> d.startsWith("software.amazon") || d.startsWith("com.amazonaws"));
    // the parent's own dependencies (not its dependencyManagement) are inherited by byok-core
    Path parent = module.getParent().resolve("pom.xml");
    assertThat(Files.readString(parent)).contains("<module>byok-core</module>");
    assertThat(declaredDependencies(parent))
        .noneMatch(d -> d.startsWith("software.amazon") || d.startsWith("com.amazonaws"));
  }

  /** The lean runtime closure: Caffeine, SLF4J API and JSpecify; Tink only in tests. */
  @Test
  void theRuntimeDependenciesAreCaffeineSlf4jAndJspecify() throws Exception {
    Path pom = classesDir().getParent().getParent().resolve("pom.xml");
    assertThat(declaredDependencies(pom, true))
        .containsExactlyInAnyOrder(
            "com.github.ben-manes.caffeine:caffeine",
            "org.slf4j:slf4j-api",
            "org.jspecify:jspecify");
    // Caffeine's own module-info requires error_prone_annotations only statically
    assertThat(Files.readString(pom)).contains("<artifactId>error_prone_annotations</artifactId>");
  }

  @Test
  void theModuleRequiresOnlyCaffeineSlf4jAndStaticJspecify() throws Exception {
    Map<String, Set<ModuleDescriptor.Requires.Modifier>> requires =
        descriptor().requires().stream()
            .collect(
                Collectors.toMap(
                    ModuleDescriptor.Requires::name, ModuleDescriptor.Requires::modifiers));
    assertThat(requires)
        .containsOnlyKeys("java.base", "com.github.benmanes.caffeine", "org.slf4j", "org.jspecify");
    assertThat(requires.get("org.jspecify")).contains(ModuleDescriptor.Requires.Modifier.STATIC);
    assertThat(requires.get("com.github.benmanes.caffeine"))
        .doesNotContain(ModuleDescriptor.Requires.Modifier.STATIC);
    assertThat(requires.get("org.slf4j")).doesNotContain(ModuleDescriptor.Requires.Modifier.STATIC);
  }

  /** Nothing on byok-core's test class path, however transitive, is an AWS SDK class. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "software.amazon.awssdk.core.SdkBytes",
        "software.amazon.awssdk.services.kms.KmsClient",
        "software.amazon.awssdk.regions.Region",
        "com.amazonaws.encryptionsdk.AwsCrypto",
        "com.amazonaws.services.kms.AWSKMS"
      })
  void noAwsClassIsOnTheClassPath(String name) {
    assertThatThrownBy(() -> Class.forName(name, false, ModuleInfoTest.class.getClassLoader()))
        .isInstanceOf(ClassNotFoundException.class);
  }
}
