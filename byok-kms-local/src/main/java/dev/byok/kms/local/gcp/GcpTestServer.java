package dev.byok.kms.local.gcp;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A Cloud KMS gRPC server over a {@link GcpKms}: in-process (grpc-inprocess) for tests, or on any
 * grpc transport the caller brings (a TCP {@link ServerBuilder} such as grpc-netty-shaded's or
 * grpc-okhttp's).
 *
 * <p>Point the official client at it with {@code KeyManagementServiceSettings.newBuilder()
 * .setTransportChannelProvider(FixedTransportChannelProvider.create(GrpcTransportChannel.create(
 * server.newChannel()))).setCredentialsProvider(NoCredentialsProvider.create())}.
 *
 * <p>Thread-safe. {@link #close()} stops the server and is idempotent.
 */
public final class GcpTestServer implements AutoCloseable {
  private final GcpKms kms;
  private final Server server;
  private final @Nullable String inProcessName;

  private GcpTestServer(GcpKms kms, Server server, @Nullable String inProcessName) {
    this.kms = kms;
    this.server = server;
    this.inProcessName = inProcessName;
  }

  /**
   * Starts an in-process server with a unique name.
   *
   * @param kms the state it serves
   * @return the running server
   */
  public static GcpTestServer start(GcpKms kms) {
    Objects.requireNonNull(kms, "kms");
    String name = InProcessServerBuilder.generateName();
    return new GcpTestServer(kms, start(InProcessServerBuilder.forName(name), kms), name);
  }

  /**
   * Starts the service on a server the caller configured (transport, address, executor), e.g.
   * {@code NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(),
   * 0))} for {@code byok kms serve --protocol gcp}.
   *
   * @param kms the state it serves
   * @param builder the server to add the service to and start
   * @return the running server
   */
  public static GcpTestServer start(GcpKms kms, ServerBuilder<?> builder) {
    Objects.requireNonNull(kms, "kms");
    Objects.requireNonNull(builder, "builder");
    return new GcpTestServer(kms, start(builder, kms), null);
  }

  private static Server start(ServerBuilder<?> builder, GcpKms kms) {
    try {
      return builder.addService(GcpKmsService.definition(kms)).build().start();
    } catch (IOException e) {
      throw new UncheckedIOException("could not start the Cloud KMS test server", e);
    }
  }

  /** {@return the state this server serves (the test's controls)} */
  public GcpKms kms() {
    return kms;
  }

  /** {@return the TCP port, or {@code -1} for an in-process server} */
  public int port() {
    return server.getPort();
  }

  /**
   * A new in-process channel to this server; the caller shuts it down (or hands it to a client that
   * does).
   *
   * @return the channel
   * @throws IllegalStateException if the server was started on another transport
   */
  public ManagedChannel newChannel() {
    String name = inProcessName;
    if (name == null) {
      throw new IllegalStateException("not an in-process server; connect to port " + port());
    }
    return InProcessChannelBuilder.forName(name).build();
  }

  /** Stops the server, failing calls in flight, and waits up to 5 seconds for it to end. */
  @Override
  public void close() {
    server.shutdownNow();
    // waits even when the caller was interrupted (a CLI stopped by Ctrl-C): "closed" means the
    // port no longer accepts connections
    boolean interrupted = false;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    try {
      while (true) {
        try {
          if (server.awaitTermination(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
            return;
          }
          throw new IllegalStateException("Cloud KMS test server did not stop in 5 seconds");
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public String toString() {
    return "GcpTestServer["
        + (inProcessName != null ? "in-process " + inProcessName : "port " + port())
        + "]";
  }
}
