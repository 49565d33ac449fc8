package dev.byok;

import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.KeyUnusableException.Reason;
import dev.byok.spi.KeyState;
import org.junit.jupiter.api.Test;

class KeyUnusableReasonTest {
  @Test
  void everyKeyStateHasTheReasonAProviderReportsForIt() {
    for (KeyState s : KeyState.values()) {
      Reason expected =
          switch (s) {
            case DISABLED -> Reason.DISABLED;
            case PENDING_DELETION, PENDING_REPLICA_DELETION -> Reason.PENDING_DELETION;
            case PENDING_IMPORT -> Reason.PENDING_IMPORT;
            case CREATING, ENABLED, UNAVAILABLE, UPDATING, UNKNOWN -> Reason.UNAVAILABLE;
          };
      assertThat(Reason.of(s)).as(s.name()).isEqualTo(expected);
    }
  }
}
