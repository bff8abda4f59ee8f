package dev.fluxbot.testkit.discord;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.testkit.DiscordAttachment;
import dev.fluxbot.testkit.DiscordCallback;
import dev.fluxbot.testkit.DiscordContext;
import dev.fluxbot.testkit.DiscordInteraction;
import dev.fluxbot.testkit.DiscordMessage;
import dev.fluxbot.testkit.DiscordPart;
import dev.fluxbot.testkit.DiscordRequest;
import dev.fluxbot.testkit.FakeDiscord;
import dev.fluxbot.testkit.MutableClock;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import net.dv8tion.jda.api.components.actionrow.ActionRow;
import net.dv8tion.jda.api.components.buttons.Button;
import net.dv8tion.jda.api.components.label.Label;
import net.dv8tion.jda.api.components.textinput.TextInput;
import net.dv8tion.jda.api.components.textinput.TextInputStyle;
import net.dv8tion.jda.api.entities.Message;
import net.dv8tion.jda.api.entities.channel.ChannelType;
import net.dv8tion.jda.api.events.interaction.ModalInteractionEvent;
import net.dv8tion.jda.api.events.interaction.command.MessageContextInteractionEvent;
import net.dv8tion.jda.api.events.interaction.command.SlashCommandInteractionEvent;
import net.dv8tion.jda.api.events.interaction.component.ButtonInteractionEvent;
import net.dv8tion.jda.api.exceptions.ErrorResponseException;
import net.dv8tion.jda.api.interactions.commands.OptionType;
import net.dv8tion.jda.api.interactions.commands.build.Commands;
import net.dv8tion.jda.api.modals.Modal;
import net.dv8tion.jda.api.requests.ErrorResponse;
import net.dv8tion.jda.api.utils.FileUpload;
import net.dv8tion.jda.api.utils.messages.MessageEditBuilder;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Interactions end to end: the fake sends them, the real JDA hands them to a listener, the answers
 * come back.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FakeDiscordInteractionTest {
  private static final String EDIT_ORIGINAL = "PATCH /webhooks/{app}/{token}/messages/@original";

  private final MutableClock clock = new MutableClock(Instant.now());
  private FakeDiscord discord;
  private Bot bot;
  private DiscordContext alice;

  @BeforeAll
  void start() throws Exception {
    discord = FakeDiscord.builder().clock(clock).start();
    bot = Bot.login(discord);
    alice = discord.inGuild(FakeDiscord.DEFAULT_USER_ID);
    bot.jda
        .updateCommands()
        .addCommands(
            Commands.slash("imagine", "Generate an image")
                .addOption(OptionType.STRING, "prompt", "What to draw", true)
                .addOption(OptionType.INTEGER, "seed", "The seed")
                .addOption(OptionType.ATTACHMENT, "image1", "A reference image"),
            Commands.message("Imagine with this image"))
        .complete();
  }

  @AfterAll
  void stop() throws Exception {
    bot.close();
    discord.close();
  }

  @Test
  void aSlashCommandReachesTheListenerWithItsOptionsAndAttachment() throws Exception {
    byte[] png = png(64, 48);
    DiscordAttachment reference = discord.addAttachment(png, "fox reference.png", "image/png");
    Map<String, Object> options = new LinkedHashMap<>();
    options.put("prompt", "a red fox");
    options.put("seed", 42);
    options.put("image1", reference);

    DiscordInteraction sent = discord.slashCommand(alice, "imagine", options);

    SlashCommandInteractionEvent event = slash(sent);
    assertThat(event.getName()).isEqualTo("imagine");
    assertThat(event.getOption("prompt").getAsString()).isEqualTo("a red fox");
    assertThat(event.getOption("seed").getAsLong()).isEqualTo(42);
    Message.Attachment attachment = event.getOption("image1").getAsAttachment();
    assertThat(attachment.getFileName()).isEqualTo("fox_reference.png");
    assertThat(attachment.getContentType()).isEqualTo("image/png");
    assertThat(attachment.getSize()).isEqualTo(png.length);
    assertThat(attachment.getWidth()).isEqualTo(64);
    assertThat(attachment.getHeight()).isEqualTo(48);
    assertThat(download(attachment.getUrl())).isEqualTo(png);
    assertThat(event.getGuild().isDetached()).isFalse();
    assertThat(event.getMember().getId()).isEqualTo(FakeDiscord.DEFAULT_USER_ID);
    assertThat(event.getChannel().getId()).isEqualTo(FakeDiscord.DEFAULT_CHANNEL_ID);
  }

  @Test
  void deferReplyIsRecordedAsType5() throws Exception {
    DiscordInteraction sent = discord.slashCommand(alice, "imagine", Map.of("prompt", "a fox"));

    slash(sent).deferReply().complete();

    DiscordCallback callback = discord.awaitCallback(sent.id());
    assertThat(callback.type()).isEqualTo(DiscordCallback.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE);
    assertThat(callback.token()).isEqualTo(sent.token());
    assertThat(callback.request().queryParameter("with_response")).contains("true");
  }

  @Test
  void editOriginalWithAFileAndButtonsIsRecordedAsMultipart() throws Exception {
    DiscordInteraction sent = discord.slashCommand(alice, "imagine", Map.of("prompt", "a fox"));
    SlashCommandInteractionEvent event = slash(sent);
    event.deferReply().queue();
    byte[] image = png(32, 32);

    Message edited =
        event
            .getHook()
            .editOriginal(
                new MessageEditBuilder()
                    .setContent("seed 7")
                    .setFiles(FileUpload.fromData(image, "flux.png"))
                    .setComponents(
                        ActionRow.of(
                            Button.primary("fx:reroll:1", "Reroll"),
                            Button.secondary("fx:vary:1", "Vary")))
                    .build())
            .complete();

    DiscordMessage write = discord.awaitOriginalEdit(sent.token(), m -> !m.files().isEmpty());
    DiscordRequest request = discord.requests(EDIT_ORIGINAL).getLast();
    assertThat(request.isMultipart()).isTrue();
    assertThat(request.parts())
        .extracting(DiscordPart::name)
        .containsExactlyInAnyOrder("files[0]", "payload_json");
    DiscordPart file = write.file("flux.png").orElseThrow();
    assertThat(file.bytes()).isEqualTo(image);
    assertThat(file.contentType())
        .as("JDA declares every file so")
        .startsWith("application/octet-stream");
    assertThat(write.attachments().get(0).path("content_type").asText())
        .as("Discord looks at the bytes")
        .isEqualTo("image/png");
    assertThat(write.payload().path("content").asText()).isEqualTo("seed 7");
    assertThat(write.customIds()).containsExactly("fx:reroll:1", "fx:vary:1");
    assertThat(write.attachments()).hasSize(1);
    assertThat(download(write.attachments().get(0).path("url").asText())).isEqualTo(image);
    assertThat(edited.getAttachments())
        .extracting(Message.Attachment::getFileName)
        .containsExactly("flux.png");
    assertThat(edited.getComponentTree().findAll(Button.class))
        .extracting(Button::getCustomId)
        .containsExactly("fx:reroll:1", "fx:vary:1");
    assertThat(edited.getContentRaw()).isEqualTo("seed 7");
  }

  @Test
  void aButtonPressArrivesWithItsCustomIdAndDeferEditIsType6() throws Exception {
    String messageId = imageWithButtons();

    DiscordInteraction press = discord.button(alice, messageId, "fx:reroll:9");

    ButtonInteractionEvent event =
        bot.await(ButtonInteractionEvent.class, e -> e.getId().equals(press.id()));
    assertThat(event.getComponentId()).isEqualTo("fx:reroll:9");
    assertThat(event.getMessage().getId()).isEqualTo(messageId);
    assertThat(event.getButton().getLabel()).isEqualTo("Reroll");
    event.deferEdit().complete();
    assertThat(discord.awaitCallback(press.id()).type())
        .isEqualTo(DiscordCallback.DEFERRED_UPDATE_MESSAGE);

    event.getHook().editOriginal("rerolling…").complete();
    DiscordMessage edit = discord.awaitOriginalEdit(press.token(), m -> true);
    assertThat(edit.messageId()).as("@original of a button is its message").isEqualTo(messageId);
    assertThat(edit.content()).isEqualTo("rerolling…");
  }

  @Test
  void replyModalIsType9AndTheModalSubmitArrivesWithItsFields() throws Exception {
    String messageId = imageWithButtons();
    DiscordInteraction press = discord.button(alice, messageId, "fx:vary:9");
    ButtonInteractionEvent click =
        bot.await(ButtonInteractionEvent.class, e -> e.getId().equals(press.id()));

    click
        .replyModal(
            Modal.create("fx:vary-modal:9", "Vary the prompt")
                .addComponents(
                    Label.of(
                        "Prompt",
                        TextInput.create("prompt", TextInputStyle.PARAGRAPH)
                            .setValue("a fox")
                            .build()))
                .build())
        .complete();

    DiscordCallback modal = discord.awaitCallback(press.id());
    assertThat(modal.type()).isEqualTo(DiscordCallback.MODAL);
    assertThat(modal.data().path("custom_id").asText()).isEqualTo("fx:vary-modal:9");
    assertThat(modal.data().path("title").asText()).isEqualTo("Vary the prompt");

    DiscordInteraction submit =
        discord.modalSubmit(alice, "fx:vary-modal:9", Map.of("prompt", "a blue fox"));

    ModalInteractionEvent event =
        bot.await(ModalInteractionEvent.class, e -> e.getId().equals(submit.id()));
    assertThat(event.getModalId()).isEqualTo("fx:vary-modal:9");
    assertThat(event.getValue("prompt").getAsString()).isEqualTo("a blue fox");
    assertThat(event.getMessage().getId())
        .as("a modal from a button carries its message")
        .isEqualTo(messageId);
    event.deferReply().complete();
    assertThat(discord.awaitCallback(submit.id()).type())
        .isEqualTo(DiscordCallback.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE);
  }

  @Test
  void aMessageContextMenuCommandArrivesWithTheTargetMessagesAttachments() throws Exception {
    DiscordAttachment photo = discord.addAttachment(png(20, 10), "cat.png", "image/png");
    DiscordMessage posted = discord.postMessageAsUser(alice, "look at this", photo);

    DiscordInteraction sent =
        discord.messageContextMenu(alice, "Imagine with this image", posted.messageId());

    MessageContextInteractionEvent event =
        bot.await(MessageContextInteractionEvent.class, e -> e.getId().equals(sent.id()));
    assertThat(event.getName()).isEqualTo("Imagine with this image");
    assertThat(event.getTarget().getId()).isEqualTo(posted.messageId());
    assertThat(event.getTarget().getAuthor().getId()).isEqualTo(FakeDiscord.DEFAULT_USER_ID);
    assertThat(event.getTarget().getAttachments())
        .singleElement()
        .satisfies(a -> assertThat(a.getUrl()).isEqualTo(photo.url()))
        .satisfies(a -> assertThat(a.getWidth()).isEqualTo(20));
  }

  @Test
  void aSlashCommandInADmHasNoGuildAndAnEphemeralReplyIsType4() throws Exception {
    DiscordInteraction sent =
        discord.slashCommand(
            discord.inDm(FakeDiscord.DEFAULT_USER_ID), "imagine", Map.of("prompt", "a fox"));

    SlashCommandInteractionEvent event = slash(sent);
    assertThat(event.isFromGuild()).isFalse();
    assertThat(event.getUser().getId()).isEqualTo(FakeDiscord.DEFAULT_USER_ID);
    assertThat(event.getChannelType()).isEqualTo(ChannelType.PRIVATE);
    event.reply("You have 3 of 50 credits left today.").setEphemeral(true).complete();

    DiscordCallback callback = discord.awaitCallback(sent.id());
    assertThat(callback.type()).isEqualTo(DiscordCallback.CHANNEL_MESSAGE_WITH_SOURCE);
    assertThat(callback.isEphemeral()).isTrue();
    DiscordMessage reply =
        discord.awaitMessage(
            m -> m.kind() == DiscordMessage.Kind.CALLBACK && sent.token().equals(m.token()));
    assertThat(reply.channelId()).isEqualTo(discord.dmChannelId(FakeDiscord.DEFAULT_USER_ID));
    assertThat(reply.content()).isEqualTo("You have 3 of 50 credits left today.");
  }

  @Test
  void aRateLimitedEditIsRetriedByJdaAfterRetryAfterAndArrivesOnce() throws Exception {
    DiscordInteraction sent = discord.slashCommand(alice, "imagine", Map.of("prompt", "a fox"));
    SlashCommandInteractionEvent event = slash(sent);
    event.deferReply().complete();
    discord.rateLimitNext(EDIT_ORIGINAL, 0.25);

    long started = System.nanoTime();
    event.getHook().editOriginal("done").complete();
    Duration took = Duration.ofNanos(System.nanoTime() - started);

    assertThat(discord.requests(EDIT_ORIGINAL))
        .filteredOn(r -> r.path().contains(sent.token()))
        .extracting(DiscordRequest::status)
        .containsExactly(429, 200);
    assertThat(discord.messages()).filteredOn(m -> sent.token().equals(m.token())).hasSize(1);
    assertThat(took)
        .as("JDA waits Retry-After, which Discord rounds up to whole seconds")
        .isGreaterThanOrEqualTo(Duration.ofMillis(900));
  }

  @Test
  void anEditThroughAnExpiredTokenFailsWithInvalidWebhookToken() throws Exception {
    DiscordInteraction sent = discord.slashCommand(alice, "imagine", Map.of("prompt", "a fox"));
    SlashCommandInteractionEvent event = slash(sent);
    event.deferReply().complete();

    clock.advance(Duration.ofMinutes(15).plusSeconds(1));

    assertThatThrownBy(() -> event.getHook().editOriginal("too late").complete())
        .isInstanceOfSatisfying(
            ErrorResponseException.class,
            e -> assertThat(e.getErrorResponse()).isEqualTo(ErrorResponse.INVALID_WEBHOOK_TOKEN));
    assertThat(discord.requests(EDIT_ORIGINAL).getLast().status()).isEqualTo(401);
  }

  @Test
  void aFileOverTheAttachmentSizeLimitIsRefusedWith413() throws Exception {
    DiscordInteraction sent;
    SlashCommandInteractionEvent event;
    discord.setAttachmentSizeLimit(1024);
    try {
      sent = discord.slashCommand(alice, "imagine", Map.of("prompt", "a fox"));
      event = slash(sent);
      event.deferReply().complete();

      assertThatThrownBy(
              () ->
                  event
                      .getHook()
                      .editOriginalAttachments(FileUpload.fromData(new byte[2048], "big.png"))
                      .complete())
          .isInstanceOfSatisfying(
              ErrorResponseException.class,
              e ->
                  assertThat(e.getErrorResponse())
                      .isEqualTo(ErrorResponse.REQUEST_ENTITY_TOO_LARGE));
    } finally {
      discord.setAttachmentSizeLimit(FakeDiscord.DEFAULT_ATTACHMENT_SIZE_LIMIT);
    }
    assertThat(sent.payload().path("attachment_size_limit").asLong()).isEqualTo(1024);
  }

  @Test
  void aNewChannelMessageWithAFileIsRecordedForTheChannel() throws Exception {
    byte[] image = png(16, 16);

    Message sent =
        bot.jda
            .getTextChannelById(FakeDiscord.DEFAULT_CHANNEL_ID)
            .sendMessage("<@" + FakeDiscord.DEFAULT_USER_ID + "> your image is ready")
            .addFiles(FileUpload.fromData(image, "late.png"))
            .complete();

    DiscordMessage message =
        discord.awaitChannelMessage(
            FakeDiscord.DEFAULT_CHANNEL_ID, m -> m.content().contains("ready"));
    assertThat(message.messageId()).isEqualTo(sent.getId());
    assertThat(message.file("late.png").orElseThrow().bytes()).isEqualTo(image);
    assertThat(message.token()).isNull();
    assertThat(sent.getAttachments())
        .singleElement()
        .satisfies(a -> assertThat(a.getWidth()).isEqualTo(16));
  }

  private SlashCommandInteractionEvent slash(DiscordInteraction sent) throws InterruptedException {
    return bot.await(SlashCommandInteractionEvent.class, e -> e.getId().equals(sent.id()));
  }

  /**
   * A bot reply with the four buttons of an image, the way the adapter sends one; its message id.
   */
  private String imageWithButtons() throws Exception {
    DiscordInteraction sent = discord.slashCommand(alice, "imagine", Map.of("prompt", "a fox"));
    SlashCommandInteractionEvent event = slash(sent);
    event.deferReply().queue();
    return event
        .getHook()
        .editOriginal(
            new MessageEditBuilder()
                .setContent("a fox")
                .setFiles(FileUpload.fromData(png(8, 8), "flux.png"))
                .setComponents(
                    ActionRow.of(
                        Button.primary("fx:reroll:9", "Reroll"),
                        Button.secondary("fx:vary:9", "Vary"),
                        Button.secondary("fx:2k:9", "2K"),
                        Button.secondary("fx:ref:9", "Use as reference")))
                .build())
        .complete()
        .getId();
  }

  private static byte[] png(int width, int height) throws IOException {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    image.setRGB(0, 0, 0xff4400);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "png", out);
    return out.toByteArray();
  }

  private static byte[] download(String url) throws IOException {
    try (Response response =
        new OkHttpClient().newCall(new Request.Builder().url(url).build()).execute()) {
      assertThat(response.code()).isEqualTo(200);
      return response.body().bytes();
    }
  }
}
