package dev.byok.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.crypto.tink.subtle.Hkdf;
import java.security.GeneralSecurityException;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Our HKDF-SHA256 ({@code javax.crypto.Mac}) gives the same bytes as Tink's {@link Hkdf} for random
 * inputs: empty and long (over the 64-byte HMAC block) salts, any ikm and info, every output length
 * from one byte to the RFC 5869 limit.
 */
class HkdfProperties {
  @Property(tries = 300)
  void sameOutputAsTink(
      @ForAll @Size(max = 100) byte[] ikm,
      @ForAll @Size(max = 150) byte[] salt,
      @ForAll @Size(max = 150) byte[] info,
      @ForAll @IntRange(min = 1, max = 255 * 32) int length)
      throws GeneralSecurityException {
    assertThat(Kdf.hkdfSha256(ikm, salt, info, length))
        .isEqualTo(Hkdf.computeHkdf("HMACSHA256", ikm, salt, info, length));
  }

  /** The 32-byte derivations byok makes (payload key, commitment key) with 32-byte inputs. */
  @Property(tries = 200)
  void sameOutputAsTinkForByokShapes(
      @ForAll @Size(32) byte[] dek,
      @ForAll @Size(max = 32) byte[] salt,
      @ForAll @Size(max = 600) byte[] header)
      throws GeneralSecurityException {
    assertThat(Kdf.hkdfSha256(dek, salt, header, 32))
        .isEqualTo(Hkdf.computeHkdf("HMACSHA256", dek, salt, header, 32));
  }
}
