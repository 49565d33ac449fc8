package dev.byok.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.Byok;
import dev.byok.EncryptionContext;
import dev.byok.EnvelopeHeader;
import dev.byok.InvalidCiphertextException;
import dev.byok.InvalidCiphertextIOException;
import dev.byok.RangePlan;
import dev.byok.testkit.FakeKms;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * {@link EncryptedBlobStore} against a real S3 server (s3proxy, in-process, in-memory back end,
 * HTTPS with a throw-away self-signed certificate, AWS v4 authentication) through the real AWS SDK
 * client. Every HTTP exchange is recorded on the client side: method, {@code Range}, {@code
 * Content-Length} sent, and body bytes received.
 */
class EncryptedBlobStoreTest {
  private static final String BUCKET = "snapshots";
  private static final int SEGMENT = 4096;
  private static final EncryptionContext CTX =
      EncryptionContext.of("repository", "nightly", "tenant", "acme");

  private static final String ACCESS_KEY = "test-access-key";
  private static final String SECRET_KEY = "test-secret-key";
  private static final String PASSWORD = "changeit";

  private static final List<Exchange> wire = new CopyOnWriteArrayList<>();
  private static BlobStoreContext blobs;
  private static S3Proxy proxy;
  private static S3Client s3;
  private static Byok byok;
  private static EncryptedBlobStore store;

  @BeforeAll
  static void startServer(@TempDir Path dir) throws Exception {
    Path keyStore = selfSignedKeyStore(dir);
    blobs =
        ContextBuilder.newBuilder("transient")
            .credentials("unused", "unused")
            .build(BlobStoreContext.class);
    proxy =
        S3Proxy.builder()
            .blobStore(blobs.getBlobStore())
            .secureEndpoint(URI.create("https://127.0.0.1:0"))
            .keyStore(keyStore.toString(), PASSWORD)
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
            .build();
    proxy.start();
    s3 = newS3Client(keyStore);
    s3.createBucket(b -> b.bucket(BUCKET));

    FakeKms kms = FakeKms.create();
    kms.api().createAlias("alias/snapshots", kms.api().createKey("customer key").arn());
    byok =
        Byok.builder()
            .provider(kms)
            .encryptUnder("fake-kms://alias/snapshots")
            .segmentSize(SEGMENT)
            .build();
    store = new EncryptedBlobStore(s3, BUCKET, byok);
  }

  /** The client as docs/snapshot-repositories.md shows it (DocsTest keeps the two in step). */
  private static S3Client newS3Client(Path keyStore) {
    // docs:begin snapshot-s3-client
    S3Client s3 = S3Client.builder()
        .endpointOverride(URI.create("https://127.0.0.1:" + proxy.getSecurePort()))
        .region(Region.US_EAST_1)
        .forcePathStyle(true)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
        .httpClient(UrlConnectionHttpClient.builder().tlsTrustManagersProvider(() -> trusting(keyStore)).build())
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(c -> c.addExecutionInterceptor(new Recorder()))   // the test's wire log
        .build();
    // docs:end snapshot-s3-client
    return s3;
  }

  /**
   * HTTPS as on real S3: over plain HTTP the SDK signs the payload, which means reading the upload
   * twice (or chunk-signing it, which changes the wire Content-Length).
   */
  private static Path selfSignedKeyStore(Path dir) throws IOException, InterruptedException {
    Path keyStore = dir.resolve("s3proxy.p12");
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Process p =
        new ProcessBuilder(
                keytool.toString(),
                "-genkeypair",
                "-keystore",
                keyStore.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                PASSWORD,
                "-alias",
                "s3proxy",
                "-keyalg",
                "EC",
                "-dname",
                "CN=127.0.0.1",
                "-ext",
                "san=ip:127.0.0.1",
                "-validity",
                "2")
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as("keytool: %s", output).isZero();
    return keyStore;
  }

  private static TrustManager[] trusting(Path keyStore) {
    try (InputStream in = Files.newInputStream(keyStore)) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, PASSWORD.toCharArray());
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      return tmf.getTrustManagers();
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (byok != null) {
      byok.close();
    }
    if (s3 != null) {
      s3.close();
    }
    if (proxy != null) {
      proxy.stop();
    }
    if (blobs != null) {
      blobs.close();
    }
  }

  @BeforeEach
  void clearWire() {
    wire.clear();
  }

  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(ints = {0, 1, SEGMENT - 56, SEGMENT - 55, 3 * SEGMENT + 7, 1 << 20})
  void roundTripsWithTheExactCiphertextLengthAsContentLength(int size) throws IOException {
    byte[] plain = random(size, size);
    String key = "blob-" + size;

    long stored = store.put(key, new ByteArrayInputStream(plain), size, CTX);

    Exchange put = only("PUT");
    assertThat(stored).isEqualTo(byok.ciphertextLength(size, CTX)).isGreaterThan(size);
    assertThat(put.contentLength).isEqualTo(stored);
    assertThat(s3.headObject(b -> b.bucket(BUCKET).key(key)).contentLength()).isEqualTo(stored);

    byte[] raw = s3.getObjectAsBytes(b -> b.bucket(BUCKET).key(key)).asByteArray();
    assertThat(raw).hasSize((int) stored);
    if (size >= 16) {
      assertThat(indexOf(raw, Arrays.copyOf(plain, 16)))
          .as("plaintext prefix in the stored object")
          .isEqualTo(-1);
    }
    try (InputStream in = store.get(key, CTX)) {
      assertThat(in.readAllBytes()).isEqualTo(plain);
    }
  }

  @Test
  void theDocsSetUpWorksWithTheDefaultSegmentSize() throws IOException {
    // the set-up of docs/snapshot-repositories.md; its locals shadow this class's fields
    // docs:begin snapshot-setup
    FakeKms kms = FakeKms.create();                       // or AwsKmsProvider for real AWS KMS
    kms.api().createAlias("alias/snapshots", kms.api().createKey("customer key").arn());
    Byok byok = Byok.builder().provider(kms).encryptUnder("fake-kms://alias/snapshots").build();
    EncryptedBlobStore store = new EncryptedBlobStore(s3, "snapshots", byok);
    EncryptionContext ctx = EncryptionContext.of("repository", "nightly", "tenant", "acme");
    // docs:end snapshot-setup
    int size = 200_000; // four 64 KiB segments
    byte[] plain = random(size, 5);
    try (byok) {
      long stored = store.put("default-segments", new ByteArrayInputStream(plain), size, ctx);
      assertThat(stored).isEqualTo(byok.ciphertextLength(size, ctx));
      assertThat(store.readHeader("default-segments").segmentSize()).isEqualTo(64 * 1024);
      assertThat(readAll(store.get("default-segments", ctx))).isEqualTo(plain);
      assertThat(readAll(store.getRange("default-segments", 131_000, 200, ctx)))
          .isEqualTo(Arrays.copyOfRange(plain, 131_000, 131_200));
    }
  }

  @ParameterizedTest(name = "offset {0}, length {1}")
  @CsvSource({"0, 1", "500000, 10000", "4079, 2", "1048476, 1000", "8192, 0"})
  void rangeReadFetchesOnlyThePlannedCiphertextBytes(long offset, long length) throws IOException {
    int size = 1 << 20;
    byte[] plain = random(size, 7);
    long stored = store.put("big", new ByteArrayInputStream(plain), size, CTX);
    EnvelopeHeader header = store.readHeader("big");
    RangePlan plan = header.planRange(stored, offset, length);
    wire.clear();

    byte[] got;
    try (InputStream in = store.getRange("big", offset, length, CTX)) {
      got = in.readAllBytes();
    }

    long end = Math.min(size, offset + length);
    assertThat(got).isEqualTo(Arrays.copyOfRange(plain, (int) offset, (int) end));
    Exchange prefix = wire.get(0);
    assertThat(prefix.method).isEqualTo("GET");
    assertThat(prefix.range).isEqualTo("bytes=0-" + (EncryptedBlobStore.HEADER_PREFIX - 1));
    assertThat(prefix.received.get()).isEqualTo(EncryptedBlobStore.HEADER_PREFIX);
    assertThat(wire.get(1).method).isEqualTo("HEAD");
    if (length == 0) {
      assertThat(wire).hasSize(2);
      return;
    }
    assertThat(wire).hasSize(3);
    Exchange ranged = wire.get(2);
    assertThat(ranged.range).isEqualTo(plan.httpRange());
    assertThat(ranged.received.get()).isEqualTo(plan.ciphertextLength());
    // whole segments covering the range, at most one more than the plaintext strictly needs
    long segments = (end - offset) / (SEGMENT - 16) + 2;
    assertThat(plan.ciphertextLength())
        .isPositive()
        .isLessThanOrEqualTo(segments * SEGMENT)
        .isLessThan(stored / 50);
  }

  @Test
  void aFlippedByteInTheStoredObjectIsRefused() throws IOException {
    int size = 3 * SEGMENT + 7;
    byte[] plain = random(size, 11);
    store.put("tampered", new ByteArrayInputStream(plain), size, CTX);
    byte[] raw = s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("tampered")).asByteArray();
    raw[raw.length - 20] ^= 1; // inside the last segment
    s3.putObject(b -> b.bucket(BUCKET).key("tampered"), RequestBody.fromBytes(raw));

    assertThatThrownBy(() -> readAll(store.get("tampered", CTX)))
        .isInstanceOfSatisfying(
            InvalidCiphertextIOException.class,
            e ->
                assertThat(e.reason())
                    .isEqualTo(InvalidCiphertextException.Reason.AUTHENTICATION_FAILED));
    assertThatThrownBy(() -> readAll(store.getRange("tampered", size - 3, 3, CTX)))
        .isInstanceOfSatisfying(
            InvalidCiphertextIOException.class,
            e ->
                assertThat(e.reason())
                    .isEqualTo(InvalidCiphertextException.Reason.AUTHENTICATION_FAILED));
    // untouched segments still read: a range read authenticates only what it fetched
    assertThat(readAll(store.getRange("tampered", 0, 100, CTX)))
        .isEqualTo(Arrays.copyOf(plain, 100));
  }

  @Test
  void aWrongContextIsRefused() throws IOException {
    store.put("ctx", new ByteArrayInputStream(random(5000, 3)), 5000, CTX);
    EncryptionContext other = EncryptionContext.of("repository", "nightly", "tenant", "globex");

    assertThatThrownBy(() -> readAll(store.get("ctx", other)))
        .isInstanceOfSatisfying(
            InvalidCiphertextException.class,
            e ->
                assertThat(e.reason())
                    .isEqualTo(InvalidCiphertextException.Reason.CONTEXT_MISMATCH));
    assertThatThrownBy(() -> readAll(store.getRange("ctx", 10, 10, other)))
        .isInstanceOfSatisfying(
            InvalidCiphertextException.class,
            e ->
                assertThat(e.reason())
                    .isEqualTo(InvalidCiphertextException.Reason.CONTEXT_MISMATCH));
  }

  private static byte[] readAll(InputStream in) throws IOException {
    try (in) {
      return in.readAllBytes();
    }
  }

  private static Exchange only(String method) {
    List<Exchange> matching = wire.stream().filter(x -> x.method.equals(method)).toList();
    assertThat(matching).hasSize(1);
    return matching.get(0);
  }

  private static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** One HTTP request/response as the client saw it. */
  private static final class Exchange {
    final String method;
    final String range;
    final long contentLength;
    final AtomicLong received = new AtomicLong();

    Exchange(SdkHttpRequest request) {
      method = request.method().name();
      range = request.firstMatchingHeader("Range").orElse(null);
      contentLength =
          request.firstMatchingHeader("Content-Length").map(Long::parseLong).orElse(-1L);
    }
  }

  /** Records each exchange and counts the response body bytes the client actually read. */
  private static final class Recorder implements ExecutionInterceptor {
    private static final ExecutionAttribute<Exchange> EXCHANGE =
        new ExecutionAttribute<>("byok.exchange");

    @Override
    public void beforeTransmission(
        Context.BeforeTransmission context, ExecutionAttributes attributes) {
      Exchange x = new Exchange(context.httpRequest());
      attributes.putAttribute(EXCHANGE, x);
      wire.add(x);
    }

    @Override
    public Optional<InputStream> modifyHttpResponseContent(
        Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
      AtomicLong received = attributes.getAttribute(EXCHANGE).received;
      return context
          .responseBody()
          .map(
              body ->
                  new FilterInputStream(body) {
                    @Override
                    public int read() throws IOException {
                      int b = super.read();
                      if (b >= 0) {
                        received.incrementAndGet();
                      }
                      return b;
                    }

                    @Override
                    public int read(byte[] buf, int off, int len) throws IOException {
                      int n = super.read(buf, off, len);
                      if (n > 0) {
                        received.addAndGet(n);
                      }
                      return n;
                    }
                  });
    }
  }
}
