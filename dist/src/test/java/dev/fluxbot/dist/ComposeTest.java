package dev.fluxbot.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code compose.yaml}, resolved by a real Compose client ({@code docker compose} or {@code
 * docker-compose}) for each profile, with an environment file written as {@code .env.example} says:
 * the services each profile runs, where the secrets go, and that none is in the file. Skipped where
 * no Compose client is installed, unless {@code FLUXBOT_REQUIRE_COMPOSE=1}.
 */
class ComposeTest {
  private static final Path ROOT = Processes.root();
  private static final Path COMPOSE = ROOT.resolve("compose.yaml");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Pattern SECRET = Pattern.compile("KEY|TOKEN|SECRET|PASSWORD");

  @TempDir static Path dir;
  static List<String> client;

  @BeforeAll
  static void findClient() throws Exception {
    for (List<String> candidate :
        List.of(
            List.of("/usr/bin/docker", "compose"),
            List.of("/usr/local/bin/docker", "compose"),
            List.of("/usr/bin/docker-compose"),
            List.of("/usr/local/bin/docker-compose"))) {
      if (Files.isExecutable(Path.of(candidate.get(0)))) {
        List<String> version = new ArrayList<>(candidate);
        version.add("version");
        if (Processes.run(dir, env(), version).code() == 0) {
          client = candidate;
          return;
        }
      }
    }
    if ("1".equals(System.getenv("FLUXBOT_REQUIRE_COMPOSE"))) {
      fail("FLUXBOT_REQUIRE_COMPOSE=1 but neither docker compose nor docker-compose works here");
    }
    Assumptions.abort("no Compose client here (docker compose or docker-compose); skipped");
  }

  private static Map<String, String> env() {
    return Map.of("PATH", "/usr/local/bin:/usr/bin:/bin", "HOME", dir.toString());
  }

  /** The .env a team writes: {@code .env.example}'s hints ("# VAR=value") taken, plus more. */
  private static Path envFile(Map<String, String> more) throws Exception {
    Map<String, String> vars = new LinkedHashMap<>();
    Pattern hint = Pattern.compile("^#\\s+([A-Z][A-Z0-9_]*)=(\\S+)$");
    for (String line : Files.readAllLines(ROOT.resolve(".env.example"))) {
      Matcher m = hint.matcher(line);
      if (m.matches()) {
        vars.put(m.group(1), m.group(2));
      }
    }
    vars.putAll(more);
    StringBuilder text = new StringBuilder();
    vars.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
    return Files.writeString(Files.createTempFile(dir, "env", ""), text);
  }

  /** The resolved services a profile runs (those with no profile, or with this one). */
  private static Map<String, JsonNode> services(String profile, Path envFile) throws Exception {
    List<String> command = new ArrayList<>(client);
    command.addAll(List.of("--env-file", envFile.toString(), "-f", COMPOSE.toString()));
    if (profile != null) {
      command.addAll(List.of("--profile", profile));
    }
    command.add("config");
    Processes.Result r = Processes.run(dir, env(), command);
    assertThat(r.code()).as(r.toString()).isZero();
    Map<String, JsonNode> running = new LinkedHashMap<>();
    YAML.readTree(r.out())
        .get("services")
        .fields()
        .forEachRemaining(
            e -> {
              JsonNode profiles = e.getValue().get("profiles");
              boolean on = profiles == null || profiles.isEmpty();
              if (profiles != null && profile != null) {
                for (JsonNode p : profiles) {
                  on |= p.asText().equals(profile);
                }
              }
              if (on) {
                running.put(e.getKey(), e.getValue());
              }
            });
    return running;
  }

  private static String env(JsonNode service, String name) {
    JsonNode environment = service.get("environment");
    if (environment == null || environment.get(name) == null || environment.get(name).isNull()) {
      return "";
    }
    return environment.get(name).asText();
  }

  @Test
  void byDefaultOnlyTheBotRunsOnSqliteInItsVolume() throws Exception {
    Map<String, JsonNode> services = services(null, envFile(Map.of("FLUXBOT_DATABASE_URL", "")));

    assertThat(services).containsOnlyKeys("fluxbot");
    JsonNode bot = services.get("fluxbot");
    assertThat(env(bot, "FLUXBOT_DATABASE_URL")).isEmpty();
    assertThat(env(bot, "FLUXBOT_INSTANCE_ID")).isEqualTo("bot-a");
    assertThat(bot.get("volumes").toString()).contains("fluxbot-data").contains("/data");
    assertThat(bot.get("ports").toString()).contains("9464");
  }

  @Test
  void postgresAddsTheDatabaseAndTheBotUsesItWithThePassword() throws Exception {
    Map<String, JsonNode> services =
        services("postgres", envFile(Map.of("POSTGRES_PASSWORD", "pg-secret-123")));

    assertThat(services).containsOnlyKeys("fluxbot", "postgres");
    JsonNode bot = services.get("fluxbot");
    assertThat(env(bot, "FLUXBOT_DATABASE_URL"))
        .isEqualTo("jdbc:postgresql://postgres:5432/fluxbot?user=fluxbot");
    assertThat(env(bot, "FLUXBOT_DATABASE_PASSWORD")).isEqualTo("pg-secret-123");
    assertThat(env(services.get("postgres"), "POSTGRES_PASSWORD")).isEqualTo("pg-secret-123");
    assertThat(env(services.get("postgres"), "POSTGRES_USER")).isEqualTo("fluxbot");
  }

  @Test
  void gpuAddsAKleinWorkerOnTheNvidiaRuntimeThatTheBotPointsAt() throws Exception {
    Map<String, JsonNode> services = services("gpu", envFile(Map.of()));

    assertThat(services).containsOnlyKeys("fluxbot", "klein");
    JsonNode device = services.get("klein").at("/deploy/resources/reservations/devices/0");
    assertThat(device.get("driver").asText()).isEqualTo("nvidia");
    assertThat(device.get("capabilities").toString()).contains("gpu");
    assertThat(services.get("klein").get("command").toString())
        .contains("serve")
        .contains("/models/FLUX.2-klein-4B")
        .contains("0.0.0.0:8188");
    assertThat(env(services.get("fluxbot"), "FLUXBOT_LOCAL_WORKERS"))
        .isEqualTo("http://klein:8188");
  }

  @Test
  void scaleRunsTwoInstancesOnOneDatabaseAndOneImageStore() throws Exception {
    Map<String, JsonNode> services =
        services(
            "scale",
            envFile(
                Map.of(
                    "AWS_ACCESS_KEY_ID", "minio-user",
                    "AWS_SECRET_ACCESS_KEY", "minio-secret-123",
                    "FLUXBOT_DISCORD_SHARDS_TOTAL", "2",
                    "FLUXBOT_DISCORD_SHARD_IDS", "0")));

    assertThat(services)
        .containsOnlyKeys("fluxbot", "fluxbot-b", "postgres", "minio", "minio-bucket");
    JsonNode a = services.get("fluxbot");
    JsonNode b = services.get("fluxbot-b");
    assertThat(env(a, "FLUXBOT_INSTANCE_ID")).isEqualTo("bot-a");
    assertThat(env(b, "FLUXBOT_INSTANCE_ID")).isEqualTo("bot-b");
    assertThat(env(a, "FLUXBOT_DISCORD_SHARD_IDS")).isEqualTo("0");
    assertThat(env(b, "FLUXBOT_DISCORD_SHARD_IDS")).isEqualTo("1");
    for (String shared :
        List.of(
            "FLUXBOT_DATABASE_URL",
            "FLUXBOT_IMAGES_URL",
            "FLUXBOT_S3_ENDPOINT",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "FLUXBOT_DISCORD_SHARDS_TOTAL")) {
      assertThat(env(b, shared)).as(shared).isNotEmpty().isEqualTo(env(a, shared));
    }
    assertThat(env(a, "FLUXBOT_IMAGES_URL")).isEqualTo("s3://fluxbot/images");
    assertThat(env(a, "FLUXBOT_S3_ENDPOINT")).isEqualTo("http://minio:9000");
    assertThat(env(services.get("minio"), "MINIO_ROOT_PASSWORD")).isEqualTo("minio-secret-123");
    assertThat(b.get("volumes").toString()).contains("fluxbot-b-data");
    assertThat(b.get("depends_on").toString()).contains("postgres").contains("minio-bucket");
  }

  @Test
  void secretsComeOnlyFromTheEnvironmentAndReachOnlyTheServicesThatNeedThem() throws Exception {
    Map<String, String> secrets = new HashMap<>();
    secrets.put("BFL_API_KEY", "bfl-key-123");
    secrets.put("FLUXBOT_DISCORD_TOKEN", "discord-token-123");
    secrets.put("FLUXBOT_TELEGRAM_TOKEN", "telegram-token-123");
    secrets.put("FLUXBOT_SLACK_BOT_TOKEN", "xoxb-123");
    secrets.put("FLUXBOT_WEB_SECRET", "web-secret-1234567890123456789012345");
    Map<String, JsonNode> services = services("scale", envFile(secrets));
    for (String bot : List.of("fluxbot", "fluxbot-b")) {
      secrets.forEach(
          (k, v) -> assertThat(env(services.get(bot), k)).as(bot + " " + k).isEqualTo(v));
    }
    for (String other : List.of("postgres", "minio", "minio-bucket")) {
      assertThat(services.get(other).toString()).doesNotContain(secrets.values());
    }

    // Without a .env, every secret resolves to nothing: none is written in compose.yaml.
    Map<String, JsonNode> bare = services("scale", Files.writeString(dir.resolve("empty.env"), ""));
    for (Map.Entry<String, JsonNode> service : bare.entrySet()) {
      JsonNode environment = service.getValue().get("environment");
      if (environment != null) {
        environment
            .fieldNames()
            .forEachRemaining(
                name -> {
                  if (SECRET.matcher(name).find()) {
                    assertThat(env(service.getValue(), name))
                        .as(service.getKey() + " " + name)
                        .isEmpty();
                  }
                });
      }
    }
  }

  @Test
  void everyVariableComposeReadsIsDocumentedInTheEnvExample() throws Exception {
    Set<String> used = new TreeSet<>();
    Matcher m = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)").matcher(Files.readString(COMPOSE));
    while (m.find()) {
      used.add(m.group(1));
    }
    Set<String> documented = new TreeSet<>();
    for (String line : Files.readAllLines(ROOT.resolve(".env.example"))) {
      Matcher d = Pattern.compile("^([A-Z][A-Z0-9_]*)=").matcher(line);
      if (d.find()) {
        documented.add(d.group(1));
      }
    }

    assertThat(documented).containsAll(used);
  }
}
