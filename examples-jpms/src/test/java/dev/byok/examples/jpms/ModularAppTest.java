package dev.byok.examples.jpms;

import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.Byok;
import dev.byok.kms.aws.AwsKmsProvider;
import dev.byok.kms.local.LocalKmsServer;
import dev.byok.testkit.FakeKms;
import java.lang.module.ModuleDescriptor;
import org.junit.jupiter.api.Test;

/** Runs inside the named application module (surefire puts it on the module path). */
class ModularAppTest {

  @Test
  void everyByokModuleIsANamedExplicitModule() {
    assertThat(ModularAppTest.class.getModule().getName()).isEqualTo("dev.byok.examples.jpms");
    assertThat(explicit(Byok.class).name()).isEqualTo("dev.byok.core");
    assertThat(explicit(AwsKmsProvider.class).name()).isEqualTo("dev.byok.kms.aws");
    assertThat(explicit(FakeKms.class).name()).isEqualTo("dev.byok.testkit");
    assertThat(explicit(LocalKmsServer.class).name()).isEqualTo("dev.byok.kms.local");
  }

  @Test
  void onlyApiPackagesAreExported() {
    assertThat(explicit(Byok.class).exports())
        .extracting(ModuleDescriptor.Exports::source)
        .containsExactlyInAnyOrder("dev.byok", "dev.byok.spi", "dev.byok.monitor");
    assertThat(Byok.class.getModule().isExported("dev.byok.internal")).isFalse();
  }

  @Test
  void bothRoundTripsWorkFromAModule() throws Exception {
    assertThat(ModularApp.run())
        .containsExactly(
            "fake-kms: hello from a module via dev.byok.core",
            "aws-kms: hello over the AWS SDK via dev.byok.kms.aws");
  }

  private static ModuleDescriptor explicit(Class<?> type) {
    Module module = type.getModule();
    assertThat(module.isNamed()).as("%s is on the module path", type).isTrue();
    ModuleDescriptor descriptor = module.getDescriptor();
    assertThat(descriptor.isAutomatic()).as("%s has a module-info", module).isFalse();
    return descriptor;
  }
}
