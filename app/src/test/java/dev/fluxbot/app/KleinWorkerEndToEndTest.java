package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxbot.testkit.KleinPython;
import java.awt.image.BufferedImage;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fluxbot imagine --model klein} end to end on the real worker: fluxbot (a child process)
 * starts the Python worker (its own child, from the package inside the jar) on a tiny random
 * checkpoint in the official layouts, on the CPU, and writes the PNG it makes.
 */
class KleinWorkerEndToEndTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @BeforeEach
  void needsTorch() {
    assumeTrue(
        KleinPython.isAvailable() || KleinPython.isRequired(),
        "no Python with torch here (install python3-torch, or set FLUXBOT_REQUIRE_TORCH=1 to fail instead)");
    assertThat(KleinPython.isAvailable())
        .as("%s imports torch", KleinPython.interpreter())
        .isTrue();
  }

  record Run(int exit, String out, String err) {}

  private Run fluxbot(String... args) throws Exception {
    Path out = dir.resolve("stdout.txt");
    Path err = dir.resolve("stderr.txt");
    Process p =
        FluxbotProcess.builder(dir, Map.of(), args)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("fluxbot finished").isTrue();
    return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  private void spawnConfig(Path checkpoint) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Files.writeString(
        dir.resolve("fluxbot.yaml"),
        "local:\n  spawn:\n    python: "
            + KleinPython.interpreter()
            + "\n"
            + "    checkpoint: "
            + checkpoint
            + "\n    device: cpu\n    listen: 127.0.0.1:"
            + port
            + "\n"
            + "    health_timeout: 240s\n");
  }

  @Test
  void imagineWithModelKleinGetsAPngOfTheRequestedSizeFromTheRealWorker() throws Exception {
    spawnConfig(KleinPython.tinyCheckpoint(dir.resolve("klein-hf"), "hf"));

    Run first =
        fluxbot(
            "imagine",
            "a red fox in snow --model klein --size 96x64 --seed 7 --format png --no-cache",
            "-o",
            "fox.png",
            "--json");
    assertThat(first.exit()).as(first.out() + first.err()).isZero();
    BufferedImage image = ImageIO.read(dir.resolve("fox.png").toFile());
    assertThat(image.getWidth()).isEqualTo(96);
    assertThat(image.getHeight()).isEqualTo(64);
    JsonNode result = JSON.readTree(first.out());
    assertThat(result.get("backend").asText()).isEqualTo("local-klein");
    assertThat(result.get("seed").asLong()).isEqualTo(7);

    Run again =
        fluxbot(
            "imagine",
            "a red fox in snow --model klein --size 96x64 --seed 7 --format png --no-cache",
            "-o",
            "again.png",
            "--json");
    assertThat(again.exit()).as(again.out() + again.err()).isZero();
    assertThat(Files.readAllBytes(dir.resolve("again.png")))
        .as("same request, same seed, a new worker: same image")
        .isEqualTo(Files.readAllBytes(dir.resolve("fox.png")));
  }

  @Test
  void theBflSingleFileLayoutServesTooAndAReferenceChangesTheImage() throws Exception {
    spawnConfig(KleinPython.tinyCheckpoint(dir.resolve("klein-bfl"), "bfl"));
    BufferedImage ref = new BufferedImage(80, 48, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < ref.getHeight(); y++) {
      for (int x = 0; x < ref.getWidth(); x++) {
        ref.setRGB(x, y, (x * 3) << 16 | (y * 5) << 8 | (x + y));
      }
    }
    ImageIO.write(ref, "png", dir.resolve("ref.png").toFile());

    Run plain =
        fluxbot(
            "imagine",
            "a red fox --model klein --size 64x64 --seed 3 --format png --no-cache",
            "-o",
            "plain.png");
    Run withRef =
        fluxbot(
            "imagine",
            "a red fox --model klein --size 64x64 --seed 3 --format png --no-cache",
            "-o",
            "ref-out.png",
            "--image",
            "ref.png");

    assertThat(plain.exit()).as(plain.out() + plain.err()).isZero();
    assertThat(withRef.exit()).as(withRef.out() + withRef.err()).isZero();
    assertThat(ImageIO.read(dir.resolve("ref-out.png").toFile()).getWidth()).isEqualTo(64);
    assertThat(Files.readAllBytes(dir.resolve("ref-out.png")))
        .isNotEqualTo(Files.readAllBytes(dir.resolve("plain.png")));
  }
}
