package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.crypto.tink.subtle.AesGcmHkdfStreaming;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Reader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The golden corpus of format v1 ({@code src/test/resources/golden/v1}): blobs written once and
 * committed with their plaintexts and the data keys that open them. Every build decrypts every one
 * on every read path and, for the payload, with stock Tink. The corpus may only grow
 * (docs/format.md section 7): {@link #FROZEN} names every blob that must stay.
 *
 * <p>To add blobs, extend {@link #write} and run it once: {@code mvn -pl byok-core test
 * -Dtest=GoldenCorpusTest#write -Dbyok.golden.write=$PWD/byok-core/src/test/resources/golden/v1}.
 * It writes only blobs that do not exist yet.
 */
class GoldenCorpusTest {
  static final String DIR = "/golden/v1";
  static final HexFormat HEX = HexFormat.of();

  /** Every blob of the corpus. Entries are never removed or changed; new ones are appended. */
  static final List<String> FROZEN =
      List.of(
          "empty-4k",
          "one-byte-4k",
          "exact-segment-4k",
          "exact-two-segments-4k",
          "segments-and-partial-4k",
          "default-64k",
          "one-mib-segments",
          "max-8mib-segments-maximal-header",
          "empty-context",
          "unicode-context",
          "per-blob-associated-data",
          "rewrapped");

  @TempDir static Path tmp;

  @BeforeAll
  static void files() {
    ReadPaths.fileDir = tmp;
  }

  record Golden(
      String name,
      byte[] blob,
      byte[] plaintext,
      DataKey key,
      byte[] associatedData,
      Properties facts) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Path dir() {
    try {
      return Path.of(GoldenCorpusTest.class.getResource(DIR).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Golden load(String name) throws IOException {
    Path d = dir();
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(d.resolve(name + ".properties"))) {
      p.load(r);
    }
    DataKey key =
        DataKey.of(HEX.parseHex(p.getProperty("dekId")), HEX.parseHex(p.getProperty("dek")));
    return new Golden(
        name,
        Files.readAllBytes(d.resolve(name + ".byok")),
        Files.readAllBytes(d.resolve(name + ".plain")),
        key,
        HEX.parseHex(p.getProperty("associatedData", "")),
        p);
  }

  static Stream<Golden> corpus() throws IOException {
    List<Golden> all = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir())) {
      for (Path f : (Iterable<Path>) files.sorted()::iterator) {
        String n = f.getFileName().toString();
        if (n.endsWith(".properties")) {
          all.add(load(n.substring(0, n.length() - ".properties".length())));
        }
      }
    }
    return all.stream();
  }

  @Test
  void theCorpusOnlyGrows() throws IOException {
    List<String> present = corpus().map(Golden::name).toList();
    assertThat(present).containsAll(FROZEN);
    long bytes;
    try (Stream<Path> files = Files.list(dir())) {
      bytes = files.mapToLong(f -> f.toFile().length()).sum();
    }
    assertThat(bytes).as("corpus size").isLessThan(1024 * 1024);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void everyBlobDecryptsOnEveryPath(Golden g) {
    String expected = "OK " + ReadPaths.sha256(g.plaintext());
    assertThat(expected.substring(3)).isEqualTo(g.facts().getProperty("plaintextSha256"));
    for (ReadPaths path : ReadPaths.values()) {
      assertThat(path.outcome(g.key(), g.blob(), null, g.associatedData()))
          .as("%s on %s", g.name(), path)
          .isEqualTo(expected);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void everyHeaderHasItsRecordedFacts(Golden g) {
    EnvelopeHeader h = EnvelopeHeader.parse(g.blob());
    Properties f = g.facts();
    assertThat(h.segmentSize()).isEqualTo(Integer.parseInt(f.getProperty("segmentSize")));
    assertThat(h.dekIdHex()).isEqualTo(f.getProperty("dekId"));
    assertThat(HEX.formatHex(h.encryptionContext().toCanonicalBytes()))
        .isEqualTo(f.getProperty("context"));
    assertThat(h.keySlots().stream().map(s -> s.providerId() + " " + s.keyArn()).toList())
        .containsExactlyElementsOf(List.of(f.getProperty("slots").split(";")));
    assertThat(h.plaintextLength(g.blob().length)).isEqualTo(g.plaintext().length);
    assertThat(h.matchesKey(g.key())).isTrue();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void everyPayloadDecryptsWithStockTink(Golden g) throws Exception {
    EnvelopeHeader h = EnvelopeHeader.parse(g.blob());
    AesGcmHkdfStreaming tink =
        new AesGcmHkdfStreaming(g.key().copyKeyMaterial(), "HmacSha256", 32, h.segmentSize(), 0);
    byte[] payload = Arrays.copyOfRange(g.blob(), h.payloadOffset(), g.blob().length);
    try (InputStream in =
        tink.newDecryptingStream(
            new ByteArrayInputStream(payload), h.payloadAssociatedData(g.associatedData()))) {
      assertThat(in.readAllBytes()).isEqualTo(g.plaintext());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void aFlippedPayloadByteOfEveryBlobIsRejectedTheSameWayEverywhere(Golden g) {
    byte[] bad = g.blob().clone();
    bad[bad.length - 1] ^= 1;
    for (ReadPaths path : ReadPaths.values()) {
      assertThat(path.outcome(g.key(), bad, null, g.associatedData()))
          .as("%s on %s", g.name(), path)
          .isEqualTo("AUTHENTICATION_FAILED");
    }
  }

  // ------------------------------------------------------------------ the generator

  /** Writes the blobs of {@link #FROZEN} that do not exist yet into {@code byok.golden.write}. */
  @Test
  @EnabledIfSystemProperty(named = "byok.golden.write", matches = ".+")
  void write() throws IOException {
    Path out = Path.of(System.getProperty("byok.golden.write"));
    Files.createDirectories(out);
    EncryptionContext ctx = EncryptionContext.of("repository", "snapshots", "tenant", "t-1");
    List<KeySlot> one =
        List.of(KeySlot.of("aws-kms", "arn:aws:kms:eu-west-1:111122223333:key/1", w(1)));
    int first4k = 4096 - 56;
    int later4k = 4096 - 16;
    gen(out, "empty-4k", 4096, ctx, one, 0, new byte[0], null);
    gen(out, "one-byte-4k", 4096, ctx, one, 1, new byte[0], null);
    gen(out, "exact-segment-4k", 4096, ctx, one, first4k, new byte[0], null);
    gen(out, "exact-two-segments-4k", 4096, ctx, one, first4k + later4k, new byte[0], null);
    gen(
        out,
        "segments-and-partial-4k",
        4096,
        ctx,
        one,
        first4k + 2 * later4k + 123,
        new byte[0],
        null);
    gen(out, "default-64k", 65536, ctx, one, 65536 - 56 + 1000, new byte[0], null);
    gen(out, "one-mib-segments", 1 << 20, ctx, one, 100, new byte[0], null);
    List<KeySlot> sixteen = new ArrayList<>();
    String[] providers = {"aws-kms", "fake-kms", "gcp-kms", "vault.transit_1"};
    for (int i = 0; i < EnvelopeFormat.MAX_KEY_SLOTS; i++) {
      String p = providers[i % providers.length];
      String arn = String.format("arn:%02d:", i) + "k".repeat(KeySlot.MAX_KEY_ARN_BYTES - 7);
      byte[] wrapped = new byte[KeySlot.MAX_WRAPPED_KEY_BYTES];
      Arrays.fill(wrapped, (byte) i);
      sixteen.add(KeySlot.of(p, arn, wrapped));
    }
    Map<String, String> max = new LinkedHashMap<>();
    for (int i = 0; i < 3; i++) {
      max.put(String.format("%04d", i) + "k".repeat(1020), "v".repeat(1024));
    }
    max.put("z" + "k".repeat(1009), "w".repeat(1020));
    gen(
        out,
        "max-8mib-segments-maximal-header",
        EnvelopeFormat.MAX_SEGMENT_SIZE,
        EncryptionContext.of(max),
        sixteen,
        1,
        "repo/indices/0/__max".getBytes(StandardCharsets.UTF_8),
        null);
    gen(out, "empty-context", 4096, EncryptionContext.empty(), one, 10, new byte[0], null);
    gen(
        out,
        "unicode-context",
        4096,
        EncryptionContext.of("é", "1", "日本", "2", "\uD83D\uDE00", "3", "Z", "", "a", "4"),
        one,
        5000,
        new byte[0],
        null);
    gen(
        out,
        "per-blob-associated-data",
        4096,
        ctx,
        one,
        5000,
        "snapshots/indices/Xy3/0/__blob-1".getBytes(StandardCharsets.UTF_8),
        null);
    gen(
        out,
        "rewrapped",
        4096,
        ctx,
        one,
        9000,
        new byte[0],
        List.of(
            KeySlot.of("aws-kms", "arn:aws:kms:eu-west-1:111122223333:key/2", w(2)),
            KeySlot.of("aws-kms", "arn:aws:kms:us-east-1:111122223333:key/3", w(3))));
  }

  private static byte[] w(int seed) {
    byte[] b = new byte[184]; // the length of an AWS KMS ciphertext blob for a 32-byte key
    new Random(seed).nextBytes(b);
    return b;
  }

  private static void gen(
      Path out,
      String name,
      int segmentSize,
      EncryptionContext ctx,
      List<KeySlot> slots,
      int size,
      byte[] ad,
      List<KeySlot> rewrapTo)
      throws IOException {
    if (Files.exists(out.resolve(name + ".properties"))) {
      return; // the corpus is never rewritten
    }
    Random r = new Random(name.hashCode());
    byte[] material = new byte[32];
    byte[] id = new byte[DataKey.ID_LENGTH];
    r.nextBytes(material);
    r.nextBytes(id);
    DataKey key = DataKey.of(id, material);
    byte[] plain = new byte[size];
    r.nextBytes(plain);
    EnvelopeEncryptor enc =
        EnvelopeEncryptor.builder()
            .dataKey(key)
            .keySlots(slots)
            .encryptionContext(ctx)
            .segmentSize(segmentSize)
            .build();
    ByteArrayOutputStream bout = new ByteArrayOutputStream();
    try (OutputStream o = enc.newEncryptingStream(bout, ad)) {
      o.write(plain);
    }
    byte[] blob = bout.toByteArray();
    EnvelopeHeader h = EnvelopeHeader.parse(blob);
    if (rewrapTo != null) {
      EnvelopeHeader fresh = h.withKeySlots(rewrapTo);
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      b.writeBytes(fresh.toByteArray());
      b.write(blob, h.length(), blob.length - h.length());
      blob = b.toByteArray();
      h = fresh;
    }
    Properties p = new Properties();
    p.setProperty("dek", HEX.formatHex(material));
    p.setProperty("dekId", HEX.formatHex(id));
    p.setProperty("segmentSize", Integer.toString(segmentSize));
    p.setProperty("context", HEX.formatHex(ctx.toCanonicalBytes()));
    p.setProperty("associatedData", HEX.formatHex(ad));
    p.setProperty("plaintextSha256", ReadPaths.sha256(plain));
    p.setProperty(
        "slots",
        String.join(
            ";", h.keySlots().stream().map(s -> s.providerId() + " " + s.keyArn()).toList()));
    Files.write(out.resolve(name + ".byok"), blob);
    Files.write(out.resolve(name + ".plain"), plain);
    try (OutputStream o = Files.newOutputStream(out.resolve(name + ".properties"))) {
      p.store(o, "byok format v1 golden blob " + name + "; written once, never changed");
    }
  }
}
