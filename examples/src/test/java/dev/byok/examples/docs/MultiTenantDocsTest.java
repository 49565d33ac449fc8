package dev.byok.examples.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.Byok;
import dev.byok.ByokConfigurationException;
import dev.byok.EncryptionContext;
import dev.byok.KeyRef;
import dev.byok.KeyUnusableException;
import dev.byok.ReadPolicy;
import dev.byok.testkit.FakeKms;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The samples of docs/multi-tenant.md; {@link DocsTest} holds them in step with the page. */
class MultiTenantDocsTest {
  private static final byte[] DATA = "tenant data".getBytes(StandardCharsets.UTF_8);

  private static byte[] encrypt(Byok tenant, EncryptionContext context) throws IOException {
    ByteArrayOutputStream blob = new ByteArrayOutputStream();
    try (OutputStream out = tenant.newEncryptingStream(blob, context)) {
      out.write(DATA);
    }
    return blob.toByteArray();
  }

  private static byte[] decrypt(Byok tenant, byte[] blob) throws IOException {
    try (InputStream in = tenant.newDecryptingStream(new ByteArrayInputStream(blob))) {
      return in.readAllBytes();
    }
  }

  @Test
  void oneInstanceServesEveryTenant() throws IOException {
    FakeKms kms = FakeKms.create();
    Map<String, String> tenantKeys = new HashMap<>(); // the host's tenant registry
    tenantKeys.put("acme", kms.api().createKey().arn());
    tenantKeys.put("globex", kms.api().createKey().arn());
    byte[] data = DATA;
    // docs:begin multi-tenant
    Byok byok = Byok.builder()
        .provider(kms)                       // production: AwsKmsProvider.builder().region("eu-west-1").build()
        .decryptCachePerKek(100)             // one busy tenant cannot evict the others' data keys
        .build();                            // no default KEK: every tenant brings its own

    // per request: a view that encrypts under the tenant's key and decrypts only blobs under it
    Byok acme = byok.forKeys("fake-kms://" + tenantKeys.get("acme"));
    ByteArrayOutputStream blob = new ByteArrayOutputStream();
    try (OutputStream out = acme.newEncryptingStream(blob, EncryptionContext.of("tenant", "acme"))) {
      out.write(data);
    }
    byte[] back;
    try (InputStream in = acme.newDecryptingStream(new ByteArrayInputStream(blob.toByteArray()))) {
      back = in.readAllBytes();
    }
    // docs:end multi-tenant
    assertThat(back).isEqualTo(DATA);

    // another tenant's view refuses acme's blob without asking the KMS
    Byok globex = byok.forKeys("fake-kms://" + tenantKeys.get("globex"));
    assertThatThrownBy(() -> decrypt(globex, blob.toByteArray()))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining("allow-list");
    byte[] globexBlob = encrypt(globex, EncryptionContext.of("tenant", "globex"));
    assertThat(decrypt(globex, globexBlob)).isEqualTo(DATA);
    // one cache and one set of counters for both tenants
    assertThat(byok.keys().stats().dataKeysGenerated()).isEqualTo(2);
  }

  @Test
  void aReaderThatSaysWhatItExpectsRefusesABlobForgedUnderAnotherTenantsKey() throws IOException {
    FakeKms kms = FakeKms.create();
    String acmeKey = kms.api().createKey().arn();
    String globexKey = kms.api().createKey().arn();
    Byok byok = Byok.builder().provider(kms).build();
    // globex (or anyone who may use globex's key) writes a blob with acme's context
    byte[] forged =
        encrypt(byok.forKeys("fake-kms://" + globexKey), EncryptionContext.of("tenant", "acme"));
    byte[] genuine =
        encrypt(byok.forKeys("fake-kms://" + acmeKey), EncryptionContext.of("tenant", "acme"));
    kms.api().resetCallLog();
    // docs:begin multi-tenant-read-policy
    Byok acme = byok.forReading(ReadPolicy.of(
        List.of(KeyRef.parse("fake-kms://" + acmeKey)),   // the KEKs acme's blobs are under
        EncryptionContext.of("tenant", "acme")));          // the context they carry
    // or ReadPolicy.matching(keks, context -> "acme".equals(context.asMap().get("tenant")))
    // docs:end multi-tenant-read-policy
    assertThat(decrypt(acme, genuine)).isEqualTo(DATA);
    assertThatThrownBy(() -> decrypt(acme, forged))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining("allow-list");
    assertThat(kms.api().calls("Decrypt")).isEqualTo(1); // only the genuine blob reached the KMS
  }

  @Test
  void revokingOneTenantLeavesTheOthersReadable() throws IOException {
    FakeKms kms = FakeKms.create();
    String acmeKey = kms.api().createKey().arn();
    String globexKey = kms.api().createKey().arn();
    Byok writer = Byok.builder().provider(kms).build();
    byte[] acmeBlob =
        encrypt(writer.forKeys("fake-kms://" + acmeKey), EncryptionContext.of("t", "a"));
    byte[] globexBlob =
        encrypt(writer.forKeys("fake-kms://" + globexKey), EncryptionContext.of("t", "g"));
    // docs:begin multi-tenant-host-policy
    Byok reader = Byok.builder()
        .provider(kms)
        .allowDecryptWithKeysMatching(arn -> arn.equals(acmeKey) || arn.equals(globexKey)) // e.g. a registry lookup
        .build();
    // docs:end multi-tenant-host-policy
    assertThat(decrypt(reader, acmeBlob)).isEqualTo(DATA);
    assertThat(decrypt(reader, globexBlob)).isEqualTo(DATA);

    kms.api().disableKey(acmeKey);
    reader.keys().invalidate(acmeKey); // what the key state monitor does once in doubt
    assertThatThrownBy(() -> decrypt(reader, acmeBlob)).isInstanceOf(KeyUnusableException.class);
    assertThat(decrypt(reader, globexBlob)).isEqualTo(DATA);
  }
}
