package dev.byok.kms.local;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;

/**
 * The fake's ciphertext blob, opaque to callers like AWS's: {@code "FKMS" | version 1 | u8 key id
 * length | key id (ASCII) | 32-byte key material id | 12-byte nonce | AES-256-GCM ciphertext and
 * tag}. The associated data is every byte before the ciphertext (so the key id and material id are
 * bound) followed by the canonical encryption context: u16 count, then for each entry in sorted key
 * order u16-length-prefixed UTF-8 key and value. Stateless and thread-safe.
 */
@NullMarked
final class CiphertextBlob {
  static final int MATERIAL_ID_BYTES = 32;
  private static final byte[] MAGIC = {'F', 'K', 'M', 'S'};
  private static final byte VERSION = 1;
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final int MAX_KEY_ID_BYTES = 64;

  /** A blob split into its parts; {@code header} is the blob prefix that goes into the AAD. */
  static final class Parsed {
    final String keyId;
    final byte[] materialId;
    final byte[] header;
    final byte[] nonce;
    final byte[] body;

    private Parsed(String keyId, byte[] materialId, byte[] header, byte[] nonce, byte[] body) {
      this.keyId = keyId;
      this.materialId = materialId;
      this.header = header;
      this.nonce = nonce;
      this.body = body;
    }
  }

  private CiphertextBlob() {}

  static byte[] seal(
      String keyId,
      byte[] materialId,
      byte[] key,
      byte[] plaintext,
      Map<String, String> context,
      SecureRandom random) {
    byte[] id = keyId.getBytes(StandardCharsets.US_ASCII);
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(MAGIC);
    out.write(VERSION);
    out.write(id.length);
    out.writeBytes(id);
    out.writeBytes(materialId);
    out.writeBytes(nonce);
    byte[] header = out.toByteArray();
    try {
      Cipher c = cipher(Cipher.ENCRYPT_MODE, key, nonce, header, context);
      out.writeBytes(c.doFinal(plaintext));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is unavailable", e);
    }
    return out.toByteArray();
  }

  /** {@return the parts, or {@code null} if the blob is not one of ours} */
  static @Nullable Parsed parse(byte[] blob) {
    ByteBuffer b = ByteBuffer.wrap(blob);
    if (b.remaining() < MAGIC.length + 2) {
      return null;
    }
    byte[] magic = new byte[MAGIC.length];
    b.get(magic);
    if (!Arrays.equals(magic, MAGIC) || b.get() != VERSION) {
      return null;
    }
    int idLength = b.get() & 0xff;
    if (idLength == 0
        || idLength > MAX_KEY_ID_BYTES
        || b.remaining() < idLength + MATERIAL_ID_BYTES + NONCE_BYTES + TAG_BITS / 8) {
      return null;
    }
    byte[] id = new byte[idLength];
    b.get(id);
    byte[] materialId = new byte[MATERIAL_ID_BYTES];
    b.get(materialId);
    byte[] nonce = new byte[NONCE_BYTES];
    b.get(nonce);
    byte[] header = Arrays.copyOf(blob, b.position());
    byte[] body = new byte[b.remaining()];
    b.get(body);
    return new Parsed(new String(id, StandardCharsets.US_ASCII), materialId, header, nonce, body);
  }

  /** {@return the plaintext, or {@code null} if authentication fails (tampered, wrong context)} */
  static byte @Nullable [] open(Parsed parsed, byte[] key, Map<String, String> context) {
    try {
      return cipher(Cipher.DECRYPT_MODE, key, parsed.nonce, parsed.header, context)
          .doFinal(parsed.body);
    } catch (AEADBadTagException e) {
      return null;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is unavailable", e);
    }
  }

  private static Cipher cipher(
      int mode, byte[] key, byte[] nonce, byte[] header, Map<String, String> context)
      throws GeneralSecurityException {
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BITS, nonce));
    c.updateAAD(header);
    c.updateAAD(canonicalContext(context));
    return c;
  }

  static byte[] canonicalContext(Map<String, String> context) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TreeMap<String, String> sorted = new TreeMap<>(context);
    writeU16(out, sorted.size());
    for (Map.Entry<String, String> e : sorted.entrySet()) {
      writeString(out, e.getKey());
      writeString(out, e.getValue());
    }
    return out.toByteArray();
  }

  private static void writeString(ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    writeU16(out, b.length);
    out.writeBytes(b);
  }

  private static void writeU16(ByteArrayOutputStream out, int v) {
    if (v > 0xffff) {
      throw new LocalKmsException(
          LocalKmsException.VALIDATION, "encryption context entry too long");
    }
    out.write(v >>> 8);
    out.write(v);
  }
}
