package dev.byok.examples.jpms;

import dev.byok.Byok;
import dev.byok.EncryptionContext;
import dev.byok.kms.aws.AwsKmsProvider;
import dev.byok.kms.local.InMemoryKms;
import dev.byok.kms.local.LocalKmsServer;
import dev.byok.testkit.FakeKms;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * Encrypts and decrypts once through the test kit's {@link FakeKms} and once through {@link
 * AwsKmsProvider} (the real AWS SDK) against a loopback {@link LocalKmsServer}, all from a named
 * module. Not thread-safe; each call to {@link #run()} is independent.
 */
public final class ModularApp {
  private static final EncryptionContext CONTEXT = EncryptionContext.of("tenant", "acme");

  private ModularApp() {}

  /**
   * Runs both round trips and prints what happened.
   *
   * @param args ignored
   * @throws IOException if a round trip fails
   */
  public static void main(String[] args) throws IOException {
    System.out.println("app module: " + moduleOf(ModularApp.class));
    run().forEach(System.out::println);
  }

  /**
   * Runs both round trips.
   *
   * @return one line per round trip, naming the module each byok type was loaded from
   * @throws IOException if a round trip fails
   */
  public static List<String> run() throws IOException {
    List<String> lines = new ArrayList<>();
    FakeKms fake = FakeKms.create();
    String arn = fake.api().createKey().arn();
    try (Byok byok = Byok.builder().provider(fake).encryptUnder("fake-kms://" + arn).build()) {
      lines.add(
          "fake-kms: " + roundTrip(byok, "hello from a module") + " via " + moduleOf(Byok.class));
    }

    InMemoryKms kms = InMemoryKms.builder().region("eu-west-1").build();
    String awsArn = kms.createKey().arn();
    try (LocalKmsServer server = LocalKmsServer.start(kms);
        AwsKmsProvider aws =
            AwsKmsProvider.builder()
                .region("eu-west-1")
                .endpoint(server.endpoint())
                .credentials(
                    StaticCredentialsProvider.create(
                        AwsBasicCredentials.create("AKIDJPMSEXAMPLE", "not-a-secret")))
                .build();
        Byok byok = Byok.builder().provider(aws).encryptUnder("aws-kms://" + awsArn).build()) {
      lines.add(
          "aws-kms: "
              + roundTrip(byok, "hello over the AWS SDK")
              + " via "
              + moduleOf(AwsKmsProvider.class));
    }
    return lines;
  }

  private static String roundTrip(Byok byok, String text) throws IOException {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (OutputStream out = byok.newEncryptingStream(sink, CONTEXT)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
    try (InputStream in =
        byok.newDecryptingStream(new ByteArrayInputStream(sink.toByteArray()), CONTEXT)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static String moduleOf(Class<?> type) {
    return String.valueOf(type.getModule().getName());
  }
}
