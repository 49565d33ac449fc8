package dev.byok;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Random;

/** Blob helpers for the key-layer tests over {@link TestKms}. */
final class KeyLayerFixture {
  static final EncryptionContext CTX = EncryptionContext.of("tenant", "t1");

  private KeyLayerFixture() {}

  static Byok.Builder byok(TestKms kms, String... keyIds) {
    Byok.Builder b = Byok.builder().provider(kms);
    for (String k : keyIds) {
      b.encryptUnder(KeyRef.of(TestKms.ID, k));
    }
    return b;
  }

  static byte[] plaintext(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  static byte[] encrypt(Byok byok, byte[] plaintext, EncryptionContext context) {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (OutputStream out = byok.newEncryptingStream(sink, context)) {
      out.write(plaintext);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sink.toByteArray();
  }

  static byte[] encrypt(Byok byok, byte[] plaintext) {
    return encrypt(byok, plaintext, CTX);
  }

  static byte[] decrypt(Byok byok, byte[] envelope) {
    try (InputStream in = byok.newDecryptingStream(new ByteArrayInputStream(envelope))) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static EnvelopeHeader header(byte[] envelope) {
    return EnvelopeHeader.parse(envelope);
  }

  /** The same blob with its key slots replaced (slots are outside the authenticated header). */
  static byte[] withSlots(byte[] envelope, List<KeySlot> slots) {
    EnvelopeHeader old = header(envelope);
    EnvelopeHeader fresh = old.withKeySlots(slots);
    byte[] head = fresh.toByteArray();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(head, 0, fresh.payloadOffset());
    out.write(envelope, old.payloadOffset(), envelope.length - old.payloadOffset());
    return out.toByteArray();
  }
}
