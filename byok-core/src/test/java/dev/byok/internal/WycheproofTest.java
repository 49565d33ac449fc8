package dev.byok.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import org.junit.jupiter.api.Test;

/**
 * Wycheproof known-answer vectors through our own primitives: AES-256-GCM (96-bit IV, 128-bit tag)
 * through {@link SegmentCipher}, HKDF-SHA256 through {@link Kdf#hkdfSha256}.
 */
class WycheproofTest {
  private static final HexFormat HEX = HexFormat.of();

  /** A Wycheproof file, copied (with its Apache-2.0 LICENSE) into the test resources. */
  static JsonObject vectors(String name) throws IOException {
    String resource = "/wycheproof/" + name;
    try (InputStream in =
        Objects.requireNonNull(
            WycheproofTest.class.getResourceAsStream(resource), "test resource " + resource)) {
      return JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8))
          .getAsJsonObject();
    }
  }

  private static byte[] hex(JsonObject test, String field) {
    return HEX.parseHex(test.get(field).getAsString());
  }

  private static String describe(JsonObject test) {
    return "tcId " + test.get("tcId").getAsInt() + " (" + test.get("comment").getAsString() + ")";
  }

  /**
   * A 12-byte IV is {@code prefix(7) || uint32 segment || flag}: the public API covers flag 0 and
   * 1, the package-private overload any other flag byte through the same JCA call.
   */
  @Test
  void aesGcmThroughSegmentCipher() throws Exception {
    int throughPublicApi = 0;
    int throughFlagHook = 0;
    int invalidRun = 0;
    int skippedForAad = 0;
    for (JsonElement g : vectors("aes_gcm_test.json").getAsJsonArray("testGroups")) {
      JsonObject group = g.getAsJsonObject();
      if (group.get("keySize").getAsInt() != 256
          || group.get("ivSize").getAsInt() != 96
          || group.get("tagSize").getAsInt() != 128) {
        continue;
      }
      for (JsonElement t : group.getAsJsonArray("tests")) {
        JsonObject test = t.getAsJsonObject();
        if (hex(test, "aad").length > 0) {
          skippedForAad++; // SegmentCipher authenticates no associated data
          continue;
        }
        byte[] iv = hex(test, "iv");
        byte[] msg = hex(test, "msg");
        byte[] ctAndTag = concat(hex(test, "ct"), hex(test, "tag"));
        SegmentCipher cipher = new SegmentCipher(hex(test, "key"), Arrays.copyOf(iv, 7));
        long segment =
            ((iv[7] & 0xffL) << 24)
                | ((iv[8] & 0xff) << 16)
                | ((iv[9] & 0xff) << 8)
                | (iv[10] & 0xff);
        byte flag = iv[11];
        boolean publicApi = flag == 0 || flag == 1;
        if (publicApi) {
          throughPublicApi++;
        } else {
          throughFlagHook++;
        }
        byte[] out = new byte[ctAndTag.length + 16];
        String result = test.get("result").getAsString();
        if (result.equals("valid")) {
          int n =
              publicApi
                  ? decrypt(cipher, segment, flag == 1, ctAndTag, out)
                  : decrypt(cipher, segment, flag, ctAndTag, out);
          assertThat(Arrays.copyOf(out, n)).as(describe(test)).isEqualTo(msg);
          byte[] enc = new byte[msg.length + 16];
          int m =
              publicApi
                  ? cipher.encrypt(segment, flag == 1, msg, 0, msg.length, enc, 0)
                  : cipher.encrypt(segment, flag, msg, 0, msg.length, enc, 0);
          assertThat(Arrays.copyOf(enc, m)).as(describe(test)).isEqualTo(ctAndTag);
        } else {
          assertThat(result).as(describe(test)).isEqualTo("invalid");
          invalidRun++;
          assertThatThrownBy(
                  () -> {
                    if (publicApi) {
                      decrypt(cipher, segment, flag == 1, ctAndTag, out);
                    } else {
                      decrypt(cipher, segment, flag, ctAndTag, out);
                    }
                  })
              .as(describe(test))
              .isInstanceOf(AEADBadTagException.class);
          assertThat(out).as("nothing released for " + describe(test)).containsOnly(0);
        }
      }
    }
    System.out.printf(
        "Wycheproof AES-GCM: %d vectors through SegmentCipher (%d via the public flag API, %d via the"
            + " flag-byte hook, %d invalid), %d skipped for non-empty AAD%n",
        throughPublicApi + throughFlagHook,
        throughPublicApi,
        throughFlagHook,
        invalidRun,
        skippedForAad);
    assertThat(throughPublicApi).isPositive();
    assertThat(throughFlagHook).isPositive();
    assertThat(invalidRun).isPositive();
  }

  private static int decrypt(SegmentCipher c, long segment, boolean last, byte[] in, byte[] out)
      throws AEADBadTagException {
    return c.decrypt(segment, last, in, 0, in.length, out, 0);
  }

  private static int decrypt(SegmentCipher c, long segment, byte flag, byte[] in, byte[] out)
      throws AEADBadTagException {
    return c.decrypt(segment, flag, in, 0, in.length, out, 0);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  /** Every vector of the file: valid ones give the expected OKM, invalid ones are refused. */
  @Test
  void hkdfSha256() throws IOException {
    JsonObject file = vectors("hkdf_sha256_test.json");
    assertThat(file.get("algorithm").getAsString()).isEqualTo("HKDF-SHA-256");
    int valid = 0;
    int invalid = 0;
    for (JsonElement g : file.getAsJsonArray("testGroups")) {
      for (JsonElement t : g.getAsJsonObject().getAsJsonArray("tests")) {
        JsonObject test = t.getAsJsonObject();
        byte[] ikm = hex(test, "ikm");
        byte[] salt = hex(test, "salt");
        byte[] info = hex(test, "info");
        int size = test.get("size").getAsInt();
        String result = test.get("result").getAsString();
        if (result.equals("valid")) {
          valid++;
          assertThat(Kdf.hkdfSha256(ikm, salt, info, size))
              .as(describe(test))
              .isEqualTo(hex(test, "okm"));
        } else {
          assertThat(result).as(describe(test)).isEqualTo("invalid");
          invalid++;
          assertThatThrownBy(() -> Kdf.hkdfSha256(ikm, salt, info, size))
              .as(describe(test))
              .isInstanceOf(IllegalArgumentException.class)
              .hasMessageContaining("was " + size);
        }
      }
    }
    System.out.printf("Wycheproof HKDF-SHA256: %d valid, %d invalid vectors%n", valid, invalid);
    assertThat(valid + invalid).isEqualTo(file.get("numberOfTests").getAsInt());
    assertThat(invalid).isPositive();
  }
}
