package dev.fluxbot.app;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.type;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import dev.fluxbot.core.imagestore.ImageStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The boundaries between the modules and core's packages, checked on the compiled classes: a chat
 * adapter talks to core only through its API packages, core depends on no adapter, and the adapters
 * do not know each other.
 */
class ArchitectureTest {
  private static final String[] ADAPTERS = {
    "dev.fluxbot.discord..", "dev.fluxbot.telegram..", "dev.fluxbot.slack.."
  };

  /** What a chat platform may use of core: the root, the chat layer and the values it passes. */
  private static final String[] CORE_API = {
    "dev.fluxbot.core",
    "dev.fluxbot.core.chat",
    "dev.fluxbot.core.filter",
    "dev.fluxbot.core.model",
    "dev.fluxbot.core.quota",
    "dev.fluxbot.core.store",
    "dev.fluxbot.core.http",
    "dev.fluxbot.core.image"
  };

  private static JavaClasses main;

  @BeforeAll
  static void importMainClasses() {
    main =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.fluxbot");
    assertThat(main.containPackage("dev.fluxbot.discord")).as("adapters on the classpath").isTrue();
  }

  @Test
  void aChatAdapterUsesOnlyCoresApiPackages() {
    classes()
        .that()
        .resideInAnyPackage(ADAPTERS)
        .should()
        .onlyDependOnClassesThat(
            resideOutsideOfPackage("dev.fluxbot.core..")
                .or(resideInAnyPackage(CORE_API))
                .or(type(ImageStore.class)))
        .because("scheduling, backends, the seed cache and storage are the core's own business")
        .check(main);
  }

  @Test
  void coreDependsOnNoAdapterRuntimeOrApp() {
    noClasses()
        .that()
        .resideInAPackage("dev.fluxbot.core..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "dev.fluxbot.discord..",
            "dev.fluxbot.telegram..",
            "dev.fluxbot.slack..",
            "dev.fluxbot.runtime..",
            "dev.fluxbot.app..")
        .check(main);
  }

  @Test
  void theAdaptersDoNotKnowEachOther() {
    for (String adapter : ADAPTERS) {
      noClasses()
          .that()
          .resideInAPackage(adapter)
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              Stream.of(ADAPTERS).filter(a -> !a.equals(adapter)).toArray(String[]::new))
          .check(main);
    }
  }

  @Test
  void noPublicTypeOfCoreSaysItIsNotApi() throws IOException {
    Pattern publicType =
        Pattern.compile("^public (final |abstract |sealed )*(class|interface|record|enum) ", 8);
    List<Path> offenders;
    try (Stream<Path> files = Files.walk(Path.of("..", "core", "src", "main", "java"))) {
      offenders =
          files
              .filter(p -> p.toString().endsWith(".java"))
              .filter(
                  p -> {
                    String text = read(p);
                    return publicType.matcher(text).find() && text.contains("Not API");
                  })
              .toList();
    }
    assertThat(offenders).as("public types whose comment says they are not API").isEmpty();
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
