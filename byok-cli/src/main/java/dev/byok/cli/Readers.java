package dev.byok.cli;

import dev.byok.Byok;
import dev.byok.EnvelopeHeader;
import dev.byok.spi.KeyProvider;
import java.util.ArrayList;
import java.util.List;
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

  @Override
  public void close() {
    opened.forEach(Byok::close);
    opened.clear();
  }
}
