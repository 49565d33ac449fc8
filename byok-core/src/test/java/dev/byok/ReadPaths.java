package dev.byok;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.jspecify.annotations.Nullable;

/**
 * Every way byok reads a blob, each reduced to one comparable {@link #outcome}: the plaintext's
 * digest, or the reason of the rejection. The validity rule of docs/format.md section 5 says that a
 * blob with one malformation gets the same outcome on every path.
 */
enum ReadPaths {
  STREAM_BULK,
  STREAM_SMALL_READS,
  STREAM_SINGLE_BYTE,
  CHANNEL,
  CHANNEL_BACKWARDS,
  RANGE,
  FILE;

  /** Where {@link #FILE} writes; set by the test that uses it. */
  static @Nullable Path fileDir;

  /**
   * Decrypts {@code blob} on this path.
   *
   * @return "OK " + the plaintext's SHA-256, or the rejection's reason name
   * @throws AssertionError if the path fails in any other way, or a stream or channel method
   *     reports a rejection other than as an {@link InvalidCiphertextIOException}
   */
  String outcome(DataKey key, byte[] blob, @Nullable EncryptionContext expected, byte[] ad) {
    EnvelopeDecryptor d = EnvelopeDecryptor.create(DataKeyResolver.of(key));
    try {
      return "OK " + sha256(decrypt(d, blob, expected, ad));
    } catch (InvalidCiphertextException e) {
      return e.reason().name();
    } catch (InvalidCiphertextIOException e) {
      if (this == FILE) {
        throw new AssertionError("decryptFile must report the rejection itself", e);
      }
      if (e.getCause().reason() != e.reason()) {
        throw new AssertionError("reason differs from its cause's", e);
      }
      return e.reason().name();
    } catch (IOException | RuntimeException e) {
      throw new AssertionError(this + " failed untyped: " + e, e);
    }
  }

  /**
   * Decrypts {@code blob} on this path.
   *
   * @throws InvalidCiphertextException if rejected before a stream exists
   * @throws InvalidCiphertextIOException if rejected by a stream or channel method
   */
  byte[] decrypt(EnvelopeDecryptor d, byte[] blob, @Nullable EncryptionContext expected, byte[] ad)
      throws IOException {
    switch (this) {
      case STREAM_BULK:
      case STREAM_SMALL_READS:
      case STREAM_SINGLE_BYTE:
        try (InputStream in = d.newDecryptingStream(new ByteArrayInputStream(blob), expected, ad)) {
          return readAll(in);
        }
      case CHANNEL:
      case CHANNEL_BACKWARDS:
        try (SeekableByteChannel ch =
            d.newDecryptingChannel(new RobustTestSupport.ByteArrayChannel(blob), expected, ad)) {
          return readChannel(ch);
        }
      case RANGE:
        {
          EnvelopeHeader header = EnvelopeHeader.parse(blob);
          RangePlan plan = header.planRange(blob.length, 0, Long.MAX_VALUE);
          InputStream fetched =
              new ByteArrayInputStream(
                  blob, (int) plan.ciphertextOffset(), (int) plan.ciphertextLength());
          try (InputStream in = d.decryptRange(header, plan, fetched, expected, ad)) {
            return in.readAllBytes();
          }
        }
      case FILE:
        {
          Path dir = java.util.Objects.requireNonNull(fileDir, "fileDir");
          Path source = Files.createTempFile(dir, "blob", ".byok");
          Path target = dir.resolve(source.getFileName() + ".out");
          Files.write(source, blob);
          try {
            d.decryptFile(source, target, expected, ad);
            return Files.readAllBytes(target);
          } catch (InvalidCiphertextException e) {
            if (Files.exists(target)) {
              throw new AssertionError("a rejected blob left " + target, e);
            }
            throw e;
          } finally {
            Files.deleteIfExists(target);
            Files.delete(source);
          }
        }
    }
    throw new AssertionError(this);
  }

  private byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (this == STREAM_SINGLE_BYTE) {
      int b;
      while ((b = in.read()) >= 0) {
        out.write(b);
      }
    } else {
      byte[] buf = new byte[this == STREAM_BULK ? 1 << 20 : 1000];
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
      }
    }
    return out.toByteArray();
  }

  private byte[] readChannel(SeekableByteChannel ch) throws IOException {
    long size = ch.size();
    ByteBuffer out = ByteBuffer.allocate((int) size);
    if (this == CHANNEL_BACKWARDS) {
      // from the last 1000-byte block to the first: random access, the final segment first
      for (long at = (size - 1) / 1000 * 1000; at >= 0 && size > 0; at -= 1000) {
        ByteBuffer block = out.duplicate();
        block.position((int) at).limit((int) Math.min(size, at + 1000));
        ch.position(at);
        while (block.hasRemaining()) {
          if (ch.read(block) < 0) {
            throw new AssertionError("early end at " + block.position());
          }
        }
      }
    } else {
      while (out.hasRemaining() && ch.read(out) >= 0) {
        // read on
      }
    }
    ch.position(size);
    if (ch.read(ByteBuffer.allocate(1)) != -1) {
      throw new AssertionError("bytes past size()");
    }
    return out.array();
  }

  static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
