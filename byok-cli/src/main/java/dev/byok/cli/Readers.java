package dev.byok.cli;

import dev.byok.Byok;
import dev.byok.EnvelopeHeader;
import dev.byok.KeySlot;
import dev.byok.kms.aws.AwsKmsProvider;
import dev.byok.spi.KeyProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;

/**
 * The {@link Byok} instances a reading command decrypts with: one shared instance for {@code --key}
 * (so its data-key cache serves every blob), one per blob for {@code --any-key}. Closes them all.
 * Not thread-safe.
 */
@NullMarked
final class Readers implements AutoCloseable {
  private final ReadKeyOptions trust;
  private final KeyProvider provider;
  private final List<Byok> opened = new ArrayList<>();
  private @Nullable Byok shared;

  Readers(ReadKeyOptions trust, KeyProvider provider) {
    trust.check();
    this.trust = trust;
    this.provider = provider;
  }

  /**
   * @return a reader for the blob with this header
   */
  Byok forHeader(EnvelopeHeader header) {
    if (trust.fixed() && shared != null) {
      return shared;
    }
    Byok b = trust.reader(provider, header);
    opened.add(b);
    if (trust.fixed()) {
      shared = b;
    }
    return b;
  }

  /**
   * The CLI reads through AWS KMS only: a blob none of whose key slots names {@code aws-kms} cannot
   * be read by it. Slots are outside the authenticated header, so this is what a damaged slot (one
   * flipped bit in the provider id) looks like; it is an input problem, not a usage error.
   *
   * @throws CliException (invalid blob, exit 3) if no slot names AWS KMS
   */
  static void requireReadableSlot(EnvelopeHeader header) {
    List<KeySlot> slots = header.keySlots();
    if (slots.stream().anyMatch(s -> s.providerId().equals(AwsKmsProvider.PROVIDER_ID))) {
      return;
    }
    throw new CliException(
        ExitCodes.INVALID_BLOB,
        "no key slot of the blob names AWS KMS (slots name "
            + slots.stream()
                .map(s -> "'" + s.providerId() + "'")
                .distinct()
                .collect(Collectors.joining(", "))
            + "): the blob is damaged, or was written through a key provider this tool does not"
            + " speak (see byok inspect)");
  }

  @Override
  public void close() {
    opened.forEach(Byok::close);
    opened.clear();
  }
}
