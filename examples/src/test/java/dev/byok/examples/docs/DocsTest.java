package dev.byok.examples.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps README.md and docs/*.md honest:
 *
 * <ul>
 *   <li>every {@code ```java} block appears verbatim (common indentation and trailing blanks aside)
 *       between {@code // docs:begin <name>} and {@code // docs:end <name>} in a compiled source
 *       under {@code examples/src}, so it compiles against today's API (and most run);
 *   <li>every marked region is shown by some doc, so no stale copy lingers in the sources;
 *   <li>every relative link resolves to a file, and every {@code #anchor} to a heading;
 *   <li>docs/README.md, the index, links every page in docs/.
 * </ul>
 *
 * The same holds for every {@code <pre>{@code ...}</pre>} sample in the javadoc of the reactor's
 * main sources: with the {@code " * "} prefixes and common indentation stripped it must equal a
 * marked region, and every marked region must be shown by a doc or a javadoc sample.
 *
 * <p>A block that truly cannot compile opts out with {@code <!-- not compiled: <reason> -->} on the
 * line right before its fence (in javadoc, the line right before the sample's {@code <pre>}); the
 * opt-outs are listed on standard output.
 */
class DocsTest {
  private static final Path ROOT = repositoryRoot();
  private static final Path SOURCES = ROOT.resolve("examples/src");

  /**
   * An opening code fence: group 1 the fence, group 2 the language. Backtick fences' info has no
   * backtick.
   */
  private static final Pattern FENCE = Pattern.compile("^\\s*(`{3,}(?=[^`]*$)|~{3,})\\s*(\\S*).*$");

  private static final Pattern OPT_OUT =
      Pattern.compile("^\\s*<!--\\s*not compiled:\\s*(\\S.*?)\\s*-->\\s*$");
  private static final Pattern MARKER = Pattern.compile("^\\s*//\\s*docs\\s*:.*$");
  private static final Pattern VALID_MARKER =
      Pattern.compile("^\\s*// docs:(begin|end) ([A-Za-z0-9._-]+)$");
  private static final Pattern INLINE_LINK =
      Pattern.compile("!?\\[[^\\]]*\\]\\(\\s*<?([^)\\s>]*)>?(?:\\s+\"[^\"]*\")?\\s*\\)");
  private static final Pattern REFERENCE_LINK =
      Pattern.compile("^\\s{0,3}\\[[^\\]]+\\]:\\s*<?(\\S+?)>?(?:\\s+.*)?$");
  private static final Pattern HTML_LINK = Pattern.compile("(?:href|src)=\"([^\"]*)\"");
  private static final Pattern HTML_ANCHOR = Pattern.compile("<a\\s+(?:name|id)=\"([^\"]+)\"");
  private static final Pattern HEADING = Pattern.compile("^ {0,3}(#{1,6})\\s+(.*?)\\s*#*\\s*$");
  private static final Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:.*");
  private static final Pattern MODULE = Pattern.compile("<module>\\s*([^<\\s]+)\\s*</module>");
  private static final Pattern DOC_PREFIX = Pattern.compile("^\\s*\\*");
  private static final Pattern SAMPLE_OPEN =
      Pattern.compile("^\\s*(?:/\\*\\*|\\*).*?<pre>\\s*\\{@code(.*)$");
  private static final Pattern SAMPLE_CLOSE = Pattern.compile("^(.*)}\\s*</pre>.*$");

  /** Escapes that {@code {@code ...}} shows as written instead of turning back into a character. */
  private static final Pattern ESCAPE = Pattern.compile("\\{@literal|&#?[A-Za-z0-9]+;");

  /**
   * A fenced block of a markdown file, or a {@code <pre>{@code ...}</pre>} sample of a Java
   * source's javadoc; {@code line} is the fence's or the {@code <pre>}'s line, 1-based.
   */
  record Block(Path doc, int line, String language, List<String> lines, String optOut) {
    String where() {
      return ROOT.relativize(doc) + ":" + line;
    }

    String kind() {
      return doc.toString().endsWith(".java") ? "javadoc <pre>{@code} sample" : "```java block";
    }

    String firstLine() {
      return lines.stream()
          .filter(l -> !l.isBlank())
          .findFirst()
          .map(String::strip)
          .orElse("(empty)");
    }
  }

  /** A region between {@code // docs:begin name} and {@code // docs:end name}. */
  record Region(String name, Path source, int line, List<String> lines) {
    String where() {
      return ROOT.relativize(source) + ":" + line;
    }
  }

  @Test
  void everyJavaBlockIsCompiledSource() {
    List<Block> blocks = javaBlocks();
    assertThat(blocks).as("```java blocks in README.md and docs/").isNotEmpty();
    assertThat(notCompiled(blocks))
        .as(
            "```java blocks that no compiled source holds. To fix one, copy it"
                + " verbatim into a source file under examples/src (main or test) between '// docs:begin <name>' and"
        + " '// docs:end <name>' and make it compile against the real API (wrap a fragment in a method that"
                + " declares what it uses); if the API differs, fix the doc to match the compiled version. Only a block"
                + " that truly cannot compile may opt out, with '<!-- not compiled: <reason> -->' on the line right"
                + " before its fence")
        .isEmpty();
  }

  @Test
  void everyJavadocSampleIsCompiledSource() {
    List<String> failures = new ArrayList<>();
    List<Block> samples = javadocSamples(failures);
    assertThat(samples).as("<pre>{@code} samples in the modules' src/main/java").isNotEmpty();
    failures.addAll(notCompiled(samples));
    assertThat(failures)
        .as(
            "javadoc <pre>{@code} samples that no compiled source holds. To fix"
                + " one, copy its lines (without the ' * ' prefix) verbatim into a source file under examples/src"
                + " between '// docs:begin <name>' and '// docs:end <name>', for example in"
                + " dev.byok.examples.docs.JavadocSamplesDocsTest, and make it compile (and, where cheap, run) against"
                + " the real API; if the API differs, fix the javadoc to match the compiled version. Only a sample"
                + " that truly cannot compile may opt out, with ' * <!-- not compiled: <reason> -->' on the line right"
                + " before its '<pre>{@code'; a shell or other non-Java sample belongs in a plain <pre>")
        .isEmpty();
  }

  @Test
  void everyMarkedRegionIsShownInTheDocs() {
    Set<List<String>> shown =
        Stream.concat(javaBlocks().stream(), javadocSamples(new ArrayList<>()).stream())
            .map(b -> normalize(b.lines()))
            .collect(Collectors.toSet());
    List<String> orphans =
        regions().values().stream()
            .filter(r -> !shown.contains(normalize(r.lines())))
            .map(
                r ->
                    "region '"
                        + r.name()
                        + "' at "
                        + r.where()
                        + " matches no ```java block in README.md or"
                        + " docs/ and no javadoc <pre>{@code} sample: copy it into its doc, or if the doc changed on"
                        + " purpose, update the region to match")
            .toList();
    assertThat(orphans).isEmpty();
  }

  @Test
  void relativeLinksResolve() {
    List<String> dead = new ArrayList<>();
    for (Path doc : markdownFiles()) {
      List<String> lines = read(doc);
      List<String> prose = proseLines(lines);
      for (int i = 0; i < prose.size(); i++) {
        for (String target : linkTargets(prose.get(i))) {
          String problem = problem(doc, target);
          if (problem != null) {
            dead.add(ROOT.relativize(doc) + ":" + (i + 1) + ": link '" + target + "': " + problem);
          }
        }
      }
    }
    assertThat(dead).as("dead relative links").isEmpty();
  }

  @Test
  void theDocsIndexLinksEveryPage() {
    Path index = ROOT.resolve("docs/README.md");
    Set<Path> linked = new HashSet<>();
    for (String line : proseLines(read(index))) {
      for (String target : linkTargets(line)) {
        if (!SCHEME.matcher(target).matches()) {
          String path = target.split("#", 2)[0];
          if (!path.isEmpty()) {
            linked.add(index.getParent().resolve(decode(path)).normalize());
          }
        }
      }
    }
    List<String> missing =
        markdownFiles().stream()
            .filter(p -> p.getParent().equals(index.getParent()) && !p.equals(index))
            .filter(p -> !linked.contains(p))
            .map(
                p ->
                    "docs/README.md does not link "
                        + ROOT.relativize(p)
                        + ": add a row with a one-line description")
            .toList();
    assertThat(missing).isEmpty();
  }

  @Test
  void anchorsAndFencesAreReadAsGitHubDoes() {
    assertThat(slug("Timing, and the arithmetic against Elastic Cloud's 30 minutes"))
        .isEqualTo("timing-and-the-arithmetic-against-elastic-clouds-30-minutes");
    assertThat(slug("`KeyStateMonitor` in [dev.byok](x.md) — **states**"))
        .isEqualTo("keystatemonitor-in-devbyok--states");
    assertThat(FENCE.matcher("```java").matches()).isTrue();
    assertThat(FENCE.matcher("  ~~~ sh").matches()).isTrue();
    assertThat(FENCE.matcher("```` ```java ```` in prose").matches()).isFalse();
  }

  @Test
  void javadocSamplesAreReadAsJavadocShowsThem() {
    Path source = ROOT.resolve("byok-core/src/main/java/dev/byok/Example.java");
    List<String> malformed = new ArrayList<>();
    List<Block> samples =
        javadocSamples(
            source,
            List.of(
                "/**",
                " * Prose, then a sample:",
                " *",
                " * <pre>{@code",
                " * @Test void run() {",
                " *",
                " *   use(List.<String>of());",
                " * }",
                " * }</pre>",
                " *",
                " * <!-- not compiled: needs a live KMS -->",
                "  *  <pre> {@code call(kms);",
                "  *   more(); }</pre>",
                " * <pre>",
                " *   A --> B   (not code)",
                " * </pre>",
                " * <pre>{@code",
                " * Set<String> s = ...; // &lt;String&gt; shows as written",
                " * }</pre>",
                " * <pre>{@code",
                " */"),
            malformed);

    assertThat(samples).extracting(Block::line).containsExactly(4, 12, 17);
    assertThat(normalize(samples.get(0).lines()))
        .containsExactly("@Test void run() {", "", "  use(List.<String>of());", "}");
    assertThat(samples.get(0).optOut()).isNull();
    assertThat(normalize(samples.get(1).lines())).containsExactly("call(kms);", "  more();");
    assertThat(samples.get(1).optOut()).isEqualTo("needs a live KMS");
    assertThat(malformed).hasSize(2);
    assertThat(malformed.get(0))
        .startsWith("byok-core/src/main/java/dev/byok/Example.java:18: ")
        .contains("&lt;");
    assertThat(malformed.get(1))
        .startsWith("byok-core/src/main/java/dev/byok/Example.java:20: ")
        .contains("never closed");
  }

  // ------------------------------------------------------------------ doc blocks

  /**
   * @return a failure for each block no marked region holds; lists the opt-outs on standard output
   */
  private static List<String> notCompiled(List<Block> blocks) {
    Map<String, Region> regions = regions();
    List<String> failures = new ArrayList<>();
    for (Block block : blocks) {
      if (block.optOut() != null) {
        System.out.println(
            "DocsTest: not compiled, by opt-out: "
                + block.where()
                + " ("
                + block.firstLine()
                + "): "
                + block.optOut());
        continue;
      }
      List<String> shown = normalize(block.lines());
      if (regions.values().stream().noneMatch(r -> normalize(r.lines()).equals(shown))) {
        failures.add(notCompiled(block, shown, regions.values()));
      }
    }
    return failures;
  }

  /** Names the block and, if some region starts like it, where the two part. */
  private static String notCompiled(Block block, List<String> shown, Iterable<Region> regions) {
    StringBuilder b =
        new StringBuilder()
            .append(block.where())
            .append(": the ")
            .append(block.kind())
            .append(" starting '")
            .append(block.firstLine())
            .append("' is in no docs:begin/docs:end region of examples/src");
    Region closest = null;
    int closestMatching = 0;
    for (Region r : regions) {
      int same = commonPrefix(normalize(r.lines()), shown);
      if (same > closestMatching) {
        closest = r;
        closestMatching = same;
      }
    }
    if (closest != null) {
      List<String> compiled = normalize(closest.lines());
      b.append("\n    Closest: region '")
          .append(closest.name())
          .append("' at ")
          .append(closest.where())
          .append(", which differs at block line ")
          .append(closestMatching + 1)
          .append(":\n      doc:    ")
          .append(closestMatching < shown.size() ? shown.get(closestMatching) : "(block ends)")
          .append("\n      source: ")
          .append(
              closestMatching < compiled.size() ? compiled.get(closestMatching) : "(region ends)");
    }
    return b.toString();
  }

  private static int commonPrefix(List<String> a, List<String> b) {
    int n = 0;
    while (n < a.size() && n < b.size() && a.get(n).equals(b.get(n))) {
      n++;
    }
    return n;
  }

  private static List<Block> javaBlocks() {
    return markdownFiles().stream()
        .flatMap(doc -> fencedBlocks(doc).stream())
        .filter(b -> b.language().equalsIgnoreCase("java"))
        .toList();
  }

  static List<Block> fencedBlocks(Path doc) {
    List<String> lines = read(doc);
    List<Block> blocks = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      Matcher open = FENCE.matcher(lines.get(i));
      if (!open.matches()) {
        continue;
      }
      String fence = open.group(1);
      int start = i;
      List<String> body = new ArrayList<>();
      for (i++; i < lines.size() && !closes(lines.get(i), fence); i++) {
        body.add(lines.get(i));
      }
      Matcher optOut = start > 0 ? OPT_OUT.matcher(lines.get(start - 1)) : null;
      blocks.add(
          new Block(
              doc,
              start + 1,
              open.group(2),
              body,
              optOut != null && optOut.matches() ? optOut.group(1) : null));
    }
    return blocks;
  }

  private static boolean closes(String line, String fence) {
    String s = line.strip();
    return s.length() >= fence.length() && s.chars().allMatch(c -> c == fence.charAt(0));
  }

  /** Trailing whitespace and leading/trailing blank lines dropped, common indentation stripped. */
  static List<String> normalize(List<String> lines) {
    List<String> trimmed =
        lines.stream().map(String::stripTrailing).collect(Collectors.toCollection(ArrayList::new));
    while (!trimmed.isEmpty() && trimmed.get(0).isEmpty()) {
      trimmed.remove(0);
    }
    while (!trimmed.isEmpty() && trimmed.get(trimmed.size() - 1).isEmpty()) {
      trimmed.remove(trimmed.size() - 1);
    }
    int indent =
        trimmed.stream()
            .filter(l -> !l.isEmpty())
            .mapToInt(l -> l.length() - l.stripLeading().length())
            .min()
            .orElse(0);
    return trimmed.stream().map(l -> l.isEmpty() ? l : l.substring(indent)).toList();
  }

  // ------------------------------------------------------------------ javadoc samples

  /** The {@code <pre>{@code ...}</pre>} samples in the javadoc of every module's main sources. */
  private static List<Block> javadocSamples(List<String> malformed) {
    List<Block> samples = new ArrayList<>();
    for (Path source : mainSources()) {
      samples.addAll(javadocSamples(source, read(source), malformed));
    }
    return samples;
  }

  /**
   * The {@code <pre>{@code ...}</pre>} samples of one source, each line as javadoc shows it: up to
   * the first {@code *} dropped. Inside {@code {@code}} javadoc shows {@code {@literal @}} and
   * entities such as {@code &lt;} as written (and needs no escape, not even for a leading
   * {@code @}), so a sample that holds them is reported in {@code malformed} rather than unescaped.
   */
  static List<Block> javadocSamples(Path source, List<String> lines, List<String> malformed) {
    List<Block> samples = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      Matcher open = SAMPLE_OPEN.matcher(lines.get(i));
      if (!open.matches()) {
        continue;
      }
      int start = i;
      String at = ROOT.relativize(source) + ":" + (start + 1);
      List<String> body = new ArrayList<>();
      String rest = open.group(1);
      for (; ; ) {
        Matcher close = SAMPLE_CLOSE.matcher(rest);
        if (close.matches()) {
          rest = close.group(1);
        }
        if (!rest.isBlank() || !body.isEmpty() || i > start) {
          body.add(rest);
        }
        if (close.matches()) {
          break;
        }
        if (++i == lines.size()
            || lines.get(i).contains("*/") && !SAMPLE_CLOSE.matcher(lines.get(i)).matches()) {
          malformed.add(at + ": '<pre>{@code' is never closed by '}</pre>' within its comment");
          body = null;
          break;
        }
        rest = DOC_PREFIX.matcher(lines.get(i)).replaceFirst("");
      }
      if (body == null) {
        continue;
      }
      for (int j = 0; j < body.size(); j++) {
        Matcher escape = ESCAPE.matcher(body.get(j));
        if (escape.find()) {
          malformed.add(
              ROOT.relativize(source)
                  + ":"
                  + (start + 1 + j + (open.group(1).isBlank() ? 1 : 0))
                  + ": javadoc shows '"
                  + escape.group()
                  + "' as written inside {@code ...}: write the character"
                  + " itself ({@code} needs only balanced braces)");
        }
      }
      Matcher optOut =
          start > 0
              ? OPT_OUT.matcher(DOC_PREFIX.matcher(lines.get(start - 1)).replaceFirst(""))
              : null;
      samples.add(
          new Block(
              source,
              start + 1,
              "java",
              body,
              optOut != null && optOut.matches() ? optOut.group(1) : null));
    }
    return samples;
  }

  /** The Java files under src/main/java of every module the reactor's pom.xml lists. */
  private static List<Path> mainSources() {
    Matcher modules = MODULE.matcher(String.join("\n", read(ROOT.resolve("pom.xml"))));
    List<Path> sources = new ArrayList<>();
    while (modules.find()) {
      Path main = ROOT.resolve(modules.group(1)).resolve("src/main/java");
      if (Files.isDirectory(main)) {
        try (Stream<Path> files = Files.walk(main)) {
          files.filter(p -> p.toString().endsWith(".java")).sorted().forEach(sources::add);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    assertThat(sources).as("main sources of the modules in pom.xml").isNotEmpty();
    return sources;
  }

  // ------------------------------------------------------------------ marked regions

  private static Map<String, Region> regions() {
    Map<String, Region> done = new LinkedHashMap<>();
    List<String> errors = new ArrayList<>();
    for (Path source : javaSources()) {
      Map<String, Region> open = new LinkedHashMap<>();
      List<String> lines = read(source);
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i);
        if (!MARKER.matcher(line).matches()) {
          open.values().forEach(r -> r.lines().add(line));
          continue;
        }
        String at = ROOT.relativize(source) + ":" + (i + 1);
        Matcher m = VALID_MARKER.matcher(line.stripTrailing());
        if (!m.matches()) {
          errors.add(
              at
                  + ": malformed marker '"
                  + line.strip()
                  + "'; write '// docs:begin <name>' or '// docs:end <name>'");
        } else if (m.group(1).equals("begin")) {
          Region previous =
              done.containsKey(m.group(2)) ? done.get(m.group(2)) : open.get(m.group(2));
          if (previous != null) {
            errors.add(
                at + ": region '" + m.group(2) + "' is already defined at " + previous.where());
          } else {
            open.put(m.group(2), new Region(m.group(2), source, i + 1, new ArrayList<>()));
          }
        } else if (open.containsKey(m.group(2))) {
          done.put(m.group(2), open.remove(m.group(2)));
        } else {
          errors.add(at + ": '// docs:end " + m.group(2) + "' without its begin marker");
        }
      }
      open.values()
          .forEach(r -> errors.add(r.where() + ": region '" + r.name() + "' is never ended"));
    }
    assertThat(errors).as("docs markers in examples/src").isEmpty();
    return done;
  }

  private static List<Path> javaSources() {
    try (Stream<Path> files = Files.walk(SOURCES)) {
      return files
          .filter(p -> p.toString().endsWith(".java") && p.toString().contains("/java/"))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ------------------------------------------------------------------ links

  /** The lines outside fenced code blocks, with inline code spans blanked; others become empty. */
  private static List<String> proseLines(List<String> lines) {
    List<String> prose = new ArrayList<>();
    String fence = null;
    for (String line : lines) {
      Matcher m = FENCE.matcher(line);
      if (fence == null && m.matches()) {
        fence = m.group(1);
        prose.add("");
      } else if (fence != null) {
        if (closes(line, fence)) {
          fence = null;
        }
        prose.add("");
      } else {
        prose.add(line.replaceAll("`[^`]*`", "``"));
      }
    }
    return prose;
  }

  private static List<String> linkTargets(String line) {
    List<String> targets = new ArrayList<>();
    for (Pattern p : List.of(INLINE_LINK, REFERENCE_LINK, HTML_LINK)) {
      Matcher m = p.matcher(line);
      while (m.find()) {
        targets.add(m.group(1));
      }
    }
    return targets;
  }

  /**
   * @return why a link from {@code doc} is dead, or {@code null} if it resolves
   */
  private static String problem(Path doc, String target) {
    if (target.isEmpty()) {
      return "empty target";
    }
    if (SCHEME.matcher(target).matches() || target.startsWith("//")) {
      return null; // absolute URL: not checked here
    }
    String[] parts = target.split("#", 2);
    Path file = parts[0].isEmpty() ? doc : doc.getParent().resolve(decode(parts[0])).normalize();
    if (!file.startsWith(ROOT)) {
      return "points outside the repository";
    }
    if (!Files.exists(file)) {
      return ROOT.relativize(file) + " does not exist";
    }
    if (parts.length == 2 && file.toString().endsWith(".md") && !anchors(file).contains(parts[1])) {
      return "no heading in "
          + ROOT.relativize(file)
          + " has the anchor #"
          + parts[1]
          + " (have "
          + new TreeSet<>(anchors(file))
          + ")";
    }
    return null;
  }

  /**
   * GitHub's heading anchors (with -1, -2 for repeats) and explicit {@code <a name|id>} anchors.
   */
  static Set<String> anchors(Path markdown) {
    Set<String> anchors = new HashSet<>();
    Map<String, Integer> seen = new HashMap<>();
    String fence = null;
    for (String line : read(markdown)) {
      Matcher f = FENCE.matcher(line);
      if (fence == null && f.matches()) {
        fence = f.group(1);
        continue;
      }
      if (fence != null) {
        if (closes(line, fence)) {
          fence = null;
        }
        continue;
      }
      Matcher a = HTML_ANCHOR.matcher(line);
      while (a.find()) {
        anchors.add(a.group(1));
      }
      Matcher h = HEADING.matcher(line);
      if (h.matches()) {
        String slug = slug(h.group(2));
        int n = seen.merge(slug, 1, Integer::sum) - 1;
        anchors.add(n == 0 ? slug : slug + "-" + n);
      }
    }
    return anchors;
  }

  /** GitHub's slug: the rendered text, lower case, punctuation dropped, spaces to hyphens. */
  static String slug(String heading) {
    String text =
        heading
            .replaceAll("!?\\[([^\\]]*)\\]\\([^)]*\\)", "$1") // links: their text
            .replaceAll("<[^>]+>", "") // inline HTML
            .replaceAll("[`*~]", "");
    return text.toLowerCase(Locale.ROOT)
        .replaceAll("[^\\p{L}\\p{N}\\p{Mn}\\p{Pc} -]", "")
        .replace(' ', '-');
  }

  private static String decode(String path) {
    return URLDecoder.decode(path.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  // ------------------------------------------------------------------ files

  /** README.md and every markdown file under docs/. */
  private static List<Path> markdownFiles() {
    List<Path> files = new ArrayList<>();
    files.add(ROOT.resolve("README.md"));
    try (Stream<Path> docs = Files.walk(ROOT.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return files;
  }

  private static List<String> read(Path file) {
    try {
      return Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The checkout: the nearest directory up from the working directory with README.md and docs/. */
  private static Path repositoryRoot() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("README.md"))
          && Files.isDirectory(p.resolve("docs"))
          && Files.isDirectory(p.resolve("examples/src"))) {
        return p;
      }
    }
    throw new IllegalStateException(
        "no checkout with README.md, docs/ and examples/src above " + Path.of("").toAbsolutePath());
  }
}
