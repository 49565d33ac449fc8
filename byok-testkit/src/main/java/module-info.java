/**
 * byok test utilities for hosts: the tamper suite. Depends on no test framework.
 */
module dev.byok.testkit {
  requires transitive dev.byok.core;
  requires static org.jspecify;

  exports dev.byok.testkit;
}
