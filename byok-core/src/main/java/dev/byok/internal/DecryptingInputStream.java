package dev.byok.internal;

import dev.byok.InvalidCiphertextException;
import dev.byok.InvalidCiphertextException.Reason;
import dev.byok.InvalidCiphertextIOException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Decrypts a payload segment by segment and releases only bytes of segments that have
 * authenticated. Two modes: <em>whole stream</em> (reads {@value #LOOK_AHEAD} bytes ahead to learn
 * which segment is the last and whether what follows it can be a final segment at all, so that it
 * applies the same length rule as the random-access reader), and <em>range</em> (segments {@code
 * first..last} of a blob whose segment count is known, as fetched by a ranged GET, with the
 * plaintext trimmed to the requested range).
 *
 * <p>Buffers are sized to what arrives: the ciphertext buffer starts small and grows to a segment
 * only when a segment is that long, and the plaintext buffer of a final segment is that segment's
 * length, so a small blob costs a small blob's memory.
 *
 * <p>Failures are {@link InvalidCiphertextIOException}s carrying the {@link
 * InvalidCiphertextException}. Any failure is sticky: every later read throws again (an {@code
 * InvalidCiphertextIOException} after a ciphertext failure, an {@code IOException} carrying the
 * first failure after a failure of the source). Not thread-safe.
 */
public final class DecryptingInputStream extends InputStream {
  /**
   * First size of the ciphertext buffer; it grows to a segment plus the look-ahead when a segment
   * needs it.
   */
  static final int INITIAL_BUFFER = 4096;

  /**
   * Bytes read beyond a segment: a tag plus one byte, the shortest possible later final segment.
   */
  static final int LOOK_AHEAD = SegmentLayout.TAG_LENGTH + 1;

  private final InputStream source;
  private final SegmentDecrypter decrypter;
  private final SegmentLayout layout;
  private byte[] ct; // up to a segment + 1 look-ahead byte
  private int ctFill;
  private byte @Nullable [] plain; // allocated by the first read smaller than a segment
  private int segmentLength; // ciphertext bytes of the segment in ct, set by readSegment
  private boolean segmentLast;
  private int plainPos;
  private int plainLim;
  private long segment;
  private boolean finished;
  private boolean closed;
  private @Nullable InvalidCiphertextException failure;
  private @Nullable Throwable otherFailure; // a failure of the source or the JVM: sticky as well
  // range mode (rangeLast >= 0)
  private final long rangeLast;
  private final long finalSegment;
  private final int finalSegmentLength;
  private long skip;
  private long remaining;

  private DecryptingInputStream(
      InputStream source,
      SegmentDecrypter decrypter,
      SegmentLayout layout,
      long first,
      long rangeLast,
      long finalSegment,
      int finalSegmentLength,
      long skip,
      long limit) {
    this.source = Objects.requireNonNull(source, "source");
    this.decrypter = decrypter;
    this.layout = layout;
    this.ct = new byte[Math.min(INITIAL_BUFFER, layout.segmentSize() + LOOK_AHEAD)];
    this.segment = first;
    this.rangeLast = rangeLast;
    this.finalSegment = finalSegment;
    this.finalSegmentLength = finalSegmentLength;
    this.skip = skip;
    this.remaining = limit;
  }

  /** Whole-payload mode: {@code source} is positioned at the first segment. */
  public static DecryptingInputStream whole(
      InputStream source, SegmentDecrypter d, SegmentLayout layout) {
    return new DecryptingInputStream(source, d, layout, 0, -1, -1, 0, 0, Long.MAX_VALUE);
  }

  /**
   * Range mode: {@code source} holds exactly segments {@code first..last}; the blob's final segment
   * is {@code finalSegment}, {@code finalSegmentLength} bytes long. Yields {@code limit} plaintext
   * bytes after skipping {@code skip}.
   */
  public static DecryptingInputStream range(
      InputStream source,
      SegmentDecrypter d,
      SegmentLayout layout,
      long first,
      long last,
      long finalSegment,
      int finalSegmentLength,
      long skip,
      long limit) {
    DecryptingInputStream s =
        new DecryptingInputStream(
            source, d, layout, first, last, finalSegment, finalSegmentLength, skip, limit);
    s.finished = last < first;
    return s;
  }

  @Override
  public int read() throws IOException {
    byte[] buffered = plain;
    if (buffered != null
        && plainPos < plainLim
        && remaining > 0
        && !closed
        && failure == null
        && otherFailure == null) {
      remaining--;
      return buffered[plainPos++] & 0xff;
    }
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (failure != null) {
      throw new InvalidCiphertextIOException(failure);
    }
    if (otherFailure != null) {
      throw new IOException("an earlier read failed; the stream cannot go on", otherFailure);
    }
    if (closed) {
      throw new IOException("stream closed");
    }
    if (len == 0) {
      return 0;
    }
    try {
      if (remaining == 0) {
        if (!finished && rangeLast >= 0) {
          authenticateRest(); // an empty range at the end: its final segment is still checked
        }
        // range mode: the whole range was delivered, though its last segment may hold more
        return -1;
      }
      while (plainPos == plainLim) {
        if (finished || remaining == 0) {
          return -1;
        }
        if (rangeLast < 0 && len >= layout.plaintextCapacity(segment)) {
          int n = nextSegment(b, off); // authenticated in place, straight into the caller's buffer
          if (n > 0) {
            return n;
          }
          continue;
        }
        readSegment();
        int need = segmentLength - SegmentLayout.TAG_LENGTH;
        if (plain == null || plain.length < need) {
          if (plain != null) {
            Arrays.fill(plain, (byte) 0);
          }
          plain = new byte[segmentLast ? Math.max(need, 0) : layout.maxPlaintextSegment()];
        }
        int got =
            decryptSegment(
                plain, 0); // on failure plainPos == plainLim still: nothing stale to read
        plainPos = 0;
        plainLim = got;
        int s = (int) Math.min(skip, plainLim);
        plainPos = s;
        skip -= s;
      }
      int n = (int) Math.min(Math.min(len, plainLim - plainPos), remaining);
      System.arraycopy(plain, plainPos, b, off, n);
      plainPos += n;
      remaining -= n;
      return n;
    } catch (InvalidCiphertextException e) {
      failure = e;
      throw new InvalidCiphertextIOException(e);
    } catch (IOException | RuntimeException | Error e) {
      // the source may have consumed bytes it did not report: going on could misalign segments
      otherFailure = e;
      throw e;
    }
  }

  /** Authenticates the range's remaining segments, releasing nothing. */
  private void authenticateRest() throws IOException {
    while (!finished) {
      readSegment();
      byte[] scratch = new byte[Math.max(0, segmentLength - SegmentLayout.TAG_LENGTH)];
      decryptSegment(scratch, 0);
      Arrays.fill(scratch, (byte) 0);
    }
  }

  private int nextSegment(byte[] dst, int dstOff) throws IOException {
    readSegment();
    return decryptSegment(dst, dstOff);
  }

  /**
   * Reads the next segment's ciphertext into {@code ct}; sets its length and whether it is the
   * last.
   */
  private void readSegment() throws IOException {
    int expected = layout.ciphertextCapacity(segment);
    boolean last;
    int len;
    if (rangeLast < 0) {
      int want = expected + LOOK_AHEAD;
      while (true) {
        int target = Math.min(want, ct.length);
        ctFill += Io.readUpTo(source, ct, ctFill, target - ctFill);
        if (ctFill < target || ct.length >= want) {
          break; // the source ended, or the segment and its look-ahead are in
        }
        ct = Arrays.copyOf(ct, layout.segmentSize() + LOOK_AHEAD); // a full segment is coming
      }
      if (ctFill > expected && ctFill < want) {
        // the same length rule as the random-access reader (SegmentLayout.checkedPlaintextLength)
        throw new InvalidCiphertextException(
            Reason.TRUNCATED,
            "the payload ends "
                + (ctFill - expected)
                + " bytes into segment "
                + (segment + 1)
                + ": a final segment after the first carries more than a tag");
      }
      last = ctFill <= expected;
      len = last ? ctFill : expected;
      if (!last && segment >= layout.maxSegments() - 1) {
        throw new InvalidCiphertextException(
            Reason.TRAILING_DATA,
            "more than "
                + layout.maxSegments()
                + " segments, the cap for "
                + layout.segmentSize()
                + "-byte segments");
      }
    } else {
      last = segment == finalSegment;
      len = last ? finalSegmentLength : expected;
      if (ct.length < len) {
        ct = new byte[layout.segmentSize() + 1];
      }
      int n = Io.readUpTo(source, ct, 0, len);
      if (n < len) {
        throw new InvalidCiphertextException(
            Reason.TRUNCATED,
            "fetched range ends inside segment " + segment + " (" + n + " of " + len + " bytes)");
      }
    }
    segmentLength = len;
    segmentLast = last;
  }

  /**
   * Decrypts the segment {@link #readSegment} read into {@code dst}; returns its plaintext length.
   */
  private int decryptSegment(byte[] dst, int dstOff) {
    int len = segmentLength;
    boolean last = segmentLast;
    int expected = layout.ciphertextCapacity(segment);
    int n = decrypter.decrypt(segment, last, ct, 0, len, dst, dstOff);
    if (rangeLast < 0) {
      if (last) {
        finished = true;
        ctFill = 0;
      } else {
        System.arraycopy(ct, expected, ct, 0, ctFill - expected); // the look-ahead
        ctFill -= expected;
      }
    } else if (segment == rangeLast) {
      finished = true;
    }
    if (finished) {
      decrypter.close(); // no more segments: the key schedule goes now
    }
    segment++;
    return n;
  }

  @Override
  public int available() {
    if (closed || failure != null || otherFailure != null) {
      return 0;
    }
    return (int) Math.min(plainLim - plainPos, remaining);
  }

  /** Closes the source and wipes buffered plaintext. Idempotent. */
  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      if (plain != null) {
        Arrays.fill(plain, (byte) 0);
      }
      decrypter.close();
      source.close();
    }
  }
}
