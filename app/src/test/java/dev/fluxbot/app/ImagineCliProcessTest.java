package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.Scenario;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@code fluxbot imagine} as a real child process against the fake BFL API. */
class ImagineCliProcessTest {
  private static final String KEY = "sk-live-TESTSECRET-9f8e7d6c";
  private static final ObjectMapper JSON = new ObjectMapper();

  @RegisterExtension final FakeBflApiExtension bflFake = new FakeBflApiExtension(b -> b.key(KEY));
  private final FakeBflApi fake = bflFake.get();

  @TempDir Path dir;

  record Run(int exit, String out, String err) {
    String all() {
      return out + err;
    }
  }

  private Run fluxbot(Map<String, String> env, String... args) throws Exception {
    ProcessBuilder pb = FluxbotProcess.builder(dir, env, args);
    Path out = dir.resolve("stdout.txt");
    Path err = dir.resolve("stderr.txt");
    Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("fluxbot finished").isTrue();
    return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  private Map<String, String> env() {
    Map<String, String> env = new HashMap<>();
    env.put("BFL_API_KEY", KEY);
    env.put("FLUXBOT_BFL_BASE_URL", fake.baseUrl());
    return env;
  }

  @Test
  void imagineWritesTheImageAndPrintsModelSizeSeedAndCost() throws Exception {
    fake.enqueue(Scenario.ready().withCost(1.4));
    Run run =
        fluxbot(
            env(), "imagine", "a red fox in snow --ar 16:9 --seed 7 --format png", "-o", "fox.png");

    assertThat(run.exit()).as(run.all()).isZero();
    BufferedImage image = ImageIO.read(dir.resolve("fox.png").toFile());
    assertThat(image.getWidth()).isEqualTo(1344);
    assertThat(image.getHeight()).isEqualTo(768);
    Path plain = Files.writeString(dir.resolve("plain.txt"), "made under the same umask");
    assertThat(Files.getPosixFilePermissions(dir.resolve("fox.png")))
        .as("the umask applies, not a temp file's 0600")
        .isEqualTo(Files.getPosixFilePermissions(plain));
    try (var leftovers = Files.list(dir)) {
      assertThat(leftovers.map(p -> p.getFileName().toString()))
          .noneMatch(n -> n.endsWith(".part"));
    }
    assertThat(run.out())
        .contains("Saved fox.png")
        .contains("model klein-4b, 1344x768, seed 7, 1.4 credits");
    assertThat(run.err()).contains("Generating");
    assertThat(run.all()).doesNotContain(KEY);
    assertThat(fake.takeSubmit().body().get("seed").asLong()).isEqualTo(7);
    assertThat(fake.validationErrors()).isEmpty();
  }

  @Test
  void theExtensionOfOutputChoosesTheFormatWhenNoneIsTyped() throws Exception {
    Run run = fluxbot(env(), "imagine", "a red fox in snow", "-o", "fox.png");

    assertThat(run.exit()).as(run.all()).isZero();
    assertThat(fake.takeSubmit().body().get("output_format").asText()).isEqualTo("png");
    byte[] bytes = Files.readAllBytes(dir.resolve("fox.png"));
    assertThat(bytes).as("PNG bytes in fox.png").startsWith(0x89, 'P', 'N', 'G');
  }

  @Test
  void anOutputExtensionThatContradictsTheTypedFormatIsAClearError() throws Exception {
    Run run = fluxbot(env(), "imagine", "a red fox --format jpeg", "-o", "fox.png");

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err())
        .contains("-o \"fox.png\" names a PNG file, but --format asks for jpeg")
        .contains("--format png")
        .doesNotContain("Exception");
    assertThat(fake.submits()).isEmpty();
    assertThat(dir.resolve("fox.png")).doesNotExist();

    Run gif = fluxbot(env(), "imagine", "a red fox", "-o", "fox.gif", "--dry-run");
    assertThat(gif.exit()).isEqualTo(2);
    assertThat(gif.err()).contains("-o: the file's extension").contains("\"fox.gif\"");

    Run dry = fluxbot(Map.of(), "imagine", "a red fox", "-o", "fox.webp", "--dry-run", "--json");
    assertThat(dry.exit()).as(dry.all()).isZero();
    assertThat(JSON.readTree(dry.out()).get("output_format").asText()).isEqualTo("webp");
  }

  @Test
  void withoutASeedOneIsDrawnAndPrintedAndTheDefaultFileNameComesFromTheJob() throws Exception {
    Run run = fluxbot(env(), "imagine", "a red fox", "--json");
    assertThat(run.exit()).as(run.all()).isZero();
    JsonNode result = JSON.readTree(run.out());
    long seed = result.get("seed").asLong();
    assertThat(seed).isBetween(0L, 4294967295L);
    assertThat(fake.takeSubmit().body().get("seed").asLong()).isEqualTo(seed);
    String file = result.get("file").asText();
    assertThat(file).matches("fluxbot-[0-9A-Z]{26}\\.jpg").contains(result.get("job_id").asText());
    assertThat(Files.size(dir.resolve(file))).isPositive();
    assertThat(result.get("model").asText()).isEqualTo("klein-4b");
    assertThat(result.get("width").asInt()).isEqualTo(1024);
    assertThat(result.get("format").asText()).isEqualTo("jpeg");
    assertThat(result.get("cost_credits").isNumber()).isTrue();
  }

  @Test
  void dryRunJsonPrintsTheNormalizedRequestAndSendsNothing() throws Exception {
    Run run =
        fluxbot(
            Map.of(),
            "imagine",
            "a fox --model flex --ar 16:9 --res 2k --seed 7 --steps 28 --guidance 4.5",
            "--dry-run",
            "--json");
    assertThat(run.exit()).as(run.all()).isZero();
    assertThat(JSON.readTree(run.out()))
        .isEqualTo(
            JSON.readTree(
                """
        {"model":"flex","backend":"bfl","endpoint":"/v1/flux-2-flex","prompt":"a fox","width":2048,"height":1168,"seed":7,
         "steps":28,"guidance":4.5,"safety_tolerance":2,"output_format":"jpeg","references":0,
         "estimated_cost_credits":15,"n":1}"""));
    assertThat(fake.requests()).isEmpty();

    Run wide = fluxbot(Map.of(), "imagine", "a fox --model flex --ar 21:9", "--dry-run", "--json");
    assertThat(wide.out())
        .contains("\"width\":1568,\"height\":672")
        .contains("\"estimated_cost_credits\":10,\"n\":1}");

    Run absent =
        fluxbot(
            Map.of(),
            "imagine",
            "a fox",
            "--image",
            "https://example.invalid/a.png",
            "--dry-run",
            "--json");
    JsonNode r = JSON.readTree(absent.out());
    assertThat(r.get("seed").isNull()).isTrue();
    assertThat(r.get("steps").isNull()).isTrue();
    assertThat(r.get("guidance").isNull()).isTrue();
    assertThat(r.get("width").isNull()).isTrue();
    assertThat(r.get("references").asInt()).isEqualTo(1);
  }

  @Test
  void aUserErrorExitsWith2AndSaysWhatToDo() throws Exception {
    Run run = fluxbot(env(), "imagine", "a fox --seed -1");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err())
        .contains(
            "--seed: must be a whole number from 0 to 4294967295, or last; got \"-1\". Example: --seed 42.");
    assertThat(run.out()).isEmpty();
    assertThat(fake.requests()).isEmpty();

    for (String name : List.of("a.png", "b.png", "c.png", "d.png", "e.png")) {
      ImageIO.write(
          new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB), "png", dir.resolve(name).toFile());
    }
    Run keyless = fluxbot(Map.of(), "imagine", "a fox --v 6");
    assertThat(keyless.exit()).as("input is checked before the key").isEqualTo(2);
    assertThat(keyless.err()).contains("Unknown option --v;");

    Run tooMany =
        fluxbot(
            env(), "imagine", "a fox", "--image", "a.png", "--image", "b.png", "--image", "c.png",
            "--image", "d.png", "--image", "e.png");
    assertThat(tooMany.exit()).isEqualTo(2);
    assertThat(tooMany.err()).contains("klein-4b takes at most 4 reference images; got 5");
  }

  @Test
  void moderationExitsWith1() throws Exception {
    fake.enqueue(Scenario.moderated("Content Moderated", "NSFW"));
    Run run = fluxbot(env(), "imagine", "a fox");
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).contains("BFL's moderation blocked the generated image: NSFW");
  }

  @Test
  void aBackendFailureExitsWith1() throws Exception {
    fake.enqueue(Scenario.submitError(402, "Insufficient credits"));
    Run run = fluxbot(env(), "imagine", "a fox");
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).contains("out of credits (402").doesNotContain(KEY);
  }

  @Test
  void aMissingKeySaysHowToGetOne() throws Exception {
    Run run = fluxbot(Map.of("FLUXBOT_BFL_BASE_URL", fake.baseUrl()), "imagine", "a fox");
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err())
        .contains("no BFL API key")
        .contains("https://dashboard.bfl.ai")
        .contains("BFL_API_KEY");
    assertThat(fake.requests()).isEmpty();
  }

  @Test
  void aLocalReferenceImageIsSentAsBase64() throws Exception {
    BufferedImage ref = new BufferedImage(320, 240, BufferedImage.TYPE_INT_RGB);
    ImageIO.write(ref, "png", dir.resolve("cat.png").toFile());
    Run run =
        fluxbot(
            env(), "imagine", "the same cat as a painting", "--image", "cat.png", "-o", "out.jpg");
    assertThat(run.exit()).as(run.all()).isZero();
    JsonNode body = fake.takeSubmit().body();
    assertThat(body.get("input_image").asText())
        .isEqualTo(
            java.util.Base64.getEncoder()
                .encodeToString(Files.readAllBytes(dir.resolve("cat.png"))));
    assertThat(body.get("width").asInt()).isEqualTo(1280);
    assertThat(body.get("height").asInt()).isEqualTo(960);
    assertThat(fake.validationErrors()).isEmpty();

    Run missing = fluxbot(env(), "imagine", "a cat", "--image", "nope.png");
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.err()).contains("--image: no such file: nope.png");
  }

  @Test
  void theConfigFileIsReadAndAnUnknownKeyIsNamed() throws Exception {
    Files.writeString(
        dir.resolve("fluxbot.yaml"), "imagine:\n  default_model: pro\n  default_format: png\n");
    Run run = fluxbot(env(), "imagine", "a fox", "--dry-run", "--json");
    assertThat(run.exit()).as(run.all()).isZero();
    assertThat(JSON.readTree(run.out()).get("model").asText()).isEqualTo("pro");
    assertThat(JSON.readTree(run.out()).get("output_format").asText()).isEqualTo("png");

    Files.writeString(
        dir.resolve("bad.yaml"), "imagine:\n  default_modle: pro\n", StandardCharsets.UTF_8);
    Run bad = fluxbot(env(), "--config", "bad.yaml", "imagine", "a fox", "--dry-run");
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.err())
        .contains("bad.yaml: unknown setting 'imagine.default_modle'")
        .contains("default_model");
  }

  @Test
  void theKeyMayComeFromAFile() throws Exception {
    Files.writeString(dir.resolve("bfl.key"), KEY + "\n");
    Files.writeString(dir.resolve("cfg.yaml"), "bfl:\n  api_key_file: bfl.key\n");
    Run run =
        fluxbot(
            Map.of("FLUXBOT_BFL_BASE_URL", fake.baseUrl(), "FLUXBOT_CONFIG", "cfg.yaml"),
            "imagine",
            "a fox",
            "-o",
            "fox.jpg");
    assertThat(run.exit()).as(run.all()).isZero();
    assertThat(fake.takeSubmit().header("x-key")).contains(KEY);
    assertThat(run.all()).doesNotContain(KEY);
  }
}
