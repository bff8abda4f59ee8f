package dev.fluxbot.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code packaging/fluxbot.service}: the keys it sets, and systemd's own check of it with its
 * ExecStart pointing at an unpacked archive's launcher.
 */
class SystemdUnitIT {
  private static final Path UNIT = Processes.root().resolve("packaging/fluxbot.service");
  private static final Path ANALYZE = Path.of("/usr/bin/systemd-analyze");

  @TempDir Path dir;

  /** section → key → its values in order (a key may be given several times). */
  static Map<String, Map<String, List<String>>> parse(Path unit) throws Exception {
    Map<String, Map<String, List<String>>> sections = new LinkedHashMap<>();
    Map<String, List<String>> current = null;
    for (String raw : Files.readAllLines(unit)) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
        continue;
      }
      if (line.startsWith("[") && line.endsWith("]")) {
        current =
            sections.computeIfAbsent(
                line.substring(1, line.length() - 1), s -> new LinkedHashMap<>());
        continue;
      }
      int eq = line.indexOf('=');
      assertThat(eq).as("a key=value line: " + line).isPositive();
      assertThat(current).as("a key before any section: " + line).isNotNull();
      current
          .computeIfAbsent(line.substring(0, eq).strip(), k -> new ArrayList<>())
          .add(line.substring(eq + 1).strip());
    }
    return sections;
  }

  @Test
  void theServiceRunsTheArchivesLauncherAsItsOwnUserWithItsStateInVarLib() throws Exception {
    Map<String, List<String>> service = parse(UNIT).get("Service");

    assertThat(service.get("ExecStart")).containsExactly("/opt/fluxbot/bin/fluxbot run");
    assertThat(service.get("User")).containsExactly("fluxbot");
    assertThat(service.get("StateDirectory")).containsExactly("fluxbot");
    assertThat(service.get("WorkingDirectory")).containsExactly("/var/lib/fluxbot");
    assertThat(service.get("EnvironmentFile")).containsExactly("-/etc/fluxbot/fluxbot.env");
    assertThat(service.get("Environment"))
        .containsExactly(
            "LANG=C.UTF-8",
            "FLUXBOT_CONFIG=/etc/fluxbot/fluxbot.yaml",
            "FLUXBOT_DATA_DIR=/var/lib/fluxbot");
    assertThat(service.get("Restart")).containsExactly("on-failure");
    assertThat(parse(UNIT).get("Install").get("WantedBy")).containsExactly("multi-user.target");
  }

  @Test
  void theServiceIsHardenedButLeavesTheJitItsWritableCode() throws Exception {
    Map<String, List<String>> service = parse(UNIT).get("Service");

    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("NoNewPrivileges", "yes");
    expected.put("ProtectSystem", "strict");
    expected.put("ProtectHome", "yes");
    expected.put("PrivateTmp", "yes");
    expected.put("PrivateDevices", "yes");
    expected.put("ProtectKernelTunables", "yes");
    expected.put("ProtectKernelModules", "yes");
    expected.put("ProtectControlGroups", "yes");
    expected.put("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6");
    expected.put("LockPersonality", "yes");
    expected.put("CapabilityBoundingSet", "");
    expected.put("SystemCallArchitectures", "native");
    expected.forEach((key, value) -> assertThat(service.get(key)).as(key).containsExactly(value));
    assertThat(service).doesNotContainKey("MemoryDenyWriteExecute");
  }

  @Test
  void systemdAcceptsTheUnitWithTheArchivesLauncher() throws Exception {
    assumeTrue(Files.isExecutable(ANALYZE), "systemd-analyze is not installed here");
    Path home = Archive.unpack(Files.createDirectory(dir.resolve("opt")));
    String text =
        Files.readString(UNIT)
            .replace("/opt/fluxbot/bin/fluxbot", home.resolve("bin/fluxbot").toString());
    Path unit = Files.writeString(dir.resolve("fluxbot.service"), text);

    Processes.Result r =
        Processes.run(
            dir,
            Map.of("PATH", "/usr/bin:/bin"),
            List.of(ANALYZE.toString(), "verify", unit.toString()));

    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out() + r.err()).as("systemd-analyze's warnings").isEmpty();
  }

  @Test
  void systemdsCheckCatchesAMistake() throws Exception {
    assumeTrue(Files.isExecutable(ANALYZE), "systemd-analyze is not installed here");
    Path unit =
        Files.writeString(
            dir.resolve("broken.service"),
            Files.readString(UNIT)
                .replace("/opt/fluxbot/bin/fluxbot", "/bin/true")
                .replace("ProtectSystem=strict", "ProtectSystem=stricter"));

    Processes.Result r =
        Processes.run(
            dir,
            Map.of("PATH", "/usr/bin:/bin"),
            List.of(ANALYZE.toString(), "verify", unit.toString()));

    int line = Files.readAllLines(unit).indexOf("ProtectSystem=stricter") + 1;
    assertThat(r.out() + r.err()).contains(unit + ":" + line + ": ").contains("stricter");
  }
}
