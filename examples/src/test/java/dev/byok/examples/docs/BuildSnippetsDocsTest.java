package dev.byok.examples.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Maven snippets in README.md and docs/ name artifacts that exist, are published and carry a
 * version Maven accepts: a dependency on a dev.byok artifact either has {@code
 * <version>${byok.version}</version>} (and README.md sets that property to the project's version)
 * or sits in a block that imports byok-bom.
 */
class BuildSnippetsDocsTest {
  private static final Path ROOT = root();
  private static final Pattern XML_BLOCK = Pattern.compile("(?s)```xml\\n(.*?)```");
  private static final Pattern DEPENDENCY = Pattern.compile("(?s)<dependency>(.*?)</dependency>");
  private static final Pattern MODULE = Pattern.compile("<module>\\s*([^<\\s]+)\\s*</module>");

  @Test
  void everyByokDependencyInTheDocsResolvesToAPublishedModuleWithAVersion() throws IOException {
    Set<String> published = publishedArtifacts();
    assertThat(published)
        .contains("byok-bom", "byok-core", "byok-kms-aws", "byok-kms-local", "byok-testkit")
        .doesNotContain("byok-cli", "byok-examples", "byok-examples-jpms", "byok-jmh");
    List<String> checked = new ArrayList<>();
    for (Path doc : docs()) {
      Matcher block = XML_BLOCK.matcher(Files.readString(doc, StandardCharsets.UTF_8));
      while (block.find()) {
        String xml = block.group(1);
        boolean importsBom = xml.contains("<artifactId>byok-bom</artifactId>");
        Matcher dep = DEPENDENCY.matcher(xml);
        while (dep.find()) {
          String d = dep.group(1);
          if (!d.contains("<groupId>dev.byok</groupId>")) {
            continue;
          }
          String artifact = tag(d, "artifactId");
          String where = ROOT.relativize(doc) + ": " + artifact;
          assertThat(published).as(where + " is a published module").contains(artifact);
          String version = tag(d, "version");
          if (version.isEmpty()) {
            assertThat(importsBom).as(where + " has no version and no BOM import").isTrue();
          } else {
            assertThat(version).as(where).isIn("${byok.version}", projectVersion());
          }
          checked.add(where);
        }
      }
    }
    assertThat(checked).as("snippets checked").hasSizeGreaterThanOrEqualTo(5);
  }

  @Test
  void theReadmePinsTheProjectVersionAndTheBomAgrees() throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"), StandardCharsets.UTF_8);
    assertThat(tag(readme, "byok.version")).isEqualTo(projectVersion());
    String bom = Files.readString(ROOT.resolve("byok-bom/pom.xml"), StandardCharsets.UTF_8);
    assertThat(tag(bom.substring(bom.indexOf("<artifactId>byok-bom</artifactId>")), "version"))
        .as("byok-bom has no parent; its version must move with the parent's")
        .isEqualTo(projectVersion());
    for (String artifact : publishedArtifacts()) {
      if (!artifact.equals("byok-bom")) {
        assertThat(bom).as("byok-bom manages " + artifact).contains(artifact);
      }
    }
  }

  private static Set<String> publishedArtifacts() throws IOException {
    Set<String> out = new LinkedHashSet<>();
    Matcher m = MODULE.matcher(Files.readString(ROOT.resolve("pom.xml"), StandardCharsets.UTF_8));
    while (m.find()) {
      String pom = Files.readString(ROOT.resolve(m.group(1)).resolve("pom.xml"));
      if (!pom.contains("<byok.notPublished>true</byok.notPublished>")) {
        String afterParent =
            pom.contains("</parent>") ? pom.substring(pom.indexOf("</parent>")) : pom;
        out.add(tag(afterParent, "artifactId"));
      }
    }
    return out;
  }

  private static String projectVersion() throws IOException {
    String pom = Files.readString(ROOT.resolve("pom.xml"), StandardCharsets.UTF_8);
    return tag(pom.substring(pom.indexOf("<artifactId>byok-parent</artifactId>")), "version");
  }

  private static List<Path> docs() throws IOException {
    List<Path> out = new ArrayList<>();
    out.add(ROOT.resolve("README.md"));
    try (Stream<Path> s = Files.list(ROOT.resolve("docs"))) {
      s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(out::add);
    }
    return out;
  }

  private static String tag(String xml, String name) {
    Matcher m = Pattern.compile("<" + Pattern.quote(name) + ">\\s*([^<]*?)\\s*</").matcher(xml);
    return m.find() ? m.group(1) : "";
  }

  private static Path root() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("byok-bom"))) {
        return p;
      }
    }
    throw new IllegalStateException("no checkout above " + Path.of("").toAbsolutePath());
  }
}
