package dev.byok.testkit;

import java.util.List;
import java.util.Objects;

/**
 * What a {@link TamperSuite} run found: how many variants ran and which of them the decryptor got
 * wrong. Framework-neutral: call {@link #assertClean()} from any test framework, or inspect {@link
 * #failures()}.
 *
 * <p>Immutable and thread-safe.
 */
public final class TamperReport {
  private static final int SHOWN = 40;

  /** One variant the decryptor got wrong. */
  public static final class Failure {
    private final String variant;
    private final String problem;

    Failure(String variant, String problem) {
      this.variant = variant;
      this.problem = problem;
    }

    /** {@return the variant's name ({@link Tampering#name()})} */
    public String variant() {
      return variant;
    }

    /** {@return what went wrong, for example "decrypted without an exception"} */
    public String problem() {
      return problem;
    }

    @Override
    public String toString() {
      return variant + ": " + problem;
    }
  }

  private final int variantsRun;
  private final List<Failure> failures;

  TamperReport(int variantsRun, List<Failure> failures) {
    this.variantsRun = variantsRun;
    this.failures = List.copyOf(failures);
  }

  /** {@return how many variants were run} */
  public int variantsRun() {
    return variantsRun;
  }

  /** {@return the variants the decryptor got wrong, in run order; unmodifiable} */
  public List<Failure> failures() {
    return failures;
  }

  /** {@return true if no variant was got wrong (and at least one ran)} */
  public boolean isClean() {
    return failures.isEmpty() && variantsRun > 0;
  }

  /**
   * Combines two reports, for example a {@link TamperSuite#run} and a {@link TamperSuite#wrongKey}.
   *
   * @param other another report
   * @return a report with both counts and both failure lists
   */
  public TamperReport and(TamperReport other) {
    Objects.requireNonNull(other, "other");
    List<Failure> all = new java.util.ArrayList<>(failures);
    all.addAll(other.failures);
    return new TamperReport(variantsRun + other.variantsRun, all);
  }

  /**
   * Throws if the report is not clean.
   *
   * @throws AssertionError naming every failure (the first {@value #SHOWN} in full)
   */
  public void assertClean() {
    if (!isClean()) {
      throw new AssertionError(toString());
    }
  }

  /** The counts and the first failures, one a line. */
  @Override
  public String toString() {
    if (variantsRun == 0) {
      return "tamper suite ran no variant";
    }
    StringBuilder b =
        new StringBuilder("tamper suite: ")
            .append(failures.size())
            .append(" of ")
            .append(variantsRun)
            .append(" variants failed");
    for (int i = 0; i < Math.min(SHOWN, failures.size()); i++) {
      b.append("\n  ").append(failures.get(i));
    }
    if (failures.size() > SHOWN) {
      b.append("\n  ... and ").append(failures.size() - SHOWN).append(" more");
    }
    return b.toString();
  }
}
