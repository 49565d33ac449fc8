package dev.byok.internal;

import java.util.HexFormat;

/** Lower-case hex for ids and diagnostics; never for key material. */
public final class Hex {
  private static final HexFormat HEX = HexFormat.of();

  private Hex() {}

  public static String encode(byte[] b) {
    return HEX.formatHex(b);
  }
}
