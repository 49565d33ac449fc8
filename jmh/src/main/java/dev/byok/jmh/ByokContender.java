package dev.byok.jmh;

import dev.byok.DataKey;
import dev.byok.DataKeyResolver;
import dev.byok.EncryptionContext;
import dev.byok.EnvelopeDecryptor;
import dev.byok.EnvelopeEncryptor;
import dev.byok.KeySlot;
import dev.byok.testkit.ByteArrayChannel;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;

/**
 * byok through one of its APIs. Encryption: push ({@code newEncryptingStream}) or pull ({@code
 * newEncryptingInputStream}); the channel contender encrypts by push. Decryption: the push and pull
 * contenders use {@code newDecryptingStream}, the channel contender {@code newDecryptingChannel}
 * read sequentially.
 */
final class ByokContender implements Contender {
  enum Api {
    PUSH,
    PULL,
    CHANNEL
  }

  private final Api api;
  private final EnvelopeEncryptor encryptor;
  private final EnvelopeDecryptor decryptor;
  private final byte[] buffer = new byte[CHUNK];

  ByokContender(Api api, int segmentSize) {
    this.api = api;
    DataKey key = DataKey.generate();
    this.encryptor =
        EnvelopeEncryptor.builder()
            .dataKey(key)
            .keySlot(
                KeySlot.of(
                    "aws-kms", "arn:aws:kms:eu-west-1:111122223333:key/bench", new byte[184]))
            .encryptionContext(EncryptionContext.of("repository", "bench"))
            .segmentSize(segmentSize)
            .build();
    this.decryptor = EnvelopeDecryptor.create(DataKeyResolver.of(key));
  }

  @Override
  public void encrypt(byte[] plaintext, OutputStream sink) throws IOException {
    if (api == Api.PULL) {
      try (InputStream in =
          encryptor.newEncryptingInputStream(new ByteArrayInputStream(plaintext))) {
        Contender.drain(in, buffer, sink);
      }
    } else {
      try (OutputStream out = encryptor.newEncryptingStream(sink)) {
        Contender.writeChunked(plaintext, out);
      }
    }
  }

  @Override
  public void decrypt(byte[] ciphertext, OutputStream sink) throws IOException {
    if (api == Api.CHANNEL) {
      try (SeekableByteChannel ch =
          decryptor.newDecryptingChannel(new ByteArrayChannel(ciphertext))) {
        ByteBuffer buf = ByteBuffer.wrap(buffer);
        while (ch.read(buf.clear()) >= 0) {
          sink.write(buffer, 0, buf.position());
        }
      }
    } else {
      try (InputStream in = decryptor.newDecryptingStream(new ByteArrayInputStream(ciphertext))) {
        Contender.drain(in, buffer, sink);
      }
    }
  }
}
