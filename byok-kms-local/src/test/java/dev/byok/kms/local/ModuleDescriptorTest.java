package dev.byok.kms.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The compiled descriptor: exports only the API and requires no test framework. */
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
        .containsExactlyInAnyOrder("dev.byok.kms.local", "dev.byok.kms.local.azure");
    assertThat(
            d.requires().stream().map(ModuleDescriptor.Requires::name).collect(Collectors.toSet()))
        .containsExactlyInAnyOrder(
            "java.base", "dev.byok.core", "com.google.gson", "jdk.httpserver", "org.jspecify");
  }
}
