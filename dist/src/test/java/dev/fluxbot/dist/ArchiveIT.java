package dev.fluxbot.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release archive as a team gets it: what it holds, and its launcher run with nothing but a
 * Java on the PATH (no Maven, no source tree), then with no Java or an old one.
 */
class ArchiveIT {
  @TempDir static Path unpacked;
  @TempDir Path dir;

  static Path home;

  @BeforeAll
  static void unpack() throws Exception {
    home = Archive.unpack(unpacked);
  }

  private static Map<String, String> onlyJava() {
    return Map.of("PATH", Processes.javaBin().toString());
  }

  private static Processes.Result fluxbot(Path cwd, Map<String, String> env, String... args)
      throws Exception {
    List<String> command = new ArrayList<>(List.of(home.resolve("bin/fluxbot").toString()));
    command.addAll(List.of(args));
    return Processes.run(cwd, env, command);
  }

  @Test
  void theArchiveHoldsExactlyTheExpectedFiles() throws Exception {
    Processes.Result listing =
        Processes.run(
            dir,
            Map.of("PATH", "/usr/bin:/bin"),
            List.of("tar", "-tvzf", Archive.file().toString()));
    assertThat(listing.code()).as(listing.toString()).isZero();

    Set<String> files = new TreeSet<>();
    Set<String> executable = new TreeSet<>();
    for (String line : listing.out().lines().toList()) {
      String[] cols = line.trim().split("\\s+");
      String name = cols[cols.length - 1];
      assertThat(name).as("every entry lies under the top folder").startsWith(Archive.base() + "/");
      if (!name.endsWith("/")) {
        String inside = name.substring(Archive.base().length() + 1);
        files.add(inside);
        if (cols[0].charAt(3) == 'x') {
          executable.add(inside);
        }
      }
    }

    Set<String> expected =
        new TreeSet<>(
            Set.of(
                "bin/fluxbot",
                "bin/fluxbot-healthcheck",
                "lib/fluxbot.jar",
                "fluxbot.example.yaml",
                ".env.example",
                "systemd/fluxbot.service",
                "THIRD-PARTY.txt",
                "worker/README.md"));
    Path worker = Processes.root().resolve("runtime-local/worker");
    try (Stream<Path> walk = Files.walk(worker.resolve("fluxbot_klein"))) {
      walk.filter(Files::isRegularFile)
          .map(p -> worker.relativize(p).toString())
          .filter(p -> !p.contains("__pycache__") && !p.endsWith(".pyc"))
          .forEach(p -> expected.add("worker/" + p));
    }
    assertThat(files).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(executable).containsExactlyInAnyOrder("bin/fluxbot", "bin/fluxbot-healthcheck");
  }

  @Test
  void theFilesBesideTheJarAreTheRepositorysOwn() throws Exception {
    Path root = Processes.root();
    assertThat(home.resolve("fluxbot.example.yaml"))
        .hasSameTextualContentAs(root.resolve("packaging/fluxbot.example.yaml"));
    assertThat(home.resolve(".env.example")).hasSameTextualContentAs(root.resolve(".env.example"));
    assertThat(home.resolve("systemd/fluxbot.service"))
        .hasSameTextualContentAs(root.resolve("packaging/fluxbot.service"));
    assertThat(home.resolve("bin/fluxbot"))
        .hasSameTextualContentAs(root.resolve("dist/src/bin/fluxbot"));
    assertThat(home.resolve("lib/fluxbot.jar"))
        .hasSameBinaryContentAs(root.resolve("app/target/fluxbot.jar"));
  }

  @Test
  void versionPrintsTheBuiltVersionWithOnlyAJavaOnThePath() throws Exception {
    Processes.Result r = fluxbot(dir, onlyJava(), "--version");

    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo("fluxbot " + Archive.version() + "\n");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void doctorRunsOnTheSampleConfigAndSaysWhatIsMissing() throws Exception {
    Path sample = home.resolve("fluxbot.example.yaml");

    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
      port = free.getLocalPort(); // the default 9464 may be taken on a test machine
    }
    Map<String, String> env = new java.util.HashMap<>(onlyJava());
    env.put("FLUXBOT_OPS_LISTEN", "127.0.0.1:" + port);
    Processes.Result r = fluxbot(dir, env, "--config", sample.toString(), "doctor");

    assertThat(r.code()).as(r.toString()).isEqualTo(1);
    assertThat(r.out().lines().toList())
        .containsExactly(
            "ok    config: " + sample,
            "--    database: SQLite data/fluxbot.db does not exist yet; run (or imagine) creates it",
            "ok    image store: local pack files in data/images (set storage.images_url to"
                + " s3://BUCKET/PREFIX to share images between machines)",
            "--    discord: not configured; set FLUXBOT_DISCORD_TOKEN (or discord.token_file) to"
                + " use Discord",
            "--    telegram: not configured; set FLUXBOT_TELEGRAM_TOKEN (or telegram.token_file)"
                + " to use Telegram",
            "--    slack: not configured; set FLUXBOT_SLACK_BOT_TOKEN and FLUXBOT_SLACK_APP_TOKEN"
                + " (or slack.bot_token_file and slack.app_token_file) to use Slack",
            "FAIL  chat platforms: none configured, so fluxbot run has nothing to serve; set"
                + " FLUXBOT_DISCORD_TOKEN, FLUXBOT_TELEGRAM_TOKEN or the Slack tokens",
            "FAIL  bfl: no API key; set BFL_API_KEY or bfl.api_key_file (create a key at"
                + " https://dashboard.bfl.ai)",
            "ok    ops: run will serve /healthz, /readyz and /metrics on 127.0.0.1:" + port,
            "--    enhance: off; --enhance is refused (set enhance.base_url and enhance.model to turn"
                + " it on)",
            "--    local klein: not configured; klein runs on BFL (add a local: section to run it"
                + " on your own GPU)",
            "2 problem(s) found; fix the FAIL lines above.");
    assertThat(dir.resolve("data")).as("doctor creates nothing").doesNotExist();
  }

  @Test
  void theLauncherFollowsALinkToItself() throws Exception {
    Path link = Files.createSymbolicLink(dir.resolve("fluxbot"), home.resolve("bin/fluxbot"));

    Processes.Result r =
        Processes.run(
            dir,
            Map.of("PATH", Processes.javaBin() + ":/usr/bin:/bin"),
            List.of(link.toString(), "--version"));

    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo("fluxbot " + Archive.version() + "\n");
  }

  @Test
  void withNoJavaItSaysSoInOneLine() throws Exception {
    Path empty = Files.createDirectory(dir.resolve("empty"));

    Processes.Result r = fluxbot(dir, Map.of("PATH", empty.toString()), "--version");

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.errLines())
        .containsExactly(
            "fluxbot: no Java found (JAVA_HOME is not set and there is no java on the PATH);"
                + " install a Java 21 or newer runtime (Debian/Ubuntu: apt-get install"
                + " openjdk-21-jre-headless) or set JAVA_HOME");
  }

  @Test
  void withAnOldJavaItSaysWhichAndWhatToDo() throws Exception {
    Path old = Files.createDirectories(dir.resolve("jdk17/bin"));
    Path java = old.resolve("java");
    Files.writeString(
        java,
        "#!/bin/sh\n"
            + "echo 'openjdk version \"17.0.9\" 2023-10-17' >&2\n"
            + "echo 'OpenJDK Runtime Environment (build 17.0.9+9)' >&2\n");
    Set<PosixFilePermission> rwx = PosixFilePermissions.fromString("rwxr-xr-x");
    Files.setPosixFilePermissions(java, rwx);

    Processes.Result onPath = fluxbot(dir, Map.of("PATH", old.toString()), "--version");
    Processes.Result inHome =
        fluxbot(
            dir,
            Map.of("PATH", Processes.javaBin().toString(), "JAVA_HOME", old.getParent().toString()),
            "--version");

    assertThat(onPath.code()).isEqualTo(1);
    assertThat(onPath.errLines())
        .containsExactly(
            "fluxbot: the Java from the PATH ("
                + java
                + ") is version 17; fluxbot needs 21 or newer: install one (Debian/Ubuntu:"
                + " apt-get install openjdk-21-jre-headless) and put it first on the PATH or set"
                + " JAVA_HOME");
    assertThat(inHome.code()).isEqualTo(1);
    assertThat(inHome.errLines())
        .containsExactly(
            "fluxbot: the Java from JAVA_HOME ("
                + old.getParent()
                + ") is version 17; fluxbot needs 21 or newer: install one (Debian/Ubuntu:"
                + " apt-get install openjdk-21-jre-headless) and put it first on the PATH or set"
                + " JAVA_HOME");
  }

  @Test
  void aJavaHomeWithoutJavaIsNamed() throws Exception {
    Processes.Result r =
        fluxbot(
            dir,
            Map.of("PATH", Processes.javaBin().toString(), "JAVA_HOME", dir.toString()),
            "--version");

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.errLines())
        .containsExactly(
            "fluxbot: JAVA_HOME is "
                + dir
                + " but "
                + dir
                + "/bin/java does not exist; point JAVA_HOME at a Java 21 or newer, or unset it"
                + " to use the java on the PATH");
  }

  @Test
  void javaOptionsReachTheJvm() throws Exception {
    Map<String, String> env =
        Map.of(
            "PATH", Processes.javaBin().toString(), "FLUXBOT_JAVA_OPTS", "-Xmx64m -Xlog:disable");

    Processes.Result ok = fluxbot(dir, env, "--version");
    Processes.Result bad =
        fluxbot(
            dir,
            Map.of("PATH", Processes.javaBin().toString(), "FLUXBOT_JAVA_OPTS", "-Xmx1k"),
            "--version");

    assertThat(ok.code()).as(ok.toString()).isZero();
    assertThat(bad.code())
        .as("a heap of 1 KiB is refused by the JVM, so the option got there")
        .isNotZero();
  }

  @Test
  void theThirdPartyNoticesNameEveryArtifactBundledInTheJar() throws Exception {
    String notices = Files.readString(home.resolve("THIRD-PARTY.txt"));
    Set<String> bundled = new TreeSet<>();
    try (JarFile jar = new JarFile(home.resolve("lib/fluxbot.jar").toFile())) {
      jar.stream()
          .map(e -> e.getName())
          .filter(n -> n.startsWith("META-INF/maven/") && n.endsWith("/pom.properties"))
          .map(n -> n.split("/"))
          .filter(parts -> !parts[2].equals("dev.fluxbot"))
          .forEach(parts -> bundled.add(parts[2] + ":" + parts[3] + ":"));
    }

    assertThat(bundled).hasSizeGreaterThan(30);
    for (String artifact : bundled) {
      assertThat(notices).as("THIRD-PARTY.txt names " + artifact).contains("(" + artifact);
    }
    assertThat(notices)
        .contains("(The Apache Software License, version 2.0) picocli (info.picocli:picocli:")
        .doesNotContain("dev.fluxbot:");
  }
}
