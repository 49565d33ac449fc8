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
 *   <li>every {@code ```java} block appears verbatim (common indentation and trailing blanks
 *       aside) between {@code // docs:begin <name>} and {@code // docs:end <name>} in a compiled
 *       source under {@code examples/src}, so it compiles against today's API (and most run);
 *   <li>every marked region is shown by some doc, so no stale copy lingers in the sources;
 *   <li>every relative link resolves to a file, and every {@code #anchor} to a heading;
 *   <li>docs/README.md, the index, links every page in docs/.
 * </ul>
 *
 * A block that truly cannot compile opts out with {@code <!-- not compiled: <reason> -->} on the
 * line right before its fence; the opt-outs are listed on standard output.
 */
class DocsTest {
  private static final Path ROOT = repositoryRoot();
  private static final Path SOURCES = ROOT.resolve("examples/src");

  /** An opening code fence: group 1 the fence, group 2 the language. Backtick fences' info has no backtick. */
  private static final Pattern FENCE = Pattern.compile("^\\s*(`{3,}(?=[^`]*$)|~{3,})\\s*(\\S*).*$");
  private static final Pattern OPT_OUT = Pattern.compile("^\\s*<!--\\s*not compiled:\\s*(\\S.*?)\\s*-->\\s*$");
  private static final Pattern MARKER = Pattern.compile("^\\s*//\\s*docs\\s*:.*$");
  private static final Pattern VALID_MARKER = Pattern.compile("^\\s*// docs:(begin|end) ([A-Za-z0-9._-]+)$");
  private static final Pattern INLINE_LINK =
      Pattern.compile("!?\\[[^\\]]*\\]\\(\\s*<?([^)\\s>]*)>?(?:\\s+\"[^\"]*\")?\\s*\\)");
  private static final Pattern REFERENCE_LINK = Pattern.compile("^\\s{0,3}\\[[^\\]]+\\]:\\s*<?(\\S+?)>?(?:\\s+.*)?$");
  private static final Pattern HTML_LINK = Pattern.compile("(?:href|src)=\"([^\"]*)\"");
  private static final Pattern HTML_ANCHOR = Pattern.compile("<a\\s+(?:name|id)=\"([^\"]+)\"");
  private static final Pattern HEADING = Pattern.compile("^ {0,3}(#{1,6})\\s+(.*?)\\s*#*\\s*$");
  private static final Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:.*");

  /** A fenced block of a markdown file; {@code line} is the fence's line, 1-based. */
  record Block(Path doc, int line, String language, List<String> lines, String optOut) {
    String where() {
      return ROOT.relativize(doc) + ":" + line;
    }

    String firstLine() {
      return lines.stream().filter(l -> !l.isBlank()).findFirst().map(String::strip).orElse("(empty)");
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
    Map<String, Region> regions = regions();
    assertThat(blocks).as("```java blocks in README.md and docs/").isNotEmpty();

    List<String> failures = new ArrayList<>();
    List<String> optOuts = new ArrayList<>();
    for (Block block : blocks) {
      if (block.optOut() != null) {
        optOuts.add(block.where() + " (" + block.firstLine() + "): " + block.optOut());
        continue;
      }
      List<String> shown = normalize(block.lines());
      if (regions.values().stream().noneMatch(r -> normalize(r.lines()).equals(shown))) {
        failures.add(notCompiled(block, shown, regions.values()));
      }
    }
    optOuts.forEach(o -> System.out.println("DocsTest: not compiled, by opt-out: " + o));
    assertThat(failures).as("```java blocks that no compiled source holds. To fix one, copy it verbatim into a"
        + " source file under examples/src (main or test) between '// docs:begin <name>' and '// docs:end <name>'"
        + " and make it compile against the real API (wrap a fragment in a method that declares what it uses);"
        + " if the API differs, fix the doc to match the compiled version. Only a block that truly cannot"
        + " compile may opt out, with '<!-- not compiled: <reason> -->' on the line right before its fence")
        .isEmpty();
  }

  @Test
  void everyMarkedRegionIsShownInTheDocs() {
    Set<List<String>> shown = javaBlocks().stream().map(b -> normalize(b.lines())).collect(Collectors.toSet());
    List<String> orphans = regions().values().stream()
        .filter(r -> !shown.contains(normalize(r.lines())))
        .map(r -> "region '" + r.name() + "' at " + r.where() + " matches no ```java block in README.md or"
            + " docs/: copy it into its doc, or if the doc changed on purpose, update the region to match")
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
    List<String> missing = markdownFiles().stream()
        .filter(p -> p.getParent().equals(index.getParent()) && !p.equals(index))
        .filter(p -> !linked.contains(p))
        .map(p -> "docs/README.md does not link " + ROOT.relativize(p) + ": add a row with a one-line description")
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

  // ------------------------------------------------------------------ doc blocks

  /** Names the block and, if some region starts like it, where the two part. */
  private static String notCompiled(Block block, List<String> shown, Iterable<Region> regions) {
    StringBuilder b = new StringBuilder()
        .append(block.where()).append(": the ```java block starting '").append(block.firstLine())
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
      b.append("\n    Closest: region '").append(closest.name()).append("' at ").append(closest.where())
          .append(", which differs at block line ").append(closestMatching + 1).append(":\n      doc:    ")
          .append(closestMatching < shown.size() ? shown.get(closestMatching) : "(block ends)")
          .append("\n      source: ")
          .append(closestMatching < compiled.size() ? compiled.get(closestMatching) : "(region ends)");
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
      blocks.add(new Block(doc, start + 1, open.group(2), body,
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
    List<String> trimmed = lines.stream().map(String::stripTrailing).collect(Collectors.toCollection(ArrayList::new));
    while (!trimmed.isEmpty() && trimmed.get(0).isEmpty()) {
      trimmed.remove(0);
    }
    while (!trimmed.isEmpty() && trimmed.get(trimmed.size() - 1).isEmpty()) {
      trimmed.remove(trimmed.size() - 1);
    }
    int indent = trimmed.stream().filter(l -> !l.isEmpty())
        .mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
    return trimmed.stream().map(l -> l.isEmpty() ? l : l.substring(indent)).toList();
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
          errors.add(at + ": malformed marker '" + line.strip()
              + "'; write '// docs:begin <name>' or '// docs:end <name>'");
        } else if (m.group(1).equals("begin")) {
          Region previous = done.containsKey(m.group(2)) ? done.get(m.group(2)) : open.get(m.group(2));
          if (previous != null) {
            errors.add(at + ": region '" + m.group(2) + "' is already defined at " + previous.where());
          } else {
            open.put(m.group(2), new Region(m.group(2), source, i + 1, new ArrayList<>()));
          }
        } else if (open.containsKey(m.group(2))) {
          done.put(m.group(2), open.remove(m.group(2)));
        } else {
          errors.add(at + ": '// docs:end " + m.group(2) + "' without its begin marker");
        }
      }
      open.values().forEach(r -> errors.add(r.where() + ": region '" + r.name() + "' is never ended"));
    }
    assertThat(errors).as("docs markers in examples/src").isEmpty();
    return done;
  }

  private static List<Path> javaSources() {
    try (Stream<Path> files = Files.walk(SOURCES)) {
      return files.filter(p -> p.toString().endsWith(".java") && p.toString().contains("/java/")).sorted().toList();
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

  /** @return why a link from {@code doc} is dead, or {@code null} if it resolves */
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
      return "no heading in " + ROOT.relativize(file) + " has the anchor #" + parts[1] + " (have "
          + new TreeSet<>(anchors(file)) + ")";
    }
    return null;
  }

  /** GitHub's heading anchors (with -1, -2 for repeats) and explicit {@code <a name|id>} anchors. */
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
    String text = heading
        .replaceAll("!?\\[([^\\]]*)\\]\\([^)]*\\)", "$1") // links: their text
        .replaceAll("<[^>]+>", "")                         // inline HTML
        .replaceAll("[`*~]", "");
    return text.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}\\p{Mn}\\p{Pc} -]", "").replace(' ', '-');
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
      if (Files.isRegularFile(p.resolve("README.md")) && Files.isDirectory(p.resolve("docs"))
          && Files.isDirectory(p.resolve("examples/src"))) {
        return p;
      }
    }
    throw new IllegalStateException(
        "no checkout with README.md, docs/ and examples/src above " + Path.of("").toAbsolutePath());
  }
}
