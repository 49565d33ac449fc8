package dev.byok.cli;

import dev.byok.Byok;
import dev.byok.EnvelopeHeader;
import dev.byok.KeyRef;
import dev.byok.KeySlot;
import dev.byok.kms.aws.AwsKmsProvider;
import dev.byok.spi.KeyProvider;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.NullMarked;
import picocli.CommandLine.Option;

/**
 * Which keys a reading command trusts: {@code --key} (repeatable; ARNs, aliases or key ids) or
 * {@code --any-key} (whatever key a blob's header names). byok never calls a KMS key the caller did
 * not allow, so one of the two is required. A picocli mixin; not thread-safe.
 */
@NullMarked
final class ReadKeyOptions {
  @Option(
      names = "--key",
      paramLabel = "KEY",
      description =
          "a key trusted to unwrap the data: aws-kms://ARN, an alias (alias/name) or key id; repeatable")
  List<String> keys = new ArrayList<>();

  @Option(
      names = "--any-key",
      description =
          "trust whatever key each blob's header names (convenient, but lets a planted blob make "
              + "byok call a KMS key of the planter's choice)")
  boolean anyKey;

  /**
   * @throws CliException (usage) unless exactly one of --key / --any-key was given
   */
  void check() {
    if (keys.isEmpty() && !anyKey) {
      throw new CliException(
          ExitCodes.USAGE,
          "say which keys you trust: --key KEY (repeatable; see `byok inspect` for a blob's keys) or --any-key");
    }
    if (!keys.isEmpty() && anyKey) {
      throw new CliException(ExitCodes.USAGE, "give --key or --any-key, not both");
    }
  }

  /**
   * @return whether one {@link Byok} can read every blob ({@code --key}), or it depends on each
   *     header
   */
  boolean fixed() {
    return !anyKey;
  }

  /**
   * Call after {@link #check()} ({@link Readers} does).
   *
   * @param provider the KMS provider (not closed by the result)
   * @param header the blob's header; used only with {@code --any-key}
   * @return a reader trusting the configured keys
   */
  Byok reader(KeyProvider provider, EnvelopeHeader header) {
    Byok.Builder b = Byok.builder().provider(provider);
    if (anyKey) {
      List<KeySlot> slots = header.keySlots();
      Readers.requireReadableSlot(header);
      KeySlot first =
          slots.stream()
              .filter(s -> s.providerId().equals(AwsKmsProvider.PROVIDER_ID))
              .findFirst()
              .orElseThrow();
      b.encryptUnder(KeyRef.of(first.providerId(), first.keyArn()));
      b.allowDecryptWith(slots.stream().map(KeySlot::keyArn).toArray(String[]::new));
    } else {
      for (String k : keys) {
        KeyRef ref = KeyRefs.parse(k);
        b.encryptUnder(ref);
        if (KeyRefs.isKeyArn(ref.keyId())) {
          b.allowDecryptWith(ref.keyId());
        }
      }
    }
    return b.build();
  }
}
