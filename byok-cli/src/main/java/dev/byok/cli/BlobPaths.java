package dev.byok.cli;

import dev.byok.Byok;
import dev.byok.EnvelopeHeader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.jspecify.annotations.NullMarked;

/** Expands files and directories given on the command line. Stateless. */
@NullMarked
final class BlobPaths {
  /** Suffix of byok's temporary files (an interrupted atomic write); never inputs. */
  static final String TEMP_SUFFIX = ".byok-tmp";

  /**
   * A regular file to process, and where it sits relative to the argument it came from.
   *
   * @param file the file
   * @param relative its path below the directory argument, or its file name for a file argument
   */
  record Entry(Path file, Path relative) {}

  private BlobPaths() {}

  /**
   * @param blob a blob file
   * @return its header, read without any KMS call (nothing authenticated)
   * @throws dev.byok.InvalidCiphertextException if the file does not start with a valid header
   */
  static EnvelopeHeader header(Path blob) throws IOException {
    try (InputStream in = Files.newInputStream(blob)) {
      return Byok.inspect(in);
    }
  }

  /**
   * @param args files and directories (directories are walked recursively, in sorted order)
   * @return every regular file, skipping byok temporary files
   * @throws NoSuchFileException if an argument does not exist
   */
  static List<Entry> expand(List<Path> args) throws IOException {
    List<Entry> out = new ArrayList<>();
    for (Path a : args) {
      if (!Files.exists(a)) {
        throw new NoSuchFileException(a.toString());
      }
      if (Files.isDirectory(a)) {
        try (Stream<Path> s = Files.walk(a)) {
          s.filter(Files::isRegularFile)
              .filter(p -> !p.getFileName().toString().endsWith(TEMP_SUFFIX))
              .sorted()
              .forEach(p -> out.add(new Entry(p, a.relativize(p))));
        }
      } else {
        out.add(new Entry(a, a.getFileName()));
      }
    }
    return out;
  }
}
