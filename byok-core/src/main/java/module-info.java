/**
 * byok core: envelope format, streaming AES-256-GCM, public API and SPI.
 *
 * <p>Only API packages are exported; {@code dev.byok.internal} is an implementation detail. At run
 * time it needs Caffeine and the SLF4J API and nothing else (HKDF is {@code javax.crypto.Mac});
 * JSpecify's nullness annotations are needed only to compile.
 */
module dev.byok.core {
  requires com.github.benmanes.caffeine;
  requires org.slf4j;
  requires static org.jspecify;

  exports dev.byok;
  exports dev.byok.spi;
  exports dev.byok.monitor;
}
