package dev.byok.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.byok.Byok;
import dev.byok.EnvelopeHeader;
import dev.byok.Escaping;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeySlot;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.jspecify.annotations.NullMarked;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code byok inspect}: prints blob headers — format, suite, segment size, data-key id, encryption
 * context, key slots with their key ARNs, sizes — without any KMS call and without authenticating
 * anything (that is {@code byok verify}). {@code --json} for scripts: an object for one blob, an
 * array for several.
 */
@NullMarked
@Command(
    name = "inspect",
    sortOptions = false,
    description = {
      "Print blob headers (format, segment size, data-key id, context, key slots and their key ARNs, sizes).",
      "No KMS call, no credentials; nothing is authenticated (use byok verify for that)."
    })
final class InspectCommand extends CliCommand {
  private static final String SUITE_1 = "AES-256-GCM-HKDF-SHA256 streaming, key-committing";

  @Option(names = "--json", description = "JSON output: an object per blob (an array for several)")
  boolean json;

  @Parameters(
      paramLabel = "FILE",
      arity = "0..*",
      description = "blobs or directories; '-' or none = stdin")
  List<Path> files = new ArrayList<>();

  @Override
  public Integer call() throws IOException {
    CliIo io = io();
    List<JsonObject> blobs = new ArrayList<>();
    if (Streams.isStdin(files)) {
      blobs.add(describe("-", Byok.inspect(Streams.stdin(io)), -1));
    } else {
      for (BlobPaths.Entry e : BlobPaths.expand(files)) {
        EnvelopeHeader h;
        try {
          h = BlobPaths.header(e.file());
        } catch (InvalidCiphertextException ex) {
          throw new CliException(
              Failures.exitCode(ex),
              Escaping.forDisplay(e.file().toString()) + ": " + Failures.describe(ex),
              ex);
        }
        blobs.add(describe(e.file().toString(), h, Files.size(e.file())));
      }
    }
    if (json) {
      JsonElement doc = blobs.size() == 1 ? blobs.get(0) : array(blobs);
      io.out()
          .println(
              displaySafe(
                  new GsonBuilder()
                      .setPrettyPrinting()
                      .disableHtmlEscaping()
                      .create()
                      .toJson(doc)));
    } else {
      blobs.forEach(b -> print(b, io.out()));
    }
    return ExitCodes.OK;
  }

  /**
   * Gson escapes only C0 controls, quotes, backslash and U+2028/9 in strings; this escapes every
   * other character {@link Escaping#forDisplay} would (DEL, C1 controls such as U+009B, bidi
   * overrides, zero-width characters) as a JSON backslash-u escape, which a JSON parser reads back
   * as the same character. The pretty printer's line breaks are structural and stay.
   */
  static String displaySafe(String json) {
    return json.lines().map(Escaping::forDisplay).collect(Collectors.joining("\n"));
  }

  private static JsonArray array(List<JsonObject> blobs) {
    JsonArray a = new JsonArray();
    blobs.forEach(a::add);
    return a;
  }

  private static JsonObject describe(String file, EnvelopeHeader h, long size) {
    JsonObject o = new JsonObject();
    o.addProperty("file", file);
    o.addProperty("formatVersion", h.formatVersion());
    o.addProperty("suiteId", h.suiteId());
    o.addProperty("suite", h.suiteId() == 1 ? SUITE_1 : "unknown");
    o.addProperty("segmentSize", h.segmentSize());
    o.addProperty("dataKeyId", h.dekIdHex());
    JsonObject ctx = new JsonObject();
    h.encryptionContext().asMap().forEach(ctx::addProperty);
    o.add("encryptionContext", ctx);
    JsonArray slots = new JsonArray();
    for (KeySlot s : h.keySlots()) {
      JsonObject so = new JsonObject();
      so.addProperty("provider", s.providerId());
      so.addProperty("keyArn", s.keyArn());
      so.addProperty("wrappedKeyBytes", s.wrappedKeyLength());
      slots.add(so);
    }
    o.add("keySlots", slots);
    o.addProperty("headerBytes", h.length());
    if (size >= 0) {
      o.addProperty("ciphertextBytes", size);
      try {
        o.addProperty("plaintextBytes", h.plaintextLength(size));
        long region = size - h.payloadOffset();
        o.addProperty("segments", (region + h.segmentSize() - 1) / h.segmentSize());
      } catch (InvalidCiphertextException e) {
        o.addProperty("problem", "truncated or extended: " + Failures.message(e));
      }
    }
    return o;
  }

  private static void print(JsonObject b, PrintStream out) {
    out.println(Escaping.forDisplay(b.get("file").getAsString()));
    out.printf(
        "  format         byok v%d, suite %d (%s)%n",
        b.get("formatVersion").getAsInt(),
        b.get("suiteId").getAsInt(),
        b.get("suite").getAsString());
    out.printf("  segment size   %d bytes%n", b.get("segmentSize").getAsLong());
    out.printf("  data key id    %s%n", b.get("dataKeyId").getAsString());
    JsonObject ctx = b.getAsJsonObject("encryptionContext");
    List<String> pairs = new ArrayList<>();
    for (Map.Entry<String, JsonElement> e : ctx.entrySet()) {
      pairs.add(
          Escaping.forDisplay(e.getKey()) + "=" + Escaping.forDisplay(e.getValue().getAsString()));
    }
    out.printf("  context        %s%n", pairs.isEmpty() ? "(none)" : String.join(", ", pairs));
    JsonArray slots = b.getAsJsonArray("keySlots");
    out.printf("  key slots      %d%n", slots.size());
    for (int i = 0; i < slots.size(); i++) {
      JsonObject s = slots.get(i).getAsJsonObject();
      out.printf(
          "    [%d] %s://%s (wrapped data key, %d bytes)%n",
          i,
          Escaping.forDisplay(s.get("provider").getAsString()),
          Escaping.forDisplay(s.get("keyArn").getAsString()),
          s.get("wrappedKeyBytes").getAsInt());
    }
    out.printf("  header         %d bytes%n", b.get("headerBytes").getAsInt());
    if (b.has("ciphertextBytes")) {
      if (b.has("plaintextBytes")) {
        out.printf(
            "  size           %d bytes ciphertext, %d bytes plaintext, %d segments%n",
            b.get("ciphertextBytes").getAsLong(),
            b.get("plaintextBytes").getAsLong(),
            b.get("segments").getAsLong());
      } else {
        out.printf(
            "  size           %d bytes ciphertext: %s%n",
            b.get("ciphertextBytes").getAsLong(),
            Escaping.forDisplay(b.get("problem").getAsString()));
      }
    }
    out.println("  (header only: nothing authenticated; byok verify checks the whole blob)");
  }
}
