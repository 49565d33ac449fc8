package dev.byok.jmh;

import dev.byok.Byok;
import dev.byok.DataKey;
import dev.byok.EncryptionContext;
import dev.byok.EnvelopeHeader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * byok's fixed cost per blob when the data key is cached, in microseconds per blob, taken apart on
 * an envelope with an empty plaintext (header, one 16-byte final segment):
 *
 * <ul>
 *   <li>{@code parseHeader}: {@link EnvelopeHeader#parse} of the envelope (bounded parsing, context
 *       and slot decoding);
 *   <li>{@code lookup}: {@code byok.keys().resolve(header)}, the decrypt cache hit;
 *   <li>{@code openEmptyBlob}: the whole decrypt side — {@link Byok#newDecryptingStream} (parse,
 *       lookup, key commitment check, HKDF of the blob key, cipher set-up) and reading its end,
 *       which authenticates the final segment;
 *   <li>{@code encryptEmptyBlob}: the encrypt side for comparison — active data key, random salt
 *       and nonce prefix, HKDF, header and final segment written.
 * </ul>
 *
 * <p>The provider and cache bounds are {@link ByokBlobContender}'s. Setup checks that the cache
 * answers and the blob decrypts.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Threads(1)
public class CacheHitBenchmark {
  private static final EncryptionContext CONTEXT = EncryptionContext.of("repository", "bench");

  /** A warm byok instance and one empty-plaintext envelope it made. */
  @State(Scope.Thread)
  public static class Envelope {
    ByokBlobContender contender;
    Byok byok;
    byte[] envelope;
    EnvelopeHeader header;
    final BlobBuffer sink = new BlobBuffer(1024);

    @Setup
    public void setUp() throws IOException {
      contender = new ByokBlobContender();
      byok = contender.byok;
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byok.newEncryptingStream(out, CONTEXT).close();
      envelope = out.toByteArray();
      header = EnvelopeHeader.parse(envelope);
      for (int i = 0; i < 3; i++) {
        if (open(this) != -1) {
          throw new IllegalStateException("empty envelope decrypted to something");
        }
      }
      contender.checkWarm();
      DataKey cached = byok.keys().resolve(header);
      if (!header.matchesKey(cached)) {
        throw new IllegalStateException("cached key does not match the header");
      }
    }
  }

  static int open(Envelope e) throws IOException {
    try (InputStream in = e.byok.newDecryptingStream(new ByteArrayInputStream(e.envelope))) {
      return in.read();
    }
  }

  @Benchmark
  public EnvelopeHeader parseHeader(Envelope e) {
    return EnvelopeHeader.parse(e.envelope);
  }

  @Benchmark
  public DataKey lookup(Envelope e) {
    DataKey k = e.byok.keys().resolve(e.header);
    k.destroy(); // resolve hands out a private copy; its user zeroes it
    return k;
  }

  @Benchmark
  public int openEmptyBlob(Envelope e) throws IOException {
    return open(e);
  }

  @Benchmark
  public int encryptEmptyBlob(Envelope e) throws IOException {
    e.sink.reset();
    try (OutputStream out = e.byok.newEncryptingStream(e.sink, CONTEXT)) {
      return e.sink.size();
    }
  }
}
