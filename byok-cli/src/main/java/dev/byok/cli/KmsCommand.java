package dev.byok.cli;

import java.io.PrintStream;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.AliasListEntry;
import software.amazon.awssdk.services.kms.model.KeyMetadata;
import software.amazon.awssdk.services.kms.model.KmsException;

/**
 * {@code byok kms}: runs the local test KMS ({@code serve}, see {@link KmsServeCommand}) and
 * administers keys — create, alias, disable, enable, schedule and cancel deletion, rotate,
 * describe. The admin subcommands use the plain AWS SDK client of {@link KmsOptions}, so the same
 * command lines work against real AWS KMS (no {@code --endpoint}; the SDK's credentials and Region)
 * and against {@code byok kms serve}. Keys are named as everywhere in the CLI: {@code
 * aws-kms://ARN}, a bare ARN, {@code alias/NAME} or a key id.
 */
@NullMarked
@Command(
    name = "kms",
    description = {
      "Run a local test KMS, and administer keys (local or AWS KMS: same flags).",
      "Try: byok kms serve, then in another shell: byok kms create-key"
    },
    subcommands = {
      KmsServeCommand.class,
      KmsCommand.CreateKey.class,
      KmsCommand.Alias.class,
      KmsCommand.Describe.class,
      KmsCommand.Disable.class,
      KmsCommand.Enable.class,
      KmsCommand.ScheduleDeletion.class,
      KmsCommand.CancelDeletion.class,
      KmsCommand.Rotate.class
    })
final class KmsCommand extends CliCommand {
  @Override
  public Integer call() {
    throw new CliException(
        ExitCodes.USAGE,
        "say what to do: byok kms serve | create-key | alias | describe | "
            + "disable | enable | schedule-deletion | cancel-deletion | rotate (see byok kms --help)");
  }

  /** Shared by the admin subcommands: the KMS flags, one client per run, SDK errors translated. */
  abstract static class Admin extends CliCommand {
    @Mixin KmsOptions kms;

    /**
     * @return the key whose ARN decides the client's Region, or {@code null} for the default Region
     */
    abstract @Nullable String regionKey();

    /**
     * @param client the KMS client (closed after)
     * @param out where the result goes
     * @return the exit code
     */
    abstract int run(KmsClient client, PrintStream out);

    @Override
    public final Integer call() {
      CliIo io = io();
      try (KmsClient client = kms.client(io, regionKey())) {
        int code = run(client, io.out());
        io.out().flush();
        return code;
      }
    }

    /** Runs one SDK call; its failure becomes a {@link CliException} saying what to do. */
    final <T> T call(String operation, String key, Supplier<T> body) {
      try {
        return body.get();
      } catch (SdkException e) {
        throw KmsErrors.translate(kms, io(), operation, key, e);
      }
    }

    final KeyMetadata describe(KmsClient client, String key) {
      return call("DescribeKey", key, () -> client.describeKey(b -> b.keyId(key))).keyMetadata();
    }

    /**
     * @return the key's metadata, or {@code null} if it (or the alias) does not exist
     */
    final @Nullable KeyMetadata describeIfExists(KmsClient client, String key) {
      try {
        return client.describeKey(b -> b.keyId(key)).keyMetadata();
      } catch (KmsException e) {
        if (e.awsErrorDetails() != null
            && "NotFoundException".equals(e.awsErrorDetails().errorCode())) {
          return null;
        }
        throw KmsErrors.translate(kms, io(), "DescribeKey", key, e);
      } catch (SdkException e) {
        throw KmsErrors.translate(kms, io(), "DescribeKey", key, e);
      }
    }
  }

  /** Base of the subcommands that act on one key. */
  abstract static class OneKey extends Admin {
    @Parameters(
        index = "0",
        paramLabel = "KEY",
        description = "the key: aws-kms://ARN, an ARN, alias/NAME or a key id")
    String keyArg;

    final String key() {
      return KeyRefs.parse(keyArg).keyId();
    }

    @Override
    final @Nullable String regionKey() {
      return key();
    }
  }

  /**
   * Base of the subcommands that change one key's state. EnableKey, DisableKey, the deletion calls
   * and RotateKeyOnDemand take a key id or ARN, not an alias: an alias is resolved first.
   */
  abstract static class KeyChange extends OneKey {
    @Override
    final int run(KmsClient client, PrintStream out) {
      check();
      String key = key();
      change(client, key, isAlias(key) ? describe(client, key).arn() : key, out);
      return ExitCodes.OK;
    }

    /** Validates flags before any KMS call; throws {@link CliException} (usage) if one is bad. */
    void check() {}

    /**
     * @param client the KMS client
     * @param key the key as the user named it (for advice)
     * @param target its key id or ARN (for the call)
     * @param out where the result goes
     */
    abstract void change(KmsClient client, String key, String target, PrintStream out);
  }

  /** {@code byok kms create-key}: prints the new key's ARN, alone on stdout. */
  @Command(
      name = "create-key",
      description = {
        "Create an encryption key and print its ARN.",
        "The ARN is alone on stdout, for scripts: KEY=$(byok kms create-key --alias alias/app)"
      })
  static final class CreateKey extends Admin {
    @Option(names = "--description", paramLabel = "TEXT", description = "what the key is for")
    @Nullable String description;

    @Option(
        names = "--alias",
        paramLabel = "alias/NAME",
        description = "also give the key this alias")
    @Nullable String alias;

    @Override
    @Nullable String regionKey() {
      return null;
    }

    @Override
    int run(KmsClient client, PrintStream out) {
      String name = alias == null ? null : aliasName(alias);
      if (name != null && describeIfExists(client, name) != null) {
        throw new CliException(
            ExitCodes.USAGE,
            name
                + " already exists; pick another name, or create the key "
                + "without --alias and move the alias with `byok kms alias "
                + name
                + " KEY`");
      }
      KeyMetadata m =
          call(
                  "CreateKey",
                  "a new key",
                  () ->
                      client.createKey(
                          b -> {
                            if (description != null) {
                              b.description(description);
                            }
                          }))
              .keyMetadata();
      out.println(m.arn());
      out.flush();
      if (name != null) {
        try {
          call(
              "CreateAlias",
              name,
              () -> client.createAlias(b -> b.aliasName(name).targetKeyId(m.keyId())));
        } catch (CliException e) {
          throw new CliException(
              e.exitCode(),
              "created key " + m.arn() + ", but not its alias: " + Failures.message(e),
              e.getCause());
        }
        io().err().println(name + " -> " + m.arn());
      }
      return ExitCodes.OK;
    }
  }

  /** {@code byok kms alias}: creates an alias, or moves an existing one to another key. */
  @Command(
      name = "alias",
      description = {
        "Point an alias at a key (create it, or move it).",
        "Moving an alias is manual rotation: new data is encrypted under the new key; old data",
        "keeps needing the old one."
      })
  static final class Alias extends Admin {
    @Parameters(index = "0", paramLabel = "alias/NAME", description = "the alias")
    String aliasArg;

    @Parameters(
        index = "1",
        paramLabel = "KEY",
        description = "the key it should point at (ARN, key id or alias)")
    String keyArg;

    @Override
    @Nullable String regionKey() {
      return KeyRefs.parse(keyArg).keyId();
    }

    @Override
    int run(KmsClient client, PrintStream out) {
      String name = aliasName(aliasArg);
      String key = KeyRefs.parse(keyArg).keyId();
      KeyMetadata target = describe(client, key);
      KeyMetadata current = describeIfExists(client, name);
      String previous = current == null ? null : current.arn();
      if (previous == null) {
        call(
            "CreateAlias",
            name,
            () -> client.createAlias(b -> b.aliasName(name).targetKeyId(target.keyId())));
        out.println(name + " -> " + target.arn() + " (created)");
      } else if (previous.equals(target.arn())) {
        out.println(name + " -> " + target.arn() + " (unchanged)");
      } else {
        call(
            "UpdateAlias",
            name,
            () -> client.updateAlias(b -> b.aliasName(name).targetKeyId(target.keyId())));
        out.println(name + " -> " + target.arn() + " (moved from " + previous + ")");
        out.println(
            "new data under "
                + name
                + " is encrypted with the new key; data written before still needs "
                + previous
                + " (keep it enabled, or `byok rewrap` that data)");
      }
      return ExitCodes.OK;
    }
  }

  /** {@code byok kms describe}: state, ARN, deletion date, aliases. */
  @Command(name = "describe", description = "Show a key's ARN, state, deletion date and aliases.")
  static final class Describe extends OneKey {
    @Override
    int run(KmsClient client, PrintStream out) {
      KeyMetadata m = describe(client, key());
      out.println("key:          " + m.arn());
      out.println("key id:       " + m.keyId());
      out.println("state:        " + m.keyStateAsString() + advice(m.keyStateAsString()));
      if (m.deletionDate() != null) {
        out.println(
            "deletion on:  "
                + instant(m.deletionDate())
                + " (cancel before then: byok kms cancel-deletion "
                + m.arn()
                + ")");
      }
      if (m.description() != null && !m.description().isEmpty()) {
        out.println("description:  " + m.description());
      }
      if (m.creationDate() != null) {
        out.println("created:      " + instant(m.creationDate()));
      }
      if (m.currentKeyMaterialId() != null) {
        out.println(
            "material id:  " + m.currentKeyMaterialId() + " (an identifier, not the material)");
      }
      out.println("aliases:      " + aliases(client, m));
      return ExitCodes.OK;
    }

    private static String advice(@Nullable String state) {
      if (state == null) {
        return "";
      }
      return switch (state) {
        case "Disabled" ->
            " (nothing can be encrypted or decrypted under it until `byok kms enable`)";
        case "PendingDeletion" ->
            " (nothing can be decrypted under it; after the deletion date, never again)";
        default -> "";
      };
    }

    private static String aliases(KmsClient client, KeyMetadata m) {
      try {
        List<AliasListEntry> list = client.listAliases(b -> b.keyId(m.keyId())).aliases();
        return list.isEmpty()
            ? "(none)"
            : list.stream()
                .map(AliasListEntry::aliasName)
                .sorted()
                .collect(Collectors.joining(", "));
      } catch (SdkException e) {
        return "(could not list: " + e.getClass().getSimpleName() + ")";
      }
    }
  }

  /** {@code byok kms disable}. */
  @Command(
      name = "disable",
      description = {
        "Disable a key.",
        "Nothing can be encrypted or decrypted under it until it is enabled again."
      })
  static final class Disable extends KeyChange {
    @Override
    void change(KmsClient client, String key, String target, PrintStream out) {
      call("DisableKey", key, () -> client.disableKey(b -> b.keyId(target)));
      out.println(
          "disabled "
              + target
              + "; data under it cannot be read until `byok kms enable "
              + key
              + "`");
    }
  }

  /** {@code byok kms enable}. */
  @Command(name = "enable", description = "Enable a disabled key.")
  static final class Enable extends KeyChange {
    @Override
    void change(KmsClient client, String key, String target, PrintStream out) {
      call("EnableKey", key, () -> client.enableKey(b -> b.keyId(target)));
      out.println("enabled " + target);
    }
  }

  /** {@code byok kms schedule-deletion}: prints the deletion date. */
  @Command(
      name = "schedule-deletion",
      description = {
        "Schedule a key for deletion (prints the date).",
        "Until the date it can be cancelled; after it, everything encrypted under the key is",
        "lost for good."
      })
  static final class ScheduleDeletion extends KeyChange {
    @Option(
        names = "--days",
        paramLabel = "DAYS",
        defaultValue = "30",
        description = "waiting period, 7 to 30 days (default: ${DEFAULT-VALUE}, AWS's default)")
    int days;

    @Override
    void check() {
      if (days < 7 || days > 30) {
        throw new CliException(
            ExitCodes.USAGE,
            "--days must be 7 to 30 (the waiting period AWS KMS allows), was " + days);
      }
    }

    @Override
    void change(KmsClient client, String key, String target, PrintStream out) {
      var r =
          call(
              "ScheduleKeyDeletion",
              key,
              () -> client.scheduleKeyDeletion(b -> b.keyId(target).pendingWindowInDays(days)));
      Instant date = r.deletionDate();
      out.println(
          or(r.keyId(), target)
              + " is scheduled for deletion on "
              + (date == null ? "(date not reported)" : instant(date))
              + " ("
              + days
              + " days)");
      out.println(
          "until then nothing can be decrypted under it, and `byok kms cancel-deletion "
              + key
              + "` keeps it; after that date, data under it is lost for good");
    }
  }

  /** {@code byok kms cancel-deletion}: AWS leaves the key disabled afterwards. */
  @Command(
      name = "cancel-deletion",
      description = {
        "Cancel a scheduled deletion.",
        "The key stays disabled (as AWS KMS does it): enable it to use it again."
      })
  static final class CancelDeletion extends KeyChange {
    @Override
    void change(KmsClient client, String key, String target, PrintStream out) {
      var r = call("CancelKeyDeletion", key, () -> client.cancelKeyDeletion(b -> b.keyId(target)));
      out.println("cancelled the deletion of " + or(r.keyId(), target));
      out.println(
          "the key is now Disabled (AWS KMS leaves it so); to use it again: byok kms enable "
              + key);
    }
  }

  /** {@code byok kms rotate}: RotateKeyOnDemand. */
  @Command(
      name = "rotate",
      description = {
        "Rotate a key's material now (same ARN).",
        "Old data still decrypts; new data keys are wrapped with the new material."
      })
  static final class Rotate extends KeyChange {
    @Override
    void change(KmsClient client, String key, String target, PrintStream out) {
      var r = call("RotateKeyOnDemand", key, () -> client.rotateKeyOnDemand(b -> b.keyId(target)));
      out.println(
          "rotating the key material of "
              + or(r.keyId(), target)
              + "; old data still decrypts (see `byok kms describe "
              + key
              + "` for the current material)");
    }
  }

  static boolean isAlias(String keyId) {
    return keyId.startsWith("alias/") || keyId.contains(":alias/");
  }

  /**
   * @return the alias name, checked to be {@code alias/NAME}
   */
  static String aliasName(String arg) {
    String name = KeyRefs.parse(arg).keyId();
    if (!name.startsWith("alias/") || name.length() == "alias/".length()) {
      throw new CliException(
          ExitCodes.USAGE, "'" + arg + "' is not an alias name; write alias/NAME");
    }
    if (name.startsWith("alias/aws/")) {
      throw new CliException(
          ExitCodes.USAGE, name + ": the alias/aws/ prefix is reserved for AWS managed keys");
    }
    return name;
  }

  private static String or(@Nullable String value, String fallback) {
    return value == null ? fallback : value;
  }

  private static String instant(Instant t) {
    return t.truncatedTo(ChronoUnit.SECONDS).toString();
  }
}
