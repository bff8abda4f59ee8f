package dev.fluxbot.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./mvnw} in a copy of its files, with an empty Maven home: it fetches the pinned Maven from
 * {@code MVNW_REPOURL} (the local repository, where the build's own fetch left it), checks its
 * SHA-256 and runs it; with nothing to fetch with, or a download that does not match, it says so in
 * one line.
 */
class MvnwTest {
  private static final Path ROOT = Processes.root();
  private static final String VERSION = "3.9.16";

  @TempDir Path dir;
  Path copy;
  Path userHome;

  @BeforeEach
  void copyTheWrapper() throws Exception {
    copy = Files.createDirectories(dir.resolve("repo"));
    Files.createDirectories(copy.resolve(".mvn/wrapper"));
    Files.createDirectories(copy.resolve("bin"));
    for (String file : List.of("mvnw", ".mvn/wrapper/maven-wrapper.properties", "bin/jdk21")) {
      Files.copy(ROOT.resolve(file), copy.resolve(file), StandardCopyOption.COPY_ATTRIBUTES);
    }
    userHome = Files.createDirectories(dir.resolve("m2"));
  }

  private Map<String, String> env(String path) {
    Map<String, String> env = new HashMap<>();
    env.put("PATH", path);
    env.put("HOME", dir.toString());
    env.put("MAVEN_USER_HOME", userHome.toString());
    env.put("JAVA_HOME", Path.of(System.getProperty("java.home")).toString());
    return env;
  }

  private static Path localRepository() {
    return Path.of(System.getProperty("user.home"), ".m2", "repository");
  }

  @Test
  void withNothingToFetchWithItSaysWhatToInstallOrSet() throws Exception {
    Path tools = Files.createDirectories(dir.resolve("tools"));
    for (String tool : List.of("sed", "tail", "cut", "dirname", "mkdir", "mktemp", "rm", "cat")) {
      Files.copy(
          Path.of("/usr/bin", tool), tools.resolve(tool), StandardCopyOption.COPY_ATTRIBUTES);
    }

    Processes.Result r =
        Processes.run(copy, env(tools.toString()), List.of(copy.resolve("mvnw").toString(), "-v"));

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.errLines())
        .containsExactly(
            "mvnw: Maven "
                + VERSION
                + " is not in "
                + userHome
                + "/wrapper/dists/apache-maven-"
                + VERSION
                + "/fluxbot yet and there is nothing to fetch it with: install Maven"
                + " (Debian/Ubuntu: apt-get install maven), which mvnw uses once to fetch "
                + VERSION
                + ", or set MVNW_REPOURL to a Maven repository's base URL");
  }

  @Test
  void itFetchesChecksAndRunsThePinnedMaven() throws Exception {
    Path tarball =
        localRepository()
            .resolve("org/apache/maven/apache-maven/" + VERSION)
            .resolve("apache-maven-" + VERSION + "-bin.tar.gz");
    assumeTrue(Files.isRegularFile(tarball), "no " + tarball + " in the local repository");
    Map<String, String> env = env("/usr/bin:/bin");
    env.put("MVNW_REPOURL", localRepository().toUri().toString());

    Processes.Result first =
        Processes.run(copy, env, List.of(copy.resolve("mvnw").toString(), "-v"));
    Processes.Result again =
        Processes.run(copy, env, List.of(copy.resolve("mvnw").toString(), "-v"));

    assertThat(first.code()).as(first.toString()).isZero();
    assertThat(first.out()).startsWith("Apache Maven " + VERSION + " ");
    assertThat(first.err()).contains("mvnw: Maven " + VERSION + " is ready in " + userHome);
    assertThat(again.code()).isZero();
    assertThat(again.err()).as("fetched once").doesNotContain("fetching");
  }

  @Test
  void aDownloadWithAnotherChecksumIsRefused() throws Exception {
    assumeTrue(
        Files.isDirectory(localRepository().resolve("org/apache/maven/apache-maven/" + VERSION)));
    Path props = copy.resolve(".mvn/wrapper/maven-wrapper.properties");
    Files.writeString(
        props,
        Files.readString(props).replaceAll("maven.sha256=\\w+", "maven.sha256=" + "0".repeat(64)));
    Map<String, String> env = env("/usr/bin:/bin");
    env.put("MVNW_REPOURL", localRepository().toUri().toString());

    Processes.Result r = Processes.run(copy, env, List.of(copy.resolve("mvnw").toString(), "-v"));

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("not the " + "0".repeat(64)).contains("refusing to run it");
    assertThat(userHome.resolve("wrapper/dists/apache-maven-" + VERSION + "/fluxbot"))
        .doesNotExist();
  }
}
