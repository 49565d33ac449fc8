package dev.byok.testkit;

import dev.byok.DataKey;
import dev.byok.DataKeyResolver;
import dev.byok.EncryptionContext;
import dev.byok.EnvelopeDecryptor;
import dev.byok.EnvelopeEncryptor;
import dev.byok.KeySlot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Random;

/** Envelopes made by byok-core for the tests: one data key, two encryptors that share it. */
final class Envelopes {
  static final int SEGMENT = 4096;

  /** Plaintext bytes in a full first segment: S - 40 (payload header) - 16 (tag). */
  static final int FIRST_PLAIN = SEGMENT - 56;

  /** Plaintext bytes in a full later segment. */
  static final int PLAIN = SEGMENT - 16;

  static final EncryptionContext CONTEXT =
      EncryptionContext.of("repository", "snapshots", "tenant", "t1");

  static final DataKey KEY = DataKey.generate();
  static final EnvelopeEncryptor ENCRYPTOR =
      encryptor(CONTEXT, "arn:aws:kms:eu-west-1:111122223333:key/primary");

  /** Same data key and context, another key slot: its blobs carry a different slot section. */
  static final EnvelopeEncryptor REPLICA =
      encryptor(CONTEXT, "arn:aws:kms:us-east-1:111122223333:key/replica");

  static final EnvelopeDecryptor DECRYPTOR = EnvelopeDecryptor.create(DataKeyResolver.of(KEY));

  private Envelopes() {}

  static EnvelopeEncryptor encryptor(EncryptionContext context, String keyArn) {
    return EnvelopeEncryptor.builder()
        .dataKey(KEY)
        .keySlot(
            KeySlot.of("test", keyArn, keyArn.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
        .encryptionContext(context)
        .segmentSize(SEGMENT)
        .build();
  }

  static byte[] plaintext(int size, long seed) {
    byte[] p = new byte[size];
    new Random(seed).nextBytes(p);
    return p;
  }

  static byte[] encrypt(EnvelopeEncryptor encryptor, byte[] plaintext) {
    ByteArrayOutputStream bout = new ByteArrayOutputStream();
    try (OutputStream out = encryptor.newEncryptingStream(bout)) {
      out.write(plaintext);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bout.toByteArray();
  }
}
