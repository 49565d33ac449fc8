package dev.byok.jmh;

import java.io.OutputStream;

/**
 * A sink that drops everything and never closes, so one instance serves every invocation (unlike
 * {@link OutputStream#nullOutputStream()}, which refuses writes once a contender has closed it).
 */
final class Discard extends OutputStream {
  static final Discard INSTANCE = new Discard();

  private Discard() {}

  @Override
  public void write(int b) {}

  @Override
  public void write(byte[] b, int off, int len) {}
}
