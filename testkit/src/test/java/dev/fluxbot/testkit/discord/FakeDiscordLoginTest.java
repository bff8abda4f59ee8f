package dev.fluxbot.testkit.discord;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fluxbot.testkit.DiscordInteraction;
import dev.fluxbot.testkit.DiscordRequest;
import dev.fluxbot.testkit.FakeDiscord;
import java.util.List;
import net.dv8tion.jda.api.JDA;
import net.dv8tion.jda.api.Permission;
import net.dv8tion.jda.api.components.actionrow.ActionRow;
import net.dv8tion.jda.api.components.buttons.Button;
import net.dv8tion.jda.api.entities.Guild;
import net.dv8tion.jda.api.events.interaction.component.ButtonInteractionEvent;
import net.dv8tion.jda.api.events.session.SessionResumeEvent;
import net.dv8tion.jda.api.exceptions.InvalidTokenException;
import net.dv8tion.jda.api.interactions.commands.Command;
import net.dv8tion.jda.api.interactions.commands.OptionType;
import net.dv8tion.jda.api.interactions.commands.build.Commands;
import net.dv8tion.jda.api.requests.GatewayIntent;
import net.dv8tion.jda.api.utils.MemberCachePolicy;
import org.junit.jupiter.api.Test;

class FakeDiscordLoginTest {
  @Test
  void jdaLogsInAndIsReadyWithTheGuildCached() throws Exception {
    try (FakeDiscord discord = FakeDiscord.start();
        Bot bot = Bot.login(discord)) {
      JDA jda = bot.jda;
      assertThat(jda.getStatus()).isEqualTo(JDA.Status.CONNECTED);
      assertThat(jda.getSelfUser().getId()).isEqualTo(FakeDiscord.DEFAULT_APPLICATION_ID);
      assertThat(jda.getSelfUser().getApplicationId())
          .isEqualTo(FakeDiscord.DEFAULT_APPLICATION_ID);
      assertThat(jda.getSelfUser().isBot()).isTrue();
      Guild guild = jda.getGuildById(FakeDiscord.DEFAULT_GUILD_ID);
      assertThat(guild).isNotNull();
      assertThat(guild.getName()).isEqualTo("Fluxbot Test Server");
      assertThat(guild.getOwnerId()).isEqualTo(FakeDiscord.DEFAULT_OWNER_ID);
      assertThat(guild.getTextChannelById(FakeDiscord.DEFAULT_CHANNEL_ID)).isNotNull();
      assertThat(guild.getRoleById(FakeDiscord.DEFAULT_MODERATOR_ROLE_ID).getPermissions())
          .containsExactly(Permission.MANAGE_SERVER);
      assertThat(
              guild
                  .getSelfMember()
                  .hasPermission(Permission.MESSAGE_SEND, Permission.MESSAGE_ATTACH_FILES))
          .isTrue();

      DiscordRequest self = discord.requests("GET /users/@me").get(0);
      assertThat(self.header("Authorization")).contains("Bot " + discord.token());
      assertThat(self.status()).isEqualTo(200);
      JsonNode identify = discord.awaitGatewayFrame(f -> f.path("op").asInt() == 2);
      assertThat(identify.path("d").path("token").asText()).isEqualTo(discord.token());
      assertThat(identify.path("d").path("intents").asInt() & 1)
          .as("JDA always asks for GUILDS")
          .isEqualTo(1);
      assertThat(discord.liveGatewaySessions()).isEqualTo(1);
    }
  }

  @Test
  void withTheGuildMembersIntentJdaCachesEveryMember() throws Exception {
    try (FakeDiscord discord = FakeDiscord.start();
        Bot bot =
            Bot.login(
                discord,
                b ->
                    b.enableIntents(GatewayIntent.GUILD_MEMBERS)
                        .setMemberCachePolicy(MemberCachePolicy.ALL))) {
      Guild guild = bot.jda.getGuildById(FakeDiscord.DEFAULT_GUILD_ID);
      assertThat(guild.getMembers())
          .extracting(m -> m.getUser().getName())
          .containsExactlyInAnyOrder("owner", "alice", "mod", "fluxbot");
      assertThat(
              guild
                  .getMemberById(FakeDiscord.DEFAULT_MODERATOR_ID)
                  .hasPermission(Permission.MANAGE_SERVER))
          .isTrue();
      assertThat(
              guild
                  .getMemberById(FakeDiscord.DEFAULT_USER_ID)
                  .hasPermission(Permission.MANAGE_SERVER))
          .isFalse();
      assertThat(guild.getMemberById(FakeDiscord.DEFAULT_OWNER_ID).isOwner()).isTrue();
    }
  }

  @Test
  void aWrongBotTokenFailsTheBuildWithInvalidTokenException() {
    try (FakeDiscord discord = FakeDiscord.start()) {
      assertThatThrownBy(() -> Bot.builder(discord, "not-the-token").build())
          .isInstanceOf(InvalidTokenException.class);

      DiscordRequest self = discord.requests("GET /users/@me").get(0);
      assertThat(self.status()).isEqualTo(401);
      assertThat(discord.gatewayFrames()).isEmpty();
    }
  }

  @Test
  void shutdownClosesTheGatewaySessionCleanly() throws Exception {
    try (FakeDiscord discord = FakeDiscord.start()) {
      Bot bot = Bot.login(discord);
      discord.awaitLiveGatewaySessions(1);

      bot.jda.shutdown();

      assertThat(bot.jda.awaitShutdown(Bot.WAIT)).isTrue();
      assertThat(bot.jda.getStatus()).isEqualTo(JDA.Status.SHUTDOWN);
      discord.awaitLiveGatewaySessions(0);
    }
  }

  @Test
  void commandsJdaRegistersComeBackWithIdsThatLastAcrossRegistrations() throws Exception {
    try (FakeDiscord discord = FakeDiscord.start();
        Bot bot = Bot.login(discord)) {
      List<Command> first =
          bot.jda
              .updateCommands()
              .addCommands(
                  Commands.slash("imagine", "Generate an image")
                      .addOption(OptionType.STRING, "prompt", "What to draw", true)
                      .addOption(OptionType.ATTACHMENT, "image1", "A reference image"),
                  Commands.message("Imagine with this image"))
              .complete();
      List<Command> second =
          bot.jda
              .updateCommands()
              .addCommands(
                  Commands.slash("imagine", "Generate an image")
                      .addOption(OptionType.STRING, "prompt", "What to draw", true),
                  Commands.message("Imagine with this image"))
              .complete();

      assertThat(first)
          .extracting(Command::getName)
          .containsExactly("imagine", "Imagine with this image");
      assertThat(first.get(0).getOptions())
          .extracting(Command.Option::getType)
          .containsExactly(OptionType.STRING, OptionType.ATTACHMENT);
      assertThat(second)
          .extracting(Command::getId)
          .isEqualTo(first.stream().map(Command::getId).toList());
      assertThat(discord.registeredCommands())
          .extracting(c -> c.path("id").asText())
          .isEqualTo(first.stream().map(Command::getId).toList());
      assertThat(discord.requests("PUT /applications/{app}/commands")).hasSize(2);
    }
  }

  @Test
  void jdaResumesItsSessionWhenTheGatewayAsksItToReconnect() throws Exception {
    try (FakeDiscord discord = FakeDiscord.start();
        Bot bot = Bot.login(discord)) {
      discord.requestReconnect();

      JsonNode resume = discord.awaitGatewayFrame(f -> f.path("op").asInt() == 6);
      assertThat(resume.path("d").path("token").asText()).isEqualTo(discord.token());
      assertThat(resume.path("d").path("seq").asInt()).isGreaterThanOrEqualTo(2);
      bot.await(SessionResumeEvent.class, e -> true);
      assertThat(discord.gatewayFrames()).filteredOn(f -> f.path("op").asInt() == 2).hasSize(1);
      assertThat(discord.liveGatewaySessions()).isEqualTo(1);
    }
  }

  @Test
  void aButtonOnAMessageSentBeforeARestartReachesTheNewClient() throws Exception {
    try (FakeDiscord discord = FakeDiscord.start()) {
      String messageId;
      try (Bot before = Bot.login(discord)) {
        messageId =
            before
                .jda
                .getTextChannelById(FakeDiscord.DEFAULT_CHANNEL_ID)
                .sendMessage("a fox")
                .addComponents(ActionRow.of(Button.primary("fx:reroll:1", "Reroll")))
                .complete()
                .getId();
      }
      discord.awaitLiveGatewaySessions(0);

      try (Bot after = Bot.login(discord)) {
        DiscordInteraction press =
            discord.button(discord.inGuild(FakeDiscord.DEFAULT_USER_ID), messageId, "fx:reroll:1");

        ButtonInteractionEvent event =
            after.await(ButtonInteractionEvent.class, e -> e.getId().equals(press.id()));
        assertThat(event.getMessage().getId()).isEqualTo(messageId);
        assertThat(discord.gatewayFrames()).filteredOn(f -> f.path("op").asInt() == 2).hasSize(2);
      }
    }
  }
}
