package dev.byok;

import static dev.byok.InvalidCiphertextException.Reason.AUTHENTICATION_FAILED;
import static dev.byok.InvalidCiphertextException.Reason.CONTEXT_MISMATCH;
import static dev.byok.InvalidCiphertextException.Reason.TRUNCATED;
import static dev.byok.RobustTestSupport.FIRST_PLAIN;
import static dev.byok.RobustTestSupport.PLAIN;
import static dev.byok.RobustTestSupport.assertInvalid;
import static dev.byok.RobustTestSupport.plaintext;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * encryptFile / decryptFile write through a temporary file and an atomic move: on any failure there
 * is no target and no temporary file, and an existing target is left byte for byte.
 */
class AtomicFilesTest {
  @TempDir Path sources;
  @TempDir Path targets;

  private final DataKey key = DataKey.generate();
  private final EnvelopeEncryptor enc = RobustTestSupport.encryptor(key);
  private final EnvelopeDecryptor dec = EnvelopeDecryptor.create(DataKeyResolver.of(key));
  private final byte[] pt = plaintext(FIRST_PLAIN + 3 * PLAIN + 77);
  private Path plainFile;
  private Path envelopeFile;

  @BeforeEach
  void writeSources() throws IOException {
    plainFile = Files.write(sources.resolve("data.bin"), pt);
    envelopeFile = sources.resolve("data.byok");
    enc.encryptFile(plainFile, envelopeFile);
  }

  private List<String> listing(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  @Test
  void successfulRoundTripLeavesOnlyTheTargets() throws IOException {
    Path out = targets.resolve("out.bin");
    dec.decryptFile(envelopeFile, out);
    assertThat(Files.readAllBytes(out)).isEqualTo(pt);
    assertThat(Files.size(envelopeFile)).isEqualTo(enc.ciphertextLength(pt.length));
    assertThat(listing(targets)).containsExactly("out.bin");
    assertThat(listing(sources)).containsExactly("data.bin", "data.byok");
  }

  @Test
  void tamperedSourceLeavesNoTargetAndNoTemporaryFile() throws IOException {
    byte[] env = Files.readAllBytes(envelopeFile);
    // the last segment is bad, so earlier segments were already written to the temporary file
    env[env.length - 5] ^= 1;
    Path tampered = Files.write(sources.resolve("tampered.byok"), env);
    assertInvalid(
        AUTHENTICATION_FAILED, () -> dec.decryptFile(tampered, targets.resolve("out.bin")));
    assertThat(listing(targets)).isEmpty();
    Path cut = Files.write(sources.resolve("cut.byok"), Arrays.copyOf(env, env.length - 100));
    assertInvalid(() -> dec.decryptFile(cut, targets.resolve("out.bin")));
    assertThat(listing(targets)).isEmpty();
  }

  @Test
  void missingSourceLeavesNoTargetAndNoTemporaryFile() throws IOException {
    Path missing = sources.resolve("missing");
    assertThatThrownBy(() -> dec.decryptFile(missing, targets.resolve("out.bin")))
        .isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> enc.encryptFile(missing, targets.resolve("out.byok")))
        .isInstanceOf(NoSuchFileException.class);
    assertThat(listing(targets)).isEmpty();
  }

  @Test
  void anExistingTargetIsUntouchedWhenDecryptionFails() throws IOException {
    Path out = targets.resolve("out.bin");
    byte[] previous = plaintext(12_345);
    Files.write(out, previous);
    byte[] env = Files.readAllBytes(envelopeFile);
    Path truncated =
        Files.write(
            sources.resolve("t.byok"), Arrays.copyOf(env, EnvelopeHeader.parse(env).length()));
    assertInvalid(TRUNCATED, () -> dec.decryptFile(truncated, out));
    assertInvalid(
        CONTEXT_MISMATCH, () -> dec.decryptFile(envelopeFile, out, EncryptionContext.of("a", "1")));
    Path other =
        Files.write(
            sources.resolve("other.byok"),
            RobustTestSupport.encrypt(RobustTestSupport.encryptor(DataKey.generate()), pt));
    assertInvalid(
        InvalidCiphertextException.Reason.KEY_COMMITMENT_MISMATCH,
        () -> dec.decryptFile(other, out));
    assertThat(Files.readAllBytes(out)).isEqualTo(previous);
    assertThat(listing(targets)).containsExactly("out.bin");
  }

  @Test
  void successReplacesAnExistingTarget() throws IOException {
    Path out = targets.resolve("out.bin");
    Files.write(out, plaintext(99_999));
    dec.decryptFile(envelopeFile, out, RobustTestSupport.CONTEXT);
    assertThat(Files.readAllBytes(out)).isEqualTo(pt);
    Path env = targets.resolve("again.byok");
    Files.write(env, new byte[] {1, 2, 3});
    enc.encryptFile(out, env);
    assertThat(RobustTestSupport.decryptStream(key, Files.readAllBytes(env))).isEqualTo(pt);
    assertThat(listing(targets)).containsExactly("again.byok", "out.bin");
  }

  @Test
  void aDirectoryAsSourceOrAMissingTargetDirectoryFailCleanly() throws IOException {
    assertThatThrownBy(() -> enc.encryptFile(sources, targets.resolve("dir.byok")))
        .isInstanceOf(IOException.class);
    assertThat(listing(targets)).isEmpty();
    Path missingDir = targets.resolve("no-such-dir").resolve("out.bin");
    assertThatThrownBy(() -> dec.decryptFile(envelopeFile, missingDir))
        .isInstanceOf(NoSuchFileException.class);
    assertThat(listing(targets)).isEmpty();
  }
}
