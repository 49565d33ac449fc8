package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The NIO calls on {@link Byok}: buffers round-trip with the streams under the current key. */
class ByokNioTest {
  @Test
  void bufferToBufferUnderAContext() throws IOException {
    TestKms kms = new TestKms();
    String arn = kms.createKey();
    EncryptionContext ctx = EncryptionContext.of("tenant", "a");
    byte[] pt = RoundTrips.randomBytes(200_000, 3);
    try (Byok byok = KeyLayerFixture.byok(kms, arn).segmentSize(4096).build()) {
      ByteBuffer env = ByteBuffer.allocateDirect((int) byok.ciphertextLength(pt.length, ctx));
      assertThat(byok.encrypt(ByteBuffer.wrap(pt), env, ctx)).isEqualTo(env.capacity());
      env.flip();
      byte[] envelope = new byte[env.remaining()];
      env.duplicate().get(envelope);
      assertThat(
              RoundTrips.readAll(
                  byok.newDecryptingStream(new ByteArrayInputStream(envelope), ctx), 8192))
          .isEqualTo(pt);

      ByteBuffer out = ByteBuffer.allocate(pt.length);
      assertThat(byok.decrypt(env.duplicate(), out, ctx)).isEqualTo(pt.length);
      assertThat(out.array()).isEqualTo(pt);

      ByteBuffer other = ByteBuffer.allocate(pt.length);
      assertThatThrownBy(() -> byok.decrypt(env, other, EncryptionContext.of("tenant", "b")))
          .isInstanceOfSatisfying(
              InvalidCiphertextException.class,
              e ->
                  assertThat(e.reason())
                      .isEqualTo(InvalidCiphertextException.Reason.CONTEXT_MISMATCH));
      assertThat(other.array()).containsOnly(0);
      assertThat(env.position()).isZero();
    }
  }
}
