package dev.byok.kms.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.byok.ByokConfigurationException;
import dev.byok.EncryptionContext;
import dev.byok.InvalidCiphertextException;
import dev.byok.KeyUnusableException;
import dev.byok.KmsUnavailableException;
import dev.byok.kms.local.azure.AzureKeyVaultServer.Fault;
import dev.byok.spi.GeneratedDataKey;
import dev.byok.spi.KeyDescription;
import dev.byok.spi.KeyState;
import dev.byok.spi.RotationStatus;
import dev.byok.spi.WrappedKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@link AzureKeyVaultProvider} through the official Key Vault client over loopback HTTPS (bearer
 * challenge included) to {@code AzureKeyVaultServer}: round trips for both key types, context
 * binding, every failure class, rotation, soft delete, expiry and thread-safety. One server for the
 * class; each test uses its own keys.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AzureKeyVaultProviderTest {
  private static final EncryptionContext CTX = EncryptionContext.of("tenant", "t1", "blob", "b7");

  private AzureTestVault vault;
  private AzureKeyVaultProvider provider;
  private int n;

  @BeforeAll
  void start() {
    vault = new AzureTestVault();
    provider = vault.provider;
  }

  @AfterAll
  void stop() {
    vault.close();
  }

  private String rsa() {
    return vault.server.createRsaKey("rsa-" + ++n);
  }

  private String oct() {
    return vault.server.createOctHsmKey("oct-" + ++n);
  }

  private static String name(String keyUrl) {
    String rest = keyUrl.substring(keyUrl.indexOf("/keys/") + 6);
    return rest.contains("/") ? rest.substring(0, rest.indexOf('/')) : rest;
  }

  @Test
  void roundTripsWithAnRsaKeyAndRecordsTheVersionedKeyId() {
    String key = rsa();
    GeneratedDataKey dk = provider.generateDataKey(key, CTX);
    assertThat(dk.keyArn()).startsWith(key + "/").matches(".*/keys/rsa-\\d+/[0-9a-f]{32}");
    byte[] wrapped = dk.wrapped().ciphertext();
    assertThat(wrapped[0]).isEqualTo(AzureKeyVaultProvider.FORMAT_V1);
    assertThat(wrapped[1]).isEqualTo(AzureKeyVaultProvider.ALG_RSA_OAEP_256);
    assertThat(provider.decrypt(dk.keyArn(), wrapped, CTX)).isEqualTo(dk.copyPlaintextKey());
    assertThat(vault.server.calls("wrapKey")).isPositive();
  }

  @Test
  void roundTripsWithAnOctHsmKeyUsingA256kw() {
    String key = oct();
    byte[] dek = HexFormat.of().parseHex("00112233445566778899aabbccddeeff".repeat(2));
    WrappedKey w = provider.encrypt(key, dek, CTX);
    assertThat(w.ciphertext()[1]).isEqualTo(AzureKeyVaultProvider.ALG_A256KW);
    assertThat(provider.decrypt(w.keyArn(), w.ciphertext(), CTX)).isEqualTo(dek);
  }

  @Test
  void aBareNameUsesTheDefaultVault() {
    String key = rsa();
    WrappedKey w = provider.encrypt(name(key), new byte[32], CTX);
    assertThat(w.keyArn()).startsWith(key + "/");
    assertThat(provider.decrypt(w.keyArn(), w.ciphertext(), CTX)).isEqualTo(new byte[32]);
  }

  @Test
  void theContextIsBoundAndAnotherContextIsRejected() {
    for (String key : List.of(rsa(), oct())) {
      GeneratedDataKey dk = provider.generateDataKey(key, CTX);
      for (EncryptionContext other :
          List.of(
              EncryptionContext.empty(),
              EncryptionContext.of("tenant", "t2", "blob", "b7"),
              EncryptionContext.of("tenant", "t1", "blob", "b7", "extra", "x"))) {
        assertThatThrownBy(() -> provider.decrypt(dk.keyArn(), dk.wrapped().ciphertext(), other))
            .isInstanceOfSatisfying(
                InvalidCiphertextException.class,
                e ->
                    assertThat(e.reason())
                        .isEqualTo(InvalidCiphertextException.Reason.WRAPPED_KEY_REJECTED));
      }
    }
  }

  @Test
  void aWrappedKeyUnderAnotherVersionedIdIsRejected() {
    String key = rsa();
    WrappedKey w = provider.encrypt(key, new byte[32], CTX);
    String newer = vault.server.rotate(name(key));
    // the other version cannot unwrap K: the vault refuses (400) -> rejected, never retried
    assertThatThrownBy(() -> provider.decrypt(newer, w.ciphertext(), CTX))
        .isInstanceOf(InvalidCiphertextException.class);
  }

  @Test
  void everyTamperedByteIsRejectedAndNothingIsReleased() {
    String key = oct();
    WrappedKey w = provider.encrypt(key, new byte[32], CTX);
    byte[] good = w.ciphertext();
    for (int i = 0; i < good.length; i++) {
      byte[] bad = good.clone();
      bad[i] ^= 0x01;
      int at = i;
      assertThatThrownBy(() -> provider.decrypt(w.keyArn(), bad, CTX))
          .as("flipped byte %d", at)
          .isInstanceOf(InvalidCiphertextException.class);
    }
    assertThatThrownBy(() -> provider.decrypt(w.keyArn(), new byte[] {1, 2, 3}, CTX))
        .isInstanceOf(InvalidCiphertextException.class);
    byte[] longer = java.util.Arrays.copyOf(good, good.length + 1);
    assertThatThrownBy(() -> provider.decrypt(w.keyArn(), longer, CTX))
        .isInstanceOf(InvalidCiphertextException.class);
  }

  @Test
  void malformedKeyIdsAreConfigurationErrorsWithoutACall() {
    int before = vault.server.calls("getKey");
    for (String bad :
        List.of(
            "https://127.0.0.1/secrets/x",
            "https://127.0.0.1/keys/bad_name",
            "https://127.0.0.1/keys/a/b/c",
            "https://127.0.0.1/keys/a?x=1",
            "no spaces allowed")) {
      assertThatThrownBy(() -> provider.generateDataKey(bad, CTX))
          .as(bad)
          .isInstanceOf(ByokConfigurationException.class);
    }
    assertThat(vault.server.calls("getKey")).isEqualTo(before);
    String key = rsa();
    assertThatThrownBy(() -> provider.decrypt(key, new byte[80], CTX))
        .as("a slot records a versioned key id")
        .isInstanceOf(ByokConfigurationException.class);
    assertThatThrownBy(() -> provider.encrypt(key, new byte[16], CTX))
        .isInstanceOf(ByokConfigurationException.class);
  }

  @Test
  void disabledKeyIsDescribedAndRefused() {
    String key = rsa();
    WrappedKey w = provider.encrypt(key, new byte[32], CTX);
    vault.server.setEnabled(name(key), false);
    assertThat(provider.describeKey(key).state()).isEqualTo(KeyState.DISABLED);
    assertThat(provider.describeKey(w.keyArn()).state()).isEqualTo(KeyState.DISABLED);
    assertUnusable(
        () -> provider.decrypt(w.keyArn(), w.ciphertext(), CTX),
        KeyUnusableException.Reason.DISABLED);
    assertUnusable(
        () -> provider.encrypt(key, new byte[32], CTX), KeyUnusableException.Reason.DISABLED);
    vault.server.setEnabled(name(key), true);
    assertThat(provider.decrypt(w.keyArn(), w.ciphertext(), CTX)).isEqualTo(new byte[32]);
  }

  @Test
  void removedPermissionIsAccessDeniedEverywhere() {
    String key = oct();
    WrappedKey w = provider.encrypt(key, new byte[32], CTX);
    vault.server.setAccessDenied(name(key), true);
    assertUnusable(() -> provider.describeKey(key), KeyUnusableException.Reason.ACCESS_DENIED);
    assertUnusable(
        () -> provider.decrypt(w.keyArn(), w.ciphertext(), CTX),
        KeyUnusableException.Reason.ACCESS_DENIED);
    assertUnusable(
        () -> provider.encrypt(key, new byte[32], CTX), KeyUnusableException.Reason.ACCESS_DENIED);
    vault.server.setAccessDenied(name(key), false);
    assertThat(provider.decrypt(w.keyArn(), w.ciphertext(), CTX)).isEqualTo(new byte[32]);
  }

  @Test
  void softDeleteIsPendingDeletionThenPurgeIsNotFoundAndRecoverRestores() {
    String key = rsa();
    WrappedKey w = provider.encrypt(key, new byte[32], CTX);
    vault.server.delete(name(key));
    KeyDescription d = provider.describeKey(w.keyArn());
    assertThat(d.state()).isEqualTo(KeyState.PENDING_DELETION);
    assertThat(d.keyArn()).isEqualTo(w.keyArn());
    assertThat(d.deletionDate())
        .isEqualTo(
            vault
                .clock
                .instant()
                .plus(Duration.ofDays(90))
                .truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    assertUnusable(
        () -> provider.decrypt(w.keyArn(), w.ciphertext(), CTX),
        KeyUnusableException.Reason.NOT_FOUND);
    vault.server.recover(name(key));
    assertThat(provider.decrypt(w.keyArn(), w.ciphertext(), CTX)).isEqualTo(new byte[32]);
    vault.server.delete(name(key));
    vault.server.purge(name(key));
    assertUnusable(() -> provider.describeKey(key), KeyUnusableException.Reason.NOT_FOUND);
  }

  @Test
  void aPurgeableKeyIsGoneAtOnce() {
    String key = rsa();
    vault.server.setRecoveryLevel(name(key), "Purgeable");
    vault.server.delete(name(key));
    assertUnusable(() -> provider.describeKey(key), KeyUnusableException.Reason.NOT_FOUND);
  }

  @Test
  void expiredKeyWrapsNothingNewButStillUnwrapsAndIsNotUsable() {
    String key = oct();
    WrappedKey w = provider.encrypt(key, new byte[32], CTX);
    vault.server.setExpires(name(key), vault.clock.instant().plusSeconds(60));
    assertThat(provider.describeKey(key).state()).isEqualTo(KeyState.ENABLED);
    vault.clock.advance(Duration.ofMinutes(2));
    assertThat(provider.describeKey(key).state()).isEqualTo(KeyState.UNAVAILABLE);
    assertUnusable(
        () -> provider.encrypt(key, new byte[32], CTX), KeyUnusableException.Reason.UNAVAILABLE);
    assertThat(provider.decrypt(w.keyArn(), w.ciphertext(), CTX)).isEqualTo(new byte[32]);
  }

  @Test
  void notYetValidKeyIsNotUsable() {
    String key = rsa();
    vault.server.setNotBefore(name(key), vault.clock.instant().plusSeconds(3600));
    assertThat(provider.describeKey(key).state()).isEqualTo(KeyState.UNAVAILABLE);
    assertUnusable(
        () -> provider.generateDataKey(key, CTX), KeyUnusableException.Reason.UNAVAILABLE);
    vault.clock.advance(Duration.ofHours(2));
    assertThat(provider.describeKey(key).state()).isEqualTo(KeyState.ENABLED);
  }

  @Test
  void rotationIsANewVersionAndOldSlotsStillDecrypt() {
    String key = rsa();
    WrappedKey before = provider.encrypt(key, new byte[32], CTX);
    KeyDescription d1 = provider.describeKey(key);
    String newer = vault.server.rotate(name(key));
    KeyDescription d2 = provider.describeKey(key);
    assertThat(d1.keyArn()).isEqualTo(before.keyArn());
    assertThat(d2.keyArn()).isEqualTo(newer).isNotEqualTo(d1.keyArn());
    assertThat(d2.currentKeyMaterialId()).isEqualTo(newer.substring(newer.lastIndexOf('/') + 1));
    WrappedKey after = provider.encrypt(key, new byte[32], CTX);
    assertThat(after.keyArn()).isEqualTo(newer);
    assertThat(provider.decrypt(before.keyArn(), before.ciphertext(), CTX)).isEqualTo(new byte[32]);
    // a versioned key id pins that version
    assertThat(provider.encrypt(before.keyArn(), new byte[32], CTX).keyArn())
        .isEqualTo(before.keyArn());
  }

  @Test
  void rotationPolicyIsReported() {
    String key = oct();
    assertThat(provider.rotationStatus(key).enabled()).isFalse();
    vault.server.setRotationPolicy(name(key), Duration.ofDays(90));
    RotationStatus s = provider.rotationStatus(key);
    assertThat(s.enabled()).isTrue();
    assertThat(s.periodDays()).isEqualTo(90);
  }

  @Test
  void transientFaultsAreRetriedByTheClientThenReportedAsUnavailable() {
    String key = rsa();
    WrappedKey w = provider.encrypt(key, new byte[32], CTX);
    vault.server.failNext(2, Fault.UNAVAILABLE);
    assertThat(provider.decrypt(w.keyArn(), w.ciphertext(), CTX))
        .as("two 503s are absorbed by the client's two retries")
        .isEqualTo(new byte[32]);
    vault.server.failNext(3, Fault.UNAVAILABLE);
    assertThatThrownBy(() -> provider.decrypt(w.keyArn(), w.ciphertext(), CTX))
        .isInstanceOfSatisfying(
            KmsUnavailableException.class, e -> assertThat(e.throttled()).isFalse());
    vault.server.failNext(3, Fault.THROTTLED);
    assertThatThrownBy(() -> provider.describeKey(key))
        .isInstanceOfSatisfying(
            KmsUnavailableException.class, e -> assertThat(e.throttled()).isTrue());
    assertThat(provider.decrypt(w.keyArn(), w.ciphertext(), CTX)).isEqualTo(new byte[32]);
  }

  @Test
  void unreachableVaultAndRefusedTokenAreTransient() {
    String key = rsa();
    AzureKeyVaultProvider wrongToken = vault.provider("not-the-token", 0);
    assertThatThrownBy(() -> wrongToken.describeKey(key))
        .isInstanceOf(KmsUnavailableException.class);
    AzureKeyVaultProvider nowhere =
        AzureKeyVaultProvider.builder()
            .credential(vault.credential("t"))
            .httpClient(vault.httpClient())
            .retryOptions(
                new com.azure.core.http.policy.RetryOptions(
                    new com.azure.core.http.policy.FixedDelayOptions(0, Duration.ZERO)))
            .disableChallengeResourceVerification()
            .build();
    assertThatThrownBy(() -> nowhere.describeKey("https://127.0.0.1:1/keys/k"))
        .isInstanceOf(KmsUnavailableException.class);
  }

  @Test
  void theBearerChallengeIsAnsweredWithATokenOnce() {
    int before = vault.tokensIssued.get();
    AzureKeyVaultProvider fresh = vault.provider(vault.server.accessToken(), 0);
    String key = oct();
    fresh.describeKey(key);
    fresh.describeKey(key);
    assertThat(vault.tokensIssued.get() - before).isEqualTo(1);
  }

  @Test
  void noKeyMaterialInToStringOrExceptions() {
    String key = rsa();
    GeneratedDataKey dk = provider.generateDataKey(key, CTX);
    byte[] plain = dk.copyPlaintextKey();
    List<String> texts = new ArrayList<>();
    texts.add(provider.toString());
    texts.add(dk.toString());
    texts.add(dk.wrapped().toString());
    try {
      provider.decrypt(dk.keyArn(), dk.wrapped().ciphertext(), EncryptionContext.empty());
    } catch (InvalidCiphertextException e) {
      texts.add(e.toString());
    }
    for (String t : texts) {
      assertThat(t)
          .doesNotContain(HexFormat.of().formatHex(plain))
          .doesNotContain(Base64.getEncoder().encodeToString(plain))
          .doesNotContain(Base64.getUrlEncoder().withoutPadding().encodeToString(plain));
    }
  }

  @Test
  void concurrentWrapsAndUnwrapsAcrossKeysAndRotation() throws Exception {
    String a = rsa();
    String b = oct();
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch go = new CountDownLatch(1);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        String key = t % 2 == 0 ? a : b;
        int id = t;
        results.add(
            pool.submit(
                () -> {
                  go.await();
                  int ok = 0;
                  for (int i = 0; i < 5; i++) {
                    EncryptionContext c = EncryptionContext.of("thread", id + "-" + i);
                    GeneratedDataKey dk = provider.generateDataKey(key, c);
                    if (java.util.Arrays.equals(
                        provider.decrypt(dk.keyArn(), dk.wrapped().ciphertext(), c),
                        dk.copyPlaintextKey())) {
                      ok++;
                    }
                  }
                  return ok;
                }));
      }
      go.countDown();
      vault.server.rotate(name(a)); // races the wraps: either version is fine, all must decrypt
      for (Future<Integer> f : results) {
        assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(5);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void builderFailsFastNamingTheBadValue() {
    assertThatThrownBy(() -> AzureKeyVaultProvider.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("credential");
    assertThatThrownBy(() -> AzureKeyVaultProvider.builder().vaultUrl("http://vault"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("http://vault");
    assertThatThrownBy(() -> AzureKeyVaultProvider.builder().vaultUrl("https://v/keys"))
        .hasMessageContaining("https://v/keys");
    AzureKeyVaultProvider noDefault =
        AzureKeyVaultProvider.builder().credential(vault.credential("t")).build();
    assertThatThrownBy(() -> noDefault.describeKey("name"))
        .isInstanceOf(ByokConfigurationException.class)
        .hasMessageContaining("no default vault");
  }

  private static void assertUnusable(
      org.assertj.core.api.ThrowableAssert.ThrowingCallable call, KeyUnusableException.Reason r) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            KeyUnusableException.class, e -> assertThat(e.reason()).isEqualTo(r));
  }
}
