package dev.byok;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** byok-core holds no vendor type, and its public API names no internal type. */
class ArchitectureTest {
  private static final JavaClasses CORE =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.byok");

  @Test
  void theImportSeesTheCore() {
    assertThat(CORE.contain(EnvelopeEncryptor.class)).isTrue();
    assertThat(CORE.contain(dev.byok.internal.SegmentCipher.class)).isTrue();
    assertThat(CORE.contain(ArchitectureTest.class))
        .as("tests are not part of the check")
        .isFalse();
  }

  @Test
  void noAwsTypeAnywhereInTheCore() {
    noClasses()
        .that()
        .resideInAPackage("dev.byok..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("software.amazon..", "com.amazonaws..")
        .because("byok-core is vendor-neutral; AWS lives in byok-kms-aws")
        .check(CORE);
  }

  /**
   * The lean runtime closure: main classes use only the JDK, Caffeine, the SLF4J API and JSpecify
   * (no Tink, protobuf or gson; HKDF is {@code javax.crypto.Mac}).
   */
  @Test
  void theCoreUsesOnlyTheJdkCaffeineSlf4jAndJspecify() {
    classes()
        .that()
        .resideInAPackage("dev.byok..")
        .should()
        .onlyDependOnClassesThat()
        .resideInAnyPackage(
            "java..",
            "javax..",
            "dev.byok..",
            "com.github.benmanes.caffeine..",
            "org.slf4j..",
            "org.jspecify..",
            "")
        .because("byok-core's runtime closure is Caffeine, SLF4J API and JSpecify")
        .check(CORE);
  }

  @Test
  void theCoreDoesNotPrintOrExit() {
    noClasses()
        .that()
        .resideInAPackage("dev.byok..")
        .should()
        .accessField(System.class, "out")
        .orShould()
        .accessField(System.class, "err")
        .orShould()
        .callMethod(System.class, "exit", int.class)
        .orShould()
        .callMethod(Throwable.class, "printStackTrace")
        .check(CORE);
  }

  /**
   * Public members of exported API classes must not mention dev.byok.internal in their signatures.
   */
  @Test
  void publicApiSignaturesNameNoInternalType() {
    DescribedPredicate<JavaClass> internal =
        DescribedPredicate.describe(
            "in dev.byok.internal", c -> c.getPackageName().startsWith("dev.byok.internal"));
    ArchCondition<JavaClass> noInternalInSignatures =
        new ArchCondition<>("name no internal type in public signatures") {
          @Override
          public void check(JavaClass c, ConditionEvents events) {
            List<String> bad = new ArrayList<>();
            Stream.concat(c.getConstructors().stream(), c.getMethods().stream())
                .filter(m -> isPublicApi(m.getModifiers()))
                .forEach(
                    m ->
                        signatureTypes(m)
                            .filter(internal)
                            .forEach(t -> bad.add(m.getFullName() + " uses " + t.getName())));
            for (JavaField f : c.getFields()) {
              if (isPublicApi(f.getModifiers()) && internal.test(f.getRawType())) {
                bad.add(f.getFullName() + " has type " + f.getRawType().getName());
              }
            }
            bad.forEach(b -> events.add(SimpleConditionEvent.violated(c, b)));
          }
        };
    com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes()
        .that()
        .resideInAPackage("dev.byok")
        .and()
        .arePublic()
        .should(noInternalInSignatures)
        .check(CORE);
  }

  private static boolean isPublicApi(java.util.Set<JavaModifier> modifiers) {
    return modifiers.contains(JavaModifier.PUBLIC) || modifiers.contains(JavaModifier.PROTECTED);
  }

  private static Stream<JavaClass> signatureTypes(JavaCodeUnit m) {
    return Stream.of(
            m.getRawParameterTypes().stream(),
            Stream.of(m.getRawReturnType()),
            m.getExceptionTypes().stream())
        .flatMap(s -> s);
  }
}
