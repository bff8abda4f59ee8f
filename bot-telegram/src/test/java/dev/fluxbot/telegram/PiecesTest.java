package dev.fluxbot.telegram;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.command.CommandParser;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * The adapter's small parts: photo rules, captions, the per-chat pace, the stored reply address.
 */
class PiecesTest {
  private static ImageReply reply(String prompt, byte[] image, int w, int h, boolean cached) {
    GenerationRequest request =
        new CommandParser(ModelCatalog.builtIn(), CommandParser.Settings.defaults())
            .parse(prompt, Map.of(), 0)
            .withSeed(42);
    GenerationResult result =
        new GenerationResult(
            image,
            ImageType.PNG,
            w,
            h,
            42,
            new BigDecimal("1.40"),
            "bfl",
            "t1",
            Duration.ofSeconds(3));
    return new ImageReply("01JOB", request, result, cached, List.of(ImageReply.FollowUp.values()));
  }

  @Test
  void photosFollowTelegramsSizeSumAndRatioRules() {
    assertThat(Photos.fits(10_000_000, 2048, 2048)).isTrue();
    assertThat(Photos.fits(10_000_001, 2048, 2048)).isFalse();
    assertThat(Photos.dimensionsFit(5000, 5000)).isTrue();
    assertThat(Photos.dimensionsFit(5000, 5001)).as("width + height over 10000").isFalse();
    assertThat(Photos.dimensionsFit(2000, 100)).isTrue();
    assertThat(Photos.dimensionsFit(2001, 100)).as("a ratio over 20").isFalse();
  }

  @Test
  void aPreviewOfAnImageTooThinForAPhotoIsPaddedToTwentyToOne() throws Exception {
    BufferedImage thin = new BufferedImage(2100, 50, BufferedImage.TYPE_INT_RGB);
    var out = new java.io.ByteArrayOutputStream();
    ImageIO.write(thin, "png", out);
    byte[] preview = Photos.preview(out.toByteArray()).orElseThrow();
    BufferedImage read = ImageIO.read(new ByteArrayInputStream(preview));
    assertThat(Photos.dimensionsFit(read.getWidth(), read.getHeight())).isTrue();
    assertThat(read.getWidth()).isEqualTo(2100);
    assertThat(Photos.preview(new byte[] {1, 2, 3})).as("bytes that do not decode").isEmpty();
  }

  @Test
  void aCaptionCutsTheLongPromptAndKeepsModelSizeSeedAndCost() {
    String caption =
        Texts.caption(reply("a fox " + "very ".repeat(400), new byte[10], 1024, 768, false), false);
    assertThat(caption)
        .hasSizeLessThanOrEqualTo(Texts.MAX_CAPTION)
        .endsWith("…\nklein-4b · 1024×768 · seed 42 · 1.4 credits");
    assertThat(Texts.caption(reply("a fox", new byte[2_500_000], 1024, 768, true), true))
        .isEqualTo(
            "a fox\nklein-4b · 1024×768 · seed 42 · cached (1.4 credits)\n"
                + "A compressed preview; the original (2.5 MB) follows as a file.");
  }

  @Test
  void eachChatSendsOneAtATimeASecondApartInPrivateAndThreeInAGroupCountedFromTheAnswer() {
    Harness.RecordingSleeper time = new Harness.RecordingSleeper();
    BotApi api =
        new BotApi(
            dev.fluxbot.core.Secret.of("1:x"),
            java.net.URI.create("http://127.0.0.1:9"),
            new okhttp3.OkHttpClient(),
            time);
    Pacer pacer = new Pacer(time, api);
    java.time.Instant start = time.instant();
    List<java.time.Instant> sent = new java.util.ArrayList<>();
    BotApi.Call<Boolean> send = () -> sent.add(time.instant());
    pacer.send(1, false, "sendMessage", send);
    pacer.send(1, false, "sendMessage", send);
    pacer.send(2, false, "sendMessage", send);
    pacer.send(-5, true, "sendMessage", send);
    pacer.send(-5, true, "sendMessage", send);
    assertThat(sent)
        .containsExactly(
            start,
            start.plusSeconds(1),
            start.plusSeconds(1),
            start.plusSeconds(1),
            start.plusSeconds(4));
    assertThat(pacer.sendIf(() -> false, -5, true, "editMessageText", send))
        .as("not wanted once its turn came")
        .isEmpty();
    assertThat(sent).hasSize(5);
    pacer.send(
        1,
        false,
        "sendMessage",
        () -> {
          time.sleep(
              Duration.ofSeconds(
                  5)); // a slow upload: the next send waits a second after its answer
          return sent.add(time.instant());
        });
    pacer.send(1, false, "sendMessage", send);
    assertThat(sent.get(6)).isEqualTo(sent.get(5).plusSeconds(1));
  }

  @Test
  void aPromptQuestionNamesItsJobByItsHiddenLinkAndAnOlderQuestionByItsText() {
    var asked = new org.telegram.telegrambots.meta.api.objects.message.Message();
    asked.setText(
        "\u200B✏️ Use as reference: reply to this message with the prompt for a new image made from this one.");
    asked.setEntities(
        List.of(
            org.telegram.telegrambots.meta.api.objects.MessageEntity.builder()
                .type("text_link")
                .offset(0)
                .length(1)
                .url("https://t.me/fluxbot_test_bot?start=ref-01JABCDEF")
                .build()));
    assertThat(Buttons.askedFor(asked))
        .contains(
            new dev.fluxbot.core.ActionRef(ImageReply.FollowUp.USE_AS_REFERENCE, "01JABCDEF"));
    var older = new org.telegram.telegrambots.meta.api.objects.message.Message();
    older.setText("✏️ Vary job 01JOLDER: reply to this message with the new prompt.");
    assertThat(Buttons.askedFor(older))
        .contains(new dev.fluxbot.core.ActionRef(ImageReply.FollowUp.VARY, "01JOLDER"));
    var other = new org.telegram.telegrambots.meta.api.objects.message.Message();
    other.setText("a message of ours that asks nothing");
    other.setEntities(
        List.of(
            org.telegram.telegrambots.meta.api.objects.MessageEntity.builder()
                .type("text_link")
                .offset(0)
                .length(1)
                .url("https://example.com/?start=vary-01X")
                .build()));
    assertThat(Buttons.askedFor(other)).isEmpty();
  }

  @Test
  void theReplyAddressRoundTripsAndRefusesOtherPlatforms() {
    ReplyAddress a = new ReplyAddress(-1001234567890L, 17, 16, 1001, true);
    assertThat(ReplyAddress.parse(a.toJson())).contains(a);
    ReplyAddress none = new ReplyAddress(1001, null, null, 1001, false);
    assertThat(ReplyAddress.parse(none.toJson())).contains(none);
    assertThat(ReplyAddress.parse("{\"token\":\"x\",\"channel\":\"1\"}")).isEmpty();
    assertThat(ReplyAddress.parse("not json")).isEmpty();
    assertThat(ReplyAddress.parse(null)).isEmpty();
  }

  @Test
  void oneCreditIsSingular() {
    assertThat(dev.fluxbot.core.quota.Credits.count(1_000)).isEqualTo("1 credit");
    assertThat(dev.fluxbot.core.quota.Credits.count(500)).isEqualTo("0.5 credits");
    assertThat(dev.fluxbot.core.quota.Credits.count(0)).isEqualTo("0 credits");
    assertThat(dev.fluxbot.core.quota.Credits.count(new BigDecimal("1.000"))).isEqualTo("1 credit");
    assertThat(dev.fluxbot.core.quota.Credits.count(new BigDecimal("1.4")))
        .isEqualTo("1.4 credits");
  }

  @Test
  void errorsKeepTheirKindMarkAndFitAMessage() {
    var error =
        new dev.fluxbot.core.UserError(
            dev.fluxbot.core.UserError.Code.QUOTA_EXCEEDED, "x".repeat(5000));
    assertThat(Texts.error(error)).startsWith("⚠️ ").hasSize(Texts.MAX_TEXT).endsWith("…");
  }

  @Test
  void anEnhancedCaptionFitsTelegramsCaptionLimit() {
    ImageReply r =
        reply("a fox", new byte[10], 1024, 1024, false)
            .withEnhancement(
                dev.fluxbot.core.Enhancement.enhanced("t".repeat(2000), "e".repeat(3000), "m"));
    String caption = Texts.caption(r, true);
    assertThat(caption.length()).isLessThanOrEqualTo(Texts.MAX_CAPTION);
    assertThat(caption).contains("\n✨ Enhanced by m: eee").contains("seed 42");
    ImageReply failed =
        reply("a fox", new byte[10], 1024, 1024, false)
            .withEnhancement(
                dev.fluxbot.core.Enhancement.failed(
                    "a fox", "m", "the enhancer answered HTTP 503"));
    assertThat(Texts.caption(failed, false))
        .startsWith(
            "a fox\n⚠️ Prompt not enhanced (the enhancer answered HTTP 503); this image is from"
                + " your prompt as typed.\n");
  }
}
