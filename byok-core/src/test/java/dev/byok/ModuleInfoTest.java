package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ResolvedModule;
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

  private static Path jarOf(Class<?> c) throws URISyntaxException {
    return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
  }

  /**
   * On the module path with nothing but Caffeine and the SLF4J API (no JSpecify, no
   * error_prone_annotations, no Tink), the module resolves and an envelope round-trips through it:
   * the payload key and the key commitment are derived by the core's own HKDF.
   */
  @Test
  void runsOnTheModulePathWithOnlyCaffeineAndSlf4j() throws Exception {
    ModuleFinder finder =
        ModuleFinder.of(classesDir(), jarOf(Caffeine.class), jarOf(org.slf4j.Logger.class));
    Configuration cf =
        ModuleLayer.boot()
            .configuration()
            .resolve(finder, ModuleFinder.of(), Set.of("dev.byok.core"));
    assertThat(cf.modules().stream().map(ResolvedModule::name))
        .containsExactlyInAnyOrder("dev.byok.core", "com.github.benmanes.caffeine", "org.slf4j");
    // the platform loader as parent: nothing from the test class path is visible in the layer
    ModuleLayer layer =
        ModuleLayer.boot().defineModulesWithOneLoader(cf, ClassLoader.getPlatformClassLoader());
    ClassLoader loader = layer.findLoader("dev.byok.core");
    Class<?> dataKey = loader.loadClass("dev.byok.DataKey");
    assertThat(dataKey.getModule().getLayer()).isSameAs(layer);
    Class<?> keySlot = loader.loadClass("dev.byok.KeySlot");
    Class<?> builderClass = loader.loadClass("dev.byok.EnvelopeEncryptor$Builder");
    Object key = dataKey.getMethod("generate").invoke(null);
    Object slot =
        keySlot
            .getMethod("of", String.class, String.class, byte[].class)
            .invoke(null, "test", "arn:test:key/module-path", new byte[] {1});
    Object builder =
        loader.loadClass("dev.byok.EnvelopeEncryptor").getMethod("builder").invoke(null);
    builderClass.getMethod("dataKey", dataKey).invoke(builder, key);
    builderClass.getMethod("keySlot", keySlot).invoke(builder, slot);
    Object encryptor = builderClass.getMethod("build").invoke(builder);
    byte[] plaintext = "module path".getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (OutputStream out =
        (OutputStream)
            encryptor
                .getClass()
                .getMethod("newEncryptingStream", OutputStream.class)
                .invoke(encryptor, sink)) {
      out.write(plaintext);
    }
    Class<?> resolverClass = loader.loadClass("dev.byok.DataKeyResolver");
    Object resolver = resolverClass.getMethod("of", dataKey).invoke(null, key);
    Object decryptor =
        loader
            .loadClass("dev.byok.EnvelopeDecryptor")
            .getMethod("create", resolverClass)
            .invoke(null, resolver);
    try (InputStream in =
        (InputStream)
            decryptor
                .getClass()
                .getMethod("newDecryptingStream", InputStream.class)
                .invoke(decryptor, new ByteArrayInputStream(sink.toByteArray()))) {
      assertThat(in.readAllBytes()).isEqualTo(plaintext);
    }
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
