package dev.byok;

import dev.byok.kms.local.InMemoryKms;
import dev.byok.testkit.FakeKmsExtension;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

/** Shared helpers for the Byok / DataKeyManager tests against the fake KMS. */
final class Blobs {
  static final int SEGMENT = 4096;
  static final EncryptionContext CTX =
      EncryptionContext.of("tenant", "t1", "repository", "snapshots");

  private Blobs() {}

  /**
   * A Byok on the fake KMS and its manual clock, small segments, encrypting under these key ids
   * (ARNs or aliases).
   */
  static Byok.Builder byok(FakeKmsExtension fake, String... keyIds) {
    Byok.Builder b = Byok.builder().provider(fake.kms()).clock(fake.clock()).segmentSize(SEGMENT);
    for (String k : keyIds) {
      b.encryptUnder(KeyRef.of(fake.kms().providerId(), k));
    }
    return b;
  }

  /**
   * What a rewrap from {@code keyIds} to another key requires: the source KEKs and {@link #CTX}.
   */
  static ReadPolicy from(FakeKmsExtension fake, String... keyIds) {
    List<KeyRef> keks = new ArrayList<>();
    for (String k : keyIds) {
      keks.add(KeyRef.of(fake.kms().providerId(), k));
    }
    return ReadPolicy.of(keks, CTX);
  }

  static byte[] plaintext(int size, long seed) {
    byte[] p = new byte[size];
    new Random(seed).nextBytes(p);
    return p;
  }

  static byte[] encrypt(Byok byok, byte[] plaintext, EncryptionContext context) {
    ByteArrayOutputStream bout = new ByteArrayOutputStream();
    try (OutputStream out = byok.newEncryptingStream(bout, context)) {
      out.write(plaintext);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bout.toByteArray();
  }

  static byte[] encrypt(Byok byok, byte[] plaintext) {
    return encrypt(byok, plaintext, CTX);
  }

  static byte[] decrypt(Byok byok, byte[] envelope) {
    try {
      return byok.newDecryptingStream(new ByteArrayInputStream(envelope)).readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static EnvelopeHeader header(byte[] envelope) {
    return EnvelopeHeader.parse(envelope);
  }

  /** The envelope with its key slots replaced, payload (from its 40-byte header on) unchanged. */
  static byte[] withSlots(byte[] envelope, List<KeySlot> slots) {
    EnvelopeHeader h = header(envelope);
    return concat(
        h.withKeySlots(slots).toByteArray(),
        Arrays.copyOfRange(envelope, h.length(), envelope.length));
  }

  /** The payload: everything from the payload header on, which rewrap must leave byte for byte. */
  static byte[] payload(byte[] envelope) {
    return Arrays.copyOfRange(envelope, header(envelope).payloadOffset(), envelope.length);
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      b.writeBytes(p);
    }
    return b.toByteArray();
  }

  /** Calls that handle data keys: GenerateDataKey, Encrypt, Decrypt, ReEncrypt. */
  static int dataKeyCalls(InMemoryKms api) {
    return api.calls("GenerateDataKey")
        + api.calls("Encrypt")
        + api.calls("Decrypt")
        + api.calls("ReEncrypt");
  }

  /** The key ids named by logged calls of one operation, in order. */
  static List<String> keysCalled(InMemoryKms api, String operation) {
    return api.callLog().stream()
        .filter(c -> c.operation().equals(operation))
        .map(InMemoryKms.Call::keyId)
        .collect(Collectors.toList());
  }
}
