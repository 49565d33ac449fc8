package dev.byok.testkit.conformance;

import dev.byok.EncryptionContext;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyProvider;
import dev.byok.spi.RotationStatus;
import dev.byok.spi.WrappedKey;
import java.util.function.Supplier;

/**
 * A provider that forwards to another, for building deliberately broken providers: override a
 * method, or {@link #remap} to change what is thrown.
 */
class Forwarding implements KeyProvider {
  final KeyProvider delegate;

  Forwarding(KeyProvider delegate) {
    this.delegate = delegate;
  }

  /** {@return what to throw instead of {@code e}} */
  RuntimeException remap(RuntimeException e) {
    return e;
  }

  final <T> T mapped(Supplier<T> call) {
    try {
      return call.get();
    } catch (RuntimeException e) {
      throw remap(e);
    }
  }

  @Override
  public String providerId() {
    return delegate.providerId();
  }

  @Override
  public GeneratedDataKey generateDataKey(String keyId, EncryptionContext context) {
    return mapped(() -> delegate.generateDataKey(keyId, context));
  }

  @Override
  public WrappedKey encrypt(String keyId, byte[] plaintextKey, EncryptionContext context) {
    return mapped(() -> delegate.encrypt(keyId, plaintextKey, context));
  }

  @Override
  public byte[] decrypt(String keyArn, byte[] wrappedKey, EncryptionContext context) {
    return mapped(() -> delegate.decrypt(keyArn, wrappedKey, context));
  }

  @Override
  public KeyDescription describeKey(String keyId) {
    return mapped(() -> delegate.describeKey(keyId));
  }

  @Override
  public RotationStatus rotationStatus(String keyId) {
    return mapped(() -> delegate.rotationStatus(keyId));
  }

  @Override
  public String toString() {
    return "Forwarding[" + delegate + "]";
  }
}
