package dev.byok.examples.docs;

import dev.byok.DataKey;
import dev.byok.DataKeyResolver;
import dev.byok.EncryptionContext;
import dev.byok.EnvelopeDecryptor;
import dev.byok.EnvelopeEncryptor;
import dev.byok.KeySlot;
import dev.byok.testkit.TamperSuite;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tamper-suite sample of docs/testing-with-the-testkit.md, run; {@link DocsTest} keeps the two
 * in step.
 */
class TamperSuiteDocsTest {
  /** Stands in for a host's own read path, for example a blob store that decrypts on read. */
  static final class BlobStore {
    private final EnvelopeDecryptor decryptor;

    BlobStore(EnvelopeDecryptor decryptor) {
      this.decryptor = decryptor;
    }

    byte[] read(byte[] stored) throws IOException {
      try (InputStream in = decryptor.newDecryptingStream(new ByteArrayInputStream(stored))) {
        return in.readAllBytes();
      }
    }
  }

  static byte[] encrypt(EnvelopeEncryptor encryptor, byte[] plaintext) throws IOException {
    ByteArrayOutputStream bout = new ByteArrayOutputStream();
    try (OutputStream out = encryptor.newEncryptingStream(bout)) {
      out.write(plaintext);
    }
    return bout.toByteArray();
  }

  @Test
  void hostRunsTheSuiteAgainstItsOwnReadPath(@TempDir Path tempDir) throws IOException {
    // docs:begin tamper-suite
    DataKey key = DataKey.generate();
    EnvelopeEncryptor encryptor = EnvelopeEncryptor.builder()
        .dataKey(key)
        .keySlot(KeySlot.of("test", "arn:aws:kms:eu-west-1:111122223333:key/k1", new byte[] {1}))
        .encryptionContext(EncryptionContext.of("repository", "snapshots"))
        .segmentSize(4096)                              // small segments: many boundaries, fast
        .build();
    byte[] plaintext = new byte[3 * 4096 + 100];        // four segments
    byte[] envelope = encrypt(encryptor, plaintext);
    byte[] otherBlob = encrypt(encryptor, new byte[plaintext.length]); // same data key, other salt

    EnvelopeDecryptor decryptor = EnvelopeDecryptor.create(DataKeyResolver.of(key));
    BlobStore store = new BlobStore(decryptor);         // your read path

    // your read path: a whole-buffer API fits as a stream over its result
    TamperSuite.run(envelope, plaintext, otherBlob, stored -> new ByteArrayInputStream(store.read(stored)))
        .assertClean();
    // byok's own paths, and the wrong key and context
    TamperSuite.run(envelope, plaintext, otherBlob, TamperSuite.streaming(decryptor))
        .and(TamperSuite.run(envelope, plaintext, otherBlob, TamperSuite.file(decryptor, tempDir)))
        .and(TamperSuite.wrongKey(envelope, plaintext, r -> TamperSuite.channel(EnvelopeDecryptor.create(r))))
        .and(TamperSuite.wrongContext(envelope, plaintext, c -> TamperSuite.streaming(decryptor, c)))
        .assertClean();
    // docs:end tamper-suite
  }
}
