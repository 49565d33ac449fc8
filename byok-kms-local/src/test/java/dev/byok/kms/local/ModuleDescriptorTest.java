package dev.byok.kms.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The compiled descriptor: exports only the API and requires no test framework; grpc only static
 * (optional).
 */
class ModuleDescriptorTest {
  @Test
  void exportsOnlyItsApiAndRequiresNoTestFramework() throws Exception {
    Path classes =
        Path.of(InMemoryKms.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    ModuleDescriptor d;
    try (InputStream in = Files.newInputStream(classes.resolve("module-info.class"))) {
      d = ModuleDescriptor.read(in);
    }

    assertThat(d.name()).isEqualTo("dev.byok.kms.local");
    assertThat(d.exports())
        .extracting(ModuleDescriptor.Exports::source)
        .containsExactlyInAnyOrder(
            "dev.byok.kms.local", "dev.byok.kms.local.gcp", "dev.byok.kms.local.azure");
    assertThat(
            d.requires().stream().map(ModuleDescriptor.Requires::name).collect(Collectors.toSet()))
        .containsExactlyInAnyOrder(
            "java.base",
            "dev.byok.core",
            "com.google.gson",
            "jdk.httpserver",
            "org.jspecify",
            // the Cloud KMS test server's optional (requires static) dependencies
            "io.grpc",
            "io.grpc.stub",
            "io.grpc.protobuf",
            "io.grpc.inprocess",
            "com.google.protobuf",
            "proto.google.cloud.kms.v1");
    assertThat(d.requires())
        .filteredOn(r -> r.name().startsWith("io.grpc") || r.name().contains("protobuf"))
        .allSatisfy(
            r -> assertThat(r.modifiers()).contains(ModuleDescriptor.Requires.Modifier.STATIC));
  }
}
