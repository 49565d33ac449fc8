package dev.byok.jmh;

import dev.byok.DataKey;
import dev.byok.DataKeyResolver;
import dev.byok.EncryptionContext;
import dev.byok.EnvelopeDecryptor;
import dev.byok.EnvelopeEncryptor;
import dev.byok.KeySlot;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * byok's zero-copy NIO path: {@code EnvelopeEncryptor.encrypt(ByteBuffer, ByteBuffer)} and {@code
 * EnvelopeDecryptor.decrypt(ByteBuffer, ByteBuffer, null)}, whole blob buffer to buffer, heap
 * ({@code byok-nio-heap}) or direct ({@code byok-nio-direct}). Input and output are separate
 * blob-sized buffers (DRAM-resident, like the floor's input), allocated once: the first call with a
 * given array copies it into the input buffer (for heap buffers the array is wrapped, not copied),
 * later calls with the same array measure the cipher path alone.
 *
 * <p>The result goes to {@code sink} only when the sink is not {@link Discard#INSTANCE} (the setup
 * round trip checks it); a timed operation leaves it in the output buffer, as a storage engine
 * would hand that buffer to its I/O layer.
 */
final class NioContender implements Contender {
  private final boolean direct;
  private final EnvelopeEncryptor encryptor;
  private final EnvelopeDecryptor decryptor;
  private byte[] encryptInputOf = new byte[0];
  private ByteBuffer encryptIn = ByteBuffer.allocate(0);
  private ByteBuffer encryptOut = ByteBuffer.allocate(0);
  private byte[] decryptInputOf = new byte[0];
  private ByteBuffer decryptIn = ByteBuffer.allocate(0);
  private ByteBuffer decryptOut = ByteBuffer.allocate(0);

  NioContender(boolean direct, int segmentSize) {
    this.direct = direct;
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

  private ByteBuffer input(byte[] data) {
    if (!direct) {
      return ByteBuffer.wrap(data);
    }
    ByteBuffer b = ByteBuffer.allocateDirect(data.length);
    b.put(data).flip();
    return b;
  }

  private ByteBuffer output(long size) {
    return direct
        ? ByteBuffer.allocateDirect(Math.toIntExact(size))
        : ByteBuffer.allocate(Math.toIntExact(size));
  }

  @Override
  public void encrypt(byte[] plaintext, OutputStream sink) throws IOException {
    if (plaintext != encryptInputOf) {
      encryptInputOf = plaintext;
      encryptIn = input(plaintext);
      encryptOut = output(encryptor.ciphertextLength(plaintext.length));
    }
    ByteBuffer out = encryptOut.clear();
    int n = encryptor.encrypt(encryptIn.duplicate(), out);
    copyOut(out, n, sink);
  }

  @Override
  public void decrypt(byte[] ciphertext, OutputStream sink) throws IOException {
    if (ciphertext != decryptInputOf) {
      decryptInputOf = ciphertext;
      decryptIn = input(ciphertext);
      decryptOut = output(ciphertext.length); // more than the plaintext needs
    }
    ByteBuffer out = decryptOut.clear();
    int n = decryptor.decrypt(decryptIn.duplicate(), out, null);
    copyOut(out, n, sink);
  }

  private static void copyOut(ByteBuffer out, int n, OutputStream sink) throws IOException {
    if (sink != Discard.INSTANCE) {
      byte[] bytes = new byte[n];
      out.flip().get(bytes);
      sink.write(bytes);
    }
  }
}
