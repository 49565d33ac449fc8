/**
 * A host application written as a JPMS module: it reads byok's modules by name, exactly as an
 * application on the module path would.
 */
module dev.byok.examples.jpms {
  requires dev.byok.core;
  requires dev.byok.kms.aws;
  requires dev.byok.testkit;

  exports dev.byok.examples.jpms;
}
