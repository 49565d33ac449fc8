package dev.byok.testkit.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.byok.monitor.KeyEvent;
import dev.byok.monitor.KeyMonitorState;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What one emitted {@link KeyEvent} must look like: type, from, to, the lock deadline relative to
 * the event ({@code null}: the event carries none) and a fragment its reason must contain.
 */
record ExpectedEvent(
    KeyEvent.Type type,
    KeyMonitorState from,
    KeyMonitorState to,
    @Nullable Duration lockAfter,
    @Nullable String reason) {

  static ExpectedEvent of(KeyEvent.Type type, KeyMonitorState from, KeyMonitorState to) {
    return new ExpectedEvent(type, from, to, null, null);
  }

  ExpectedEvent lockAfter(Duration d) {
    return new ExpectedEvent(type, from, to, d, reason);
  }

  ExpectedEvent reason(String fragment) {
    return new ExpectedEvent(type, from, to, lockAfter, fragment);
  }

  void check(KeyEvent e) {
    assertThat(e.type()).as("type of %s", e).isEqualTo(type);
    assertThat(e.from()).as("from of %s", e).isEqualTo(from);
    assertThat(e.to()).as("to of %s", e).isEqualTo(to);
    if (lockAfter == null) {
      assertThat(e.lockAt()).as("lockAt of %s", e).isNull();
    } else {
      assertThat(e.lockAt()).as("lockAt of %s", e).isEqualTo(e.at().plus(lockAfter));
    }
    if (reason != null) {
      assertThat(e.reason()).as("reason of %s", e).contains(reason);
    }
  }

  /**
   * @return ACTIVE -> SUSPECT (announcing the lock {@code grace} later; the reason names {@code
   *     reason}), then SUSPECT -> LOCKED and the LOCKED event
   */
  static List<ExpectedEvent> deniedThenLocked(Duration grace, String reason) {
    return List.of(
        of(KeyEvent.Type.STATE_CHANGED, KeyMonitorState.ACTIVE, KeyMonitorState.SUSPECT)
            .lockAfter(grace)
            .reason(reason),
        of(KeyEvent.Type.STATE_CHANGED, KeyMonitorState.SUSPECT, KeyMonitorState.LOCKED),
        of(KeyEvent.Type.LOCKED, KeyMonitorState.SUSPECT, KeyMonitorState.LOCKED));
  }

  /** Asserts that {@code actual} is exactly {@code expected}, in order. */
  static void assertEvents(List<KeyEvent> actual, List<ExpectedEvent> expected) {
    assertThat(actual.stream().map(KeyEvent::type).toList())
        .as("event types in %s", actual)
        .containsExactlyElementsOf(expected.stream().map(ExpectedEvent::type).toList());
    for (int i = 0; i < expected.size(); i++) {
      expected.get(i).check(actual.get(i));
    }
  }

  @Override
  public String toString() {
    return type + " " + from + "->" + to + (lockAfter == null ? "" : " lockAt+" + lockAfter);
  }
}
