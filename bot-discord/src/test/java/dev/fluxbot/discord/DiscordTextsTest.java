package dev.fluxbot.discord;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.command.CommandParser;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import net.dv8tion.jda.api.utils.data.DataObject;
import org.junit.jupiter.api.Test;

class DiscordTextsTest {
  private final CommandParser parser =
      new CommandParser(ModelCatalog.builtIn(), CommandParser.Settings.defaults());

  private ImageReply reply(String text, BigDecimal cost, boolean cached) {
    GenerationRequest r = parser.parse(text, Map.of(), 0).withSeed(7);
    return new ImageReply(
        "01JOB000000000000000000001",
        r,
        new GenerationResult(
            new byte[10],
            ImageType.JPEG,
            r.size().width(),
            r.size().height(),
            7,
            cost,
            "bfl",
            "t",
            Duration.ZERO),
        cached,
        List.of(ImageReply.FollowUp.values()));
  }

  @Test
  void theCaptionShowsPromptUserModelSizeSeedAndCost() {
    String caption =
        Texts.caption(
            reply("a **bold** fox --ar 16:9", new BigDecimal("1.40"), false),
            "42",
            new Previews.Fitted(new byte[1], ImageType.JPEG, false),
            false);
    assertThat(caption)
        .isEqualTo("**a bold fox** — <@42>\nklein-4b · 1344×768 · seed 7 · 1.4 credits");
    assertThat(
            Texts.caption(
                reply("a fox", BigDecimal.ZERO, true),
                "42",
                new Previews.Fitted(new byte[1], ImageType.JPEG, false),
                false))
        .endsWith("seed 7 · cached (free)");
  }

  @Test
  void aLongPromptIsCutToFitDiscordsLimit() {
    String caption =
        Texts.caption(
            reply("x".repeat(3900), BigDecimal.ONE, false),
            "42",
            new Previews.Fitted(new byte[1], ImageType.JPEG, true),
            false);
    assertThat(caption)
        .hasSizeLessThanOrEqualTo(Texts.MAX_CONTENT)
        .contains("…**")
        .contains("smaller JPEG");
  }

  @Test
  void aPreviewSaysHowTheUserGetsTheFullImage() {
    GenerationRequest r = parser.parse("a fox --format png", Map.of(), 0).withSeed(7);
    ImageReply big =
        new ImageReply(
            "01JOB000000000000000000001",
            r,
            new GenerationResult(
                new byte[3 * 1024 * 1024],
                ImageType.PNG,
                1024,
                1024,
                7,
                BigDecimal.ONE,
                "bfl",
                "t",
                Duration.ZERO),
            false,
            List.of(ImageReply.FollowUp.values()));
    Previews.Fitted preview = new Previews.Fitted(new byte[1], ImageType.JPEG, true);
    assertThat(Texts.caption(big, "42", preview, true))
        .endsWith(
            "\n-# Preview: the original is 3.1 MB (PNG), over this channel's upload limit, so this is a smaller JPEG. "
                + "The **Original** button downloads the full image.");
    assertThat(Texts.caption(big, "42", preview, false))
        .endsWith(
            "so this is a smaller JPEG. For the full image in a file that fits here, run /imagine again with the same "
                + "prompt and `--seed 7 --format jpeg` (charged as a new image).");
  }

  @Test
  void errorsAreMarkedByWhoseSideTheyAreOn() {
    assertThat(Texts.error(new UserError(UserError.Code.INVALID_OPTION, "--seed: bad")))
        .isEqualTo("⚠️ --seed: bad");
    assertThat(Texts.error(new UserError(UserError.Code.MODERATED, "blocked")))
        .isEqualTo("🚫 blocked");
    assertThat(Texts.error(new UserError(UserError.Code.BACKEND_FAILED, "down")))
        .isEqualTo("❌ down");
  }

  @Test
  void aPreviewFitsTheLimitAndTheOriginalPassesWhenItFits() throws IOException {
    BufferedImage noise = new BufferedImage(800, 600, BufferedImage.TYPE_INT_RGB);
    Random random = new Random(1);
    for (int y = 0; y < 600; y++) {
      for (int x = 0; x < 800; x++) {
        noise.setRGB(x, y, random.nextInt(0xFFFFFF));
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(noise, "png", out);
    byte[] png = out.toByteArray();
    assertThat(Previews.fit(png, ImageType.PNG, png.length).preview()).isFalse();
    Previews.Fitted fitted = Previews.fit(png, ImageType.PNG, 100_000);
    assertThat(fitted.preview()).isTrue();
    assertThat(fitted.type()).isEqualTo(ImageType.JPEG);
    assertThat(fitted.bytes().length).isLessThanOrEqualTo(100_000);
    assertThat(ImageIO.read(new ByteArrayInputStream(fitted.bytes())).getWidth() * 3)
        .isEqualTo(ImageIO.read(new ByteArrayInputStream(fitted.bytes())).getHeight() * 4);
  }

  @Test
  void theAddressRoundTripsAndOthersAreNotDiscords() {
    DiscordAddress a =
        new DiscordAddress("tok", "123", "42", Instant.parse("2026-11-21T12:00:00Z"), false);
    assertThat(DiscordAddress.parse(a.toJson())).contains(a);
    DiscordAddress dm =
        new DiscordAddress("tok", "124", "42", Instant.parse("2026-11-21T12:00:00Z"), true);
    assertThat(DiscordAddress.parse(dm.toJson())).contains(dm);
    assertThat(
            DiscordAddress.parse(
                "{\"kind\":\"discord\",\"token\":\"t\",\"channel\":\"1\",\"user\":\"2\",\"created\":0}"))
        .as("an address stored before DMs were marked")
        .contains(new DiscordAddress("t", "1", "2", Instant.EPOCH, false));
    assertThat(DiscordAddress.parse("{\"kind\":\"file\",\"path\":\"/tmp/x\"}")).isEmpty();
    assertThat(DiscordAddress.parse("not json")).isEmpty();
    assertThat(DiscordAddress.parse(null)).isEmpty();
  }

  @Test
  void theUploadLimitComesFromTheRawInteraction() {
    assertThat(
            DiscordBot.uploadLimit(
                DataObject.fromJson("{\"op\":0,\"d\":{\"attachment_size_limit\":26214400}}")))
        .isEqualTo(26_214_400L);
    assertThat(DiscordBot.uploadLimit(DataObject.fromJson("{\"op\":0,\"d\":{}}")))
        .isEqualTo(DiscordBot.DEFAULT_UPLOAD_LIMIT);
    assertThat(DiscordBot.uploadLimit(null)).isEqualTo(DiscordBot.DEFAULT_UPLOAD_LIMIT);
  }

  @Test
  void anEnhancedPromptIsShownBesideTheTypedOneWithinDiscordsLimit() {
    ImageReply plain = reply("a fox", new BigDecimal("1.40"), false);
    ImageReply enhanced =
        plain.withEnhancement(
            dev.fluxbot.core.Enhancement.enhanced("a fox", "a red **fox** in snow", "llama3.2:3b"));
    Previews.Fitted full = new Previews.Fitted(new byte[1], ImageType.JPEG, false);
    assertThat(Texts.caption(enhanced, "42", full, false))
        .isEqualTo(
            "**a fox** — <@42>\n✨ Enhanced by llama3.2:3b: a red fox in snow\n"
                + "klein-4b · 1024×1024 · seed 7 · 1.4 credits");
    ImageReply huge =
        plain.withEnhancement(
            dev.fluxbot.core.Enhancement.enhanced("t".repeat(3000), "e".repeat(5000), "m"));
    Previews.Fitted preview = new Previews.Fitted(new byte[1], ImageType.JPEG, true);
    String caption = Texts.caption(huge, "42", preview, false);
    assertThat(caption.length()).isLessThanOrEqualTo(Texts.MAX_CONTENT);
    assertThat(caption).contains("✨ Enhanced by m: eee").contains("seed 7").contains("-# Preview");
  }
}
