package dev.byok;

import static dev.byok.RobustTestSupport.concat;
import static dev.byok.RobustTestSupport.decryptChannel;
import static dev.byok.RobustTestSupport.decryptStream;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random damage to a small two-segment envelope, biased towards the header: decrypting it through a
 * stream and through a channel either throws {@link InvalidCiphertextException} or, only when the
 * damage stayed inside the unauthenticated key slots, yields exactly the original plaintext. No
 * other exception escapes.
 */
class HeaderMutationProperties {
  private static final DataKey KEY = DataKey.generate();
  private static final byte[] PLAIN =
      RobustTestSupport.plaintext(RobustTestSupport.FIRST_PLAIN + 900);
  private static final byte[] ENVELOPE = RobustTestSupport.envelopeOf(KEY, PLAIN);
  private static final EnvelopeHeader HEADER = EnvelopeHeader.parse(ENVELOPE);

  /** The key slots, after the section's length field: the only bytes no check covers. */
  private static final int SLOTS_START = HEADER.immutableLength() + 4;

  private static final int SLOTS_END = HEADER.payloadOffset();

  enum Kind {
    FLIP,
    OVERWRITE,
    TRUNCATE,
    INSERT,
    DELETE
  }

  record Mutation(Kind kind, int at, byte[] bytes) {
    byte[] apply(byte[] b) {
      int pos = Math.min(at, b.length - 1);
      switch (kind) {
        case FLIP:
          {
            byte[] out = b.clone();
            out[pos] ^= bytes[0] == 0 ? 1 : bytes[0];
            return out;
          }
        case OVERWRITE:
          {
            byte[] out = b.clone();
            System.arraycopy(bytes, 0, out, pos, Math.min(bytes.length, b.length - pos));
            return out;
          }
        case TRUNCATE:
          return Arrays.copyOf(b, pos);
        case INSERT:
          return concat(Arrays.copyOf(b, pos), bytes, Arrays.copyOfRange(b, pos, b.length));
        case DELETE:
          return concat(
              Arrays.copyOf(b, pos),
              Arrays.copyOfRange(b, Math.min(b.length, pos + bytes.length), b.length));
        default:
          throw new AssertionError(kind);
      }
    }

    /** Whether only bytes of the key slots (not authenticated, by design) were changed in place. */
    boolean onlyTouchesSlots() {
      int pos = Math.min(at, ENVELOPE.length - 1);
      int end = kind == Kind.OVERWRITE ? Math.min(ENVELOPE.length, pos + bytes.length) : pos + 1;
      return (kind == Kind.FLIP || kind == Kind.OVERWRITE)
          && pos >= SLOTS_START
          && end <= SLOTS_END;
    }

    @Override
    public String toString() {
      return kind + "@" + at + "[" + bytes.length + " bytes]";
    }
  }

  @Provide
  Arbitrary<Mutation> mutations() {
    int headerLength = SLOTS_END + 40;
    Arbitrary<Integer> at =
        Arbitraries.oneOf(
            Arbitraries.integers().between(0, headerLength + 16),
            Arbitraries.integers().between(0, ENVELOPE.length - 1));
    Arbitrary<byte[]> bytes = Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(24);
    return Combinators.combine(Arbitraries.of(Kind.class), at, bytes).as(Mutation::new);
  }

  @Property(tries = 200)
  void damagedEnvelopeFailsTypedOrIsUntouchedPlaintext(@ForAll("mutations") Mutation m) {
    byte[] damaged = m.apply(ENVELOPE);
    Assume.that(!Arrays.equals(damaged, ENVELOPE));
    check(m, "stream", () -> decryptStream(KEY, damaged));
    check(m, "channel", () -> decryptChannel(KEY, damaged));
  }

  interface Decryption {
    byte[] run() throws Exception;
  }

  private static void check(Mutation m, String path, Decryption d) {
    byte[] out;
    try {
      out = d.run();
    } catch (InvalidCiphertextException | InvalidCiphertextIOException expected) {
      return;
    } catch (Throwable t) {
      throw new AssertionError(
          path + " after " + m + " threw " + t + " instead of InvalidCiphertextException", t);
    }
    assertThat(m.onlyTouchesSlots())
        .as("%s decrypted after %s, which touched authenticated bytes", path, m)
        .isTrue();
    assertThat(out).as("%s after %s", path, m).isEqualTo(PLAIN);
  }
}
