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
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The compiled module descriptor exports only the API, and no AWS artifact is a dependency of
 * byok-core, declared or transitive.
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
    String xml = Files.readString(pom, StandardCharsets.UTF_8).replaceAll("(?s)<!--.*?-->", "");
    xml = xml.replaceAll("(?s)<dependencyManagement>.*?</dependencyManagement>", "");
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("(?s)<dependency>(.*?)</dependency>").matcher(xml);
    while (m.find()) {
      out.add(tag(m.group(1), "groupId") + ":" + tag(m.group(1), "artifactId"));
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
        .contains("com.google.crypto.tink:tink")
        .noneMatch(d -> d.startsWith("software.amazon") || d.startsWith("com.amazonaws"));
    // the parent's own dependencies (not its dependencyManagement) are inherited by byok-core
    Path parent = module.getParent().resolve("pom.xml");
    assertThat(Files.readString(parent)).contains("<module>byok-core</module>");
    assertThat(declaredDependencies(parent))
        .noneMatch(d -> d.startsWith("software.amazon") || d.startsWith("com.amazonaws"));
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
