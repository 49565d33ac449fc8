/**
 * A local KMS: {@link dev.byok.kms.local.InMemoryKms}, an in-memory KMS with AWS KMS semantics (key
 * ids and ARNs, key states, aliases, rotation, eventual consistency, a documented subset of key
 * policy evaluation, fault injection and a call log), and {@link
 * dev.byok.kms.local.LocalKmsServer}, which serves it over the AWS KMS JSON 1.1 protocol on a
 * loopback address so that real AWS SDK clients can use it. Key material is held in clear: test and
 * development material only. Nothing in this package is {@code null} unless marked
 * {@code @Nullable}; nothing in it depends on a test framework.
 */
@NullMarked
package dev.byok.kms.local;

import org.jspecify.annotations.NullMarked;
