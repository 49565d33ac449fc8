package dev.byok;

import static dev.byok.RobustTestSupport.FIRST_PLAIN;
import static dev.byok.RobustTestSupport.assertInvalid;
import static dev.byok.RobustTestSupport.decryptChannel;
import static dev.byok.RobustTestSupport.decryptStream;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/**
 * Key material never shows in {@code toString}, exception messages or stack traces, in hex, base64
 * or raw form; destroy() zeroes it; a data key's equality is identity.
 */
class SecretsTest {
  private final DataKey key = DataKey.generate();
  private final byte[] material = key.copyKeyMaterial();

  /** Every 6-byte window of the key, hex (both cases), base64 (both alphabets), and raw Latin-1. */
  private List<String> leakForms() {
    List<String> forms = new ArrayList<>();
    for (int i = 0; i + 6 <= material.length; i++) {
      byte[] w = Arrays.copyOfRange(material, i, i + 6);
      String hex = HexFormat.of().formatHex(w);
      forms.add(hex);
      forms.add(hex.toUpperCase(Locale.ROOT));
      forms.add(Base64.getEncoder().encodeToString(w));
      forms.add(Base64.getUrlEncoder().encodeToString(w));
      forms.add(new String(w, StandardCharsets.ISO_8859_1));
    }
    forms.add(
        Arrays.toString(material).substring(1, 25)); // "12, -3, 45, ..." as Arrays.toString prints
    return forms;
  }

  private void assertNoKeyIn(String text) {
    for (String form : leakForms()) {
      assertThat(text).as("must not contain key material").doesNotContain(form);
    }
  }

  private static String everything(Throwable t) {
    StringWriter w = new StringWriter();
    t.printStackTrace(new PrintWriter(w));
    return t + "\n" + w;
  }

  @Test
  void toStringsNeverShowTheKey() throws IOException {
    EnvelopeEncryptor enc = RobustTestSupport.encryptor(key);
    byte[] env = RobustTestSupport.encrypt(enc, RobustTestSupport.plaintext(100));
    assertThat(key.toString()).contains(key.idHex()).contains("redacted");
    assertNoKeyIn(key.toString());
    assertNoKeyIn(enc.toString());
    assertNoKeyIn(enc.header().toString());
    assertNoKeyIn(EnvelopeHeader.parse(env).toString());
    assertNoKeyIn(EnvelopeDecryptor.create(DataKeyResolver.of(key)).toString());
    assertNoKeyIn(DataKeyResolver.of(key).toString());
    assertNoKeyIn(EnvelopeHeader.parse(env).planRange(env.length, 0, 10).toString());
    key.destroy();
    assertThat(key.toString()).contains("destroyed");
  }

  @Test
  void failureMessagesNeverShowTheKey() throws IOException {
    EnvelopeEncryptor enc = RobustTestSupport.encryptor(key);
    byte[] env = RobustTestSupport.encrypt(enc, RobustTestSupport.plaintext(FIRST_PLAIN + 500));
    EnvelopeHeader header = EnvelopeHeader.parse(env);
    DataKey other = DataKey.of(key.id(), DataKey.generate().copyKeyMaterial());
    List<ThrowingCallable> failures = new ArrayList<>();
    failures.add(() -> decryptStream(other, env)); // wrong key
    failures.add(() -> decryptChannel(other, env));
    failures.add(
        () ->
            EnvelopeDecryptor.create(DataKeyResolver.of(key))
                .newDecryptingStream(
                    new ByteArrayInputStream(env), EncryptionContext.of("x", "y")));
    failures.add(() -> decryptStream(key, RobustTestSupport.flip(env, env.length - 3))); // tampered
    failures.add(
        () -> decryptStream(key, RobustTestSupport.flip(env, header.payloadOffset() + 60)));
    failures.add(() -> decryptStream(key, Arrays.copyOf(env, env.length - 1))); // truncated
    failures.add(() -> decryptStream(key, Arrays.copyOf(env, header.length() + 100)));
    failures.add(
        () -> decryptStream(key, RobustTestSupport.concat(env, new byte[] {0}))); // extended
    failures.add(() -> decryptChannel(key, RobustTestSupport.flip(env, env.length - 3)));
    failures.add(() -> decryptStream(key, Arrays.copyOf(env, 20)));
    failures.add(() -> decryptStream(key, RobustTestSupport.flip(env, 8)));
    for (ThrowingCallable f : failures) {
      InvalidCiphertextException e = assertInvalid(f);
      assertNoKeyIn(everything(e));
    }
    // misuse: a destroyed key
    DataKey doomed = DataKey.generate();
    byte[] doomedMaterial = doomed.copyKeyMaterial();
    EnvelopeEncryptor doomedEnc = RobustTestSupport.encryptor(doomed);
    doomed.destroy();
    Throwable t1 = catchThrowable(() -> doomedEnc.newEncryptingStream(new ByteArrayOutputStream()));
    Throwable t2 = catchThrowable(() -> EnvelopeEncryptor.builder().dataKey(doomed));
    Throwable t3 = catchThrowable(doomed::copyKeyMaterial);
    for (Throwable t : List.of(t1, t2, t3)) {
      assertThat(t).isNotNull();
      assertNoKeyIn(everything(t));
      assertThat(everything(t)).doesNotContain(HexFormat.of().formatHex(doomedMaterial, 0, 6));
    }
  }

  @Test
  void destroyZeroesTheMaterialAndBlocksEveryUse() throws IOException {
    DataKey k = DataKey.generate();
    EnvelopeEncryptor enc = RobustTestSupport.encryptor(k);
    byte[] env = RobustTestSupport.encrypt(enc, RobustTestSupport.plaintext(10));
    assertThat(k.materialIsZero()).isFalse();
    assertThat(k.isDestroyed()).isFalse();
    k.destroy();
    assertThat(k.materialIsZero()).isTrue();
    assertThat(k.isDestroyed()).isTrue();
    k.destroy(); // idempotent
    assertThat(k.materialIsZero()).isTrue();
    assertThatThrownBy(k::copyKeyMaterial)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(k.idHex());
    assertThatThrownBy(() -> enc.newEncryptingStream(OutputStream.nullOutputStream()))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> enc.newEncryptingInputStream(InputStream.nullInputStream()))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> decryptStream(k, env)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> EnvelopeEncryptor.builder().dataKey(k))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(k.idHex());
    assertThat(k.id()).hasSize(DataKey.ID_LENGTH); // the id is public and stays readable
  }

  @Test
  void equalityIsIdentityAndInputsAreCopied() {
    byte[] id = new byte[DataKey.ID_LENGTH];
    byte[] mat = material.clone();
    DataKey a = DataKey.of(id, mat);
    DataKey b = DataKey.of(id, mat);
    assertThat(a.equals(a)).isTrue(); // reflexive, through DataKey's own equals
    assertThat(a).isNotEqualTo(b);
    assertThat(a.hashCode()).isEqualTo(System.identityHashCode(a));
    mat[0] ^= 1;
    id[0] ^= 1;
    assertThat(a.copyKeyMaterial()).isEqualTo(material);
    assertThat(a.id()).containsOnly(0);
    byte[] copy = a.copyKeyMaterial();
    copy[1] ^= 1;
    assertThat(a.copyKeyMaterial()).isEqualTo(material);
    a.id()[0] = 5;
    assertThat(a.id()).containsOnly(0);
  }

  @Test
  void dataKeyLengthsAreChecked() {
    assertThatThrownBy(() -> DataKey.of(new byte[15], new byte[32])).hasMessageContaining("15");
    assertThatThrownBy(() -> DataKey.of(new byte[16], new byte[31])).hasMessageContaining("31");
    assertThatThrownBy(() -> DataKey.of(new byte[16], new byte[33])).hasMessageContaining("33");
    assertThatThrownBy(() -> DataKey.of(null, new byte[32]))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("id");
    assertThatThrownBy(() -> DataKey.of(new byte[16], null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("material");
  }
}
