package dev.byok;

import java.util.List;

/**
 * What a rewrap did: the key slots before and after, and the payload bytes copied — verbatim, never
 * decrypted or re-encrypted ({@link #payloadBytesReencrypted()} is always 0).
 *
 * <p>Immutable and thread-safe.
 */
public final class RewrapResult {
  private final List<KeySlot> oldSlots;
  private final List<KeySlot> newSlots;
  private final long payloadBytesCopied;

  RewrapResult(List<KeySlot> oldSlots, List<KeySlot> newSlots, long payloadBytesCopied) {
    this.oldSlots = List.copyOf(oldSlots);
    this.newSlots = List.copyOf(newSlots);
    this.payloadBytesCopied = payloadBytesCopied;
  }

  /** {@return the slots the blob had} */
  public List<KeySlot> oldSlots() {
    return oldSlots;
  }

  /** {@return the slots the blob has now} */
  public List<KeySlot> newSlots() {
    return newSlots;
  }

  /** {@return payload bytes copied unchanged} */
  public long payloadBytesCopied() {
    return payloadBytesCopied;
  }

  /** {@return payload bytes re-encrypted: always 0, rewrap never touches the payload} */
  public long payloadBytesReencrypted() {
    return 0;
  }

  @Override
  public String toString() {
    return "RewrapResult["
        + oldSlots
        + " -> "
        + newSlots
        + ", copied "
        + payloadBytesCopied
        + " payload bytes, re-encrypted 0]";
  }
}
