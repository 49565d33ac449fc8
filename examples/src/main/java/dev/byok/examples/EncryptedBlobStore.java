package dev.byok.examples;

import dev.byok.Byok;
import dev.byok.EncryptedInputStream;
import dev.byok.EncryptionContext;
import dev.byok.EnvelopeHeader;
import dev.byok.RangePlan;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * Encrypted blobs in an S3 bucket, the way a snapshot-repository plugin stores them: uploads stream
 * through the pull-based encrypting {@link InputStream} with the exact ciphertext length as {@code
 * Content-Length}; plaintext ranges are served by a ranged GET of exactly the ciphertext bytes the
 * {@link RangePlan} names, never the whole object.
 *
 * <p>Thread-safe if the {@link S3Client} is (the AWS SDK's are). The client is the caller's and is
 * not closed here.
 */
public final class EncryptedBlobStore {
  /** Bytes fetched to read a header; larger than any header with a handful of key slots. */
  static final int HEADER_PREFIX = 64 * 1024;

  private final S3Client s3;
  private final String bucket;
  private final Byok byok;

  /**
   * @param s3 the caller's client
   * @param bucket the bucket holding the blobs
   * @param byok encrypts and decrypts
   */
  public EncryptedBlobStore(S3Client s3, String bucket, Byok byok) {
    this.s3 = Objects.requireNonNull(s3, "s3");
    this.bucket = Objects.requireNonNull(bucket, "bucket");
    this.byok = Objects.requireNonNull(byok, "byok");
  }

  /**
   * Encrypts {@code plaintext} while uploading it; nothing is buffered beyond one segment.
   *
   * @param key the object key
   * @param plaintext exactly {@code length} bytes; closed
   * @param length plaintext bytes
   * @param context bound to the blob
   * @return the object's length, which is also the {@code Content-Length} sent
   * @throws IOException if reading the plaintext fails
   */
  // docs:begin blob-store-put
  public long put(String key, InputStream plaintext, long length, EncryptionContext context) throws IOException {
    try (EncryptedInputStream envelope = byok.newEncryptingInputStream(plaintext, length, context)) {
      s3.putObject(
          b -> b.bucket(bucket).key(key).contentLength(envelope.length()),
          RequestBody.fromInputStream(envelope, envelope.length()));
      return envelope.length();
    }
  }
  // docs:end blob-store-put

  /**
   * Downloads and decrypts a whole blob as a stream.
   *
   * @param key the object key
   * @param expected the context the blob must carry
   * @return the plaintext; every byte it returns has been authenticated. Close it.
   * @throws IOException if the download fails
   */
  // docs:begin blob-store-get
  public InputStream get(String key, EncryptionContext expected) throws IOException {
    return byok.newDecryptingStream(s3.getObject(b -> b.bucket(bucket).key(key)), expected);
  }
  // docs:end blob-store-get

  /**
   * Reads a plaintext range with three small requests: a ranged GET of the header prefix, a HEAD
   * for the object's length, and a ranged GET of exactly the segments that cover the range.
   *
   * @param key the object key
   * @param plaintextOffset first plaintext byte
   * @param length plaintext bytes wanted (clamped at the end of the blob)
   * @param expected the context the blob must carry
   * @return the plaintext range, authenticated. Close it.
   * @throws IOException if a download fails
   */
  // docs:begin blob-store-get-range
  public InputStream getRange(String key, long plaintextOffset, long length, EncryptionContext expected)
      throws IOException {
    EnvelopeHeader header = readHeader(key);
    long objectLength = s3.headObject(b -> b.bucket(bucket).key(key)).contentLength();
    RangePlan plan = header.planRange(objectLength, plaintextOffset, length);
    InputStream fetched = plan.ciphertextLength() == 0
        ? InputStream.nullInputStream()
        : s3.getObject(b -> b.bucket(bucket).key(key).range(plan.httpRange()));
    return byok.decryptRange(header, plan, fetched, expected);
  }
  // docs:end blob-store-get-range

  /**
   * Reads a blob's header from a ranged GET of its first {@value #HEADER_PREFIX} bytes (or the
   * whole object if smaller). No KMS call.
   *
   * @param key the object key
   * @return the header
   * @throws IOException if the download fails
   */
  // docs:begin blob-store-read-header
  public EnvelopeHeader readHeader(String key) throws IOException {
    GetObjectRequest request =
        GetObjectRequest.builder().bucket(bucket).key(key).range("bytes=0-" + (HEADER_PREFIX - 1)).build();
    byte[] prefix;
    try (ResponseInputStream<GetObjectResponse> in = s3.getObject(request)) {
      prefix = in.readAllBytes();
    }
    return EnvelopeHeader.read(new ByteArrayInputStream(prefix));
  }
  // docs:end blob-store-read-header
}
