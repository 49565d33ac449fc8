package dev.byok;

import static dev.byok.KeyLayerFixture.byok;
import static dev.byok.KeyLayerFixture.decrypt;
import static dev.byok.KeyLayerFixture.encrypt;
import static dev.byok.KeyLayerFixture.plaintext;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Hole 7: no byok lock — no monitor, no {@code java.util.concurrent} lock, no map bin — is held
 * while a KMS call runs, on the encrypt side, the decrypt side and alias resolution. The KMS checks
 * its caller's held locks through the JVM's own thread management bean on every call.
 */
class NoLockDuringKmsCallTest {
  private final TestKms kms = new TestKms();
  private final List<String> heldDuringCalls = Collections.synchronizedList(new ArrayList<>());

  {
    kms.hook((op, key) -> heldLocks().forEach(l -> heldDuringCalls.add(op + " holds " + l)));
  }

  /**
   * The monitors and ownable synchronizers the current thread holds, from {@code
   * ThreadMXBean.getThreadInfo} (by reflection: the tests are patched into the {@code
   * dev.byok.core} module, which does not read {@code java.management}).
   */
  private static List<String> heldLocks() {
    try {
      Object bean =
          Class.forName("java.lang.management.ManagementFactory")
              .getMethod("getThreadMXBean")
              .invoke(null);
      Object[] infos =
          (Object[])
              Class.forName("java.lang.management.ThreadMXBean")
                  .getMethod("getThreadInfo", long[].class, boolean.class, boolean.class)
                  .invoke(bean, new long[] {Thread.currentThread().getId()}, true, true);
      Class<?> info = Class.forName("java.lang.management.ThreadInfo");
      List<String> held = new ArrayList<>();
      for (Object m : (Object[]) info.getMethod("getLockedMonitors").invoke(infos[0])) {
        held.add("monitor " + m);
      }
      for (Object l : (Object[]) info.getMethod("getLockedSynchronizers").invoke(infos[0])) {
        held.add("lock " + l);
      }
      return held;
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void noLockIsHeldWhileTheKmsIsCalled() {
    String arn = kms.createKey();
    String second = kms.createKey();
    kms.alias("alias/main", arn);
    Byok writer = byok(kms, "alias/main", second).build();
    byte[] plain = plaintext(100, 1);
    byte[] blob = encrypt(writer, plain); // GenerateDataKey + Encrypt
    Byok reader = byok(kms, "alias/main").build();
    assertThat(decrypt(reader, blob)).isEqualTo(plain); // DescribeKey (alias) + Decrypt
    writer.keys().invalidate(arn);
    assertThat(decrypt(writer, blob)).isEqualTo(plain); // Decrypt after a purge
    assertThat(kms.calls("generateDataKey")).isEqualTo(1);
    assertThat(kms.calls("encrypt")).isEqualTo(1);
    assertThat(kms.calls("describeKey")).isEqualTo(1);
    assertThat(kms.calls("decrypt")).isEqualTo(2);
    assertThat(heldDuringCalls).isEmpty();
  }
}
