/**
 * byok core: envelope format, streaming AES-256-GCM, public API and SPI.
 *
 * <p>Only API packages are exported; {@code dev.byok.internal} is an implementation detail.
 */
module dev.byok.core {
  requires com.github.benmanes.caffeine;
  requires org.slf4j;
  requires static org.jspecify;

  exports dev.byok;
  exports dev.byok.spi;
  exports dev.byok.monitor;
}
