package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fluxbot.core.ChatReply;
import dev.fluxbot.core.Enhancement;
import dev.fluxbot.core.FluxbotCore;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.ImagineCommand;
import dev.fluxbot.core.Progress;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.Secret;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.bfl.BflBackend;
import dev.fluxbot.core.bfl.BflConfig;
import dev.fluxbot.core.enhance.EnhanceOptions;
import dev.fluxbot.core.enhance.PromptCheck;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.core.store.EnhanceStore;
import dev.fluxbot.core.store.JobStore;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.FakeChatCompletions;
import dev.fluxbot.testkit.FakeChatCompletions.Behaviour;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import dev.fluxbot.testkit.junit.FakeChatCompletionsExtension;
import dev.fluxbot.testkit.junit.FluxbotCoreExtension;
import java.net.URI;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code --enhance} through the whole core: the real LangChain4j client against the fake
 * chat-completions endpoint, the real BFL backend against the fake BFL API, SQLite.
 */
class PromptEnhancementPipelineTest {
  private static final String LLM_KEY = "sk-llm-pipeline";
  private static final Requester ALICE =
      new Requester("discord", "1", "alice", "guild-1", Set.of(), false);

  @RegisterExtension final FakeBflApiExtension bflFake = new FakeBflApiExtension();

  @RegisterExtension
  final FakeChatCompletionsExtension llmFake =
      new FakeChatCompletionsExtension(b -> b.key(LLM_KEY).model("llama3.2:3b"));

  private final FakeBflApi bfl = bflFake.get();
  private final FakeChatCompletions llm = llmFake.get();
  private final List<String> checked = new CopyOnWriteArrayList<>();

  @RegisterExtension
  @Order(Integer.MAX_VALUE)
  final FluxbotCoreExtension core = new FluxbotCoreExtension(this::wire).on(dialect());

  /**
   * The database these tests run on; {@link PromptEnhancementPostgresTest} runs them on PostgreSQL.
   */
  Database.Dialect dialect() {
    return Database.Dialect.SQLITE;
  }

  private FluxbotCore.Builder wire(FluxbotCore.Builder b) {
    BflBackend backend =
        new BflBackend(
            BflConfig.defaults(Secret.of(bfl.key())).withBaseUrl(URI.create(bfl.baseUrl())),
            new OkHttpClient(),
            InstantSource.system(),
            Sleeper.SYSTEM,
            new Random(1));
    OpenAiPromptEnhancer enhancer =
        new OpenAiPromptEnhancer(
            llm.baseUrl(),
            "llama3.2:3b",
            Secret.of(LLM_KEY),
            Duration.ofSeconds(2),
            OpenAiPromptEnhancer.DEFAULT_SYSTEM_PROMPT);
    PromptCheck check =
        (who, prompt) -> {
          checked.add(prompt);
          if (prompt.contains("forbidden")) {
            throw new UserError(UserError.Code.INVALID_OPTION, "a filter matched");
          }
        };
    return b.backends(List.of(backend)).enhance(new EnhanceOptions(enhancer, false, 300, check));
  }

  /** What a chat shows, in order. */
  static final class Shown implements ChatReply {
    final List<String> events = new CopyOnWriteArrayList<>();
    volatile ImageReply image;

    @Override
    public void accepted(String jobId, GenerationRequest request) {
      events.add("accepted " + request.prompt());
    }

    @Override
    public void queued(int position) {
      events.add("queued");
    }

    @Override
    public void progress(Progress progress) {
      events.add(progress.text());
    }

    @Override
    public void image(ImageReply reply) {
      image = reply;
      events.add("image");
    }

    @Override
    public void failed(UserError error) {
      events.add("failed " + error.getMessage());
    }
  }

  private ImageReply imagine(String text, Shown shown) {
    return core.get()
        .imagine()
        .imagine(new ImagineCommand(ALICE, text, Map.of(), List.of()), shown, null);
  }

  @Test
  void theEnhancedPromptIsSentStoredAndShownAndARepeatHitsBothCaches() {
    assertThat(core.database().dialect()).isEqualTo(dialect());
    llm.behave(Behaviour.answer("a red fox in deep snow at golden hour, 85 mm"));
    Shown first = new Shown();
    ImageReply one = imagine("a red fox in snow --enhance --seed 7", first);

    assertThat(bfl.submits()).hasSize(1);
    assertThat(bfl.submits().get(0).body().path("prompt").asText())
        .isEqualTo("a red fox in deep snow at golden hour, 85 mm");
    assertThat(first.events)
        .startsWith("accepted a red fox in snow", "Enhancing the prompt…")
        .contains("image");
    assertThat(first.image.enhancement())
        .isEqualTo(
            Enhancement.enhanced(
                "a red fox in snow",
                "a red fox in deep snow at golden hour, 85 mm",
                "llama3.2:3b"));
    JobStore.Job job = core.get().jobs().find(one.jobId()).orElseThrow();
    assertThat(job.request().prompt()).isEqualTo("a red fox in deep snow at golden hour, 85 mm");
    assertThat(new EnhanceStore(core.database(), InstantSource.system()).forJob(one.jobId()))
        .contains(first.image.enhancement());
    assertThat(checked)
        .containsExactly("a red fox in snow", "a red fox in deep snow at golden hour, 85 mm");

    // the same command again: the enhancement is cached, so the seed cache answers
    llm.behave(Behaviour.answer("something else entirely"));
    Shown second = new Shown();
    ImageReply two = imagine("a red fox in snow --enhance --seed 7", second);
    assertThat(two.cached()).isTrue();
    assertThat(second.image.enhancement().enhanced())
        .isEqualTo("a red fox in deep snow at golden hour, 85 mm");
    assertThat(llm.completions()).hasSize(1);
    assertThat(bfl.submits()).hasSize(1);

    // --no-cache asks the endpoint anew: a new text, so a new image
    Shown third = new Shown();
    imagine("a red fox in snow --enhance --seed 7 --no-cache", third);
    assertThat(llm.completions()).hasSize(2);
    assertThat(bfl.submits()).hasSize(2);
    assertThat(bfl.submits().get(1).body().path("prompt").asText())
        .isEqualTo("something else entirely");

    // without --enhance the seed cache keys on the typed prompt: no hit on the enhanced image
    ImageReply plain = imagine("a red fox in snow --seed 7", new Shown());
    assertThat(plain.cached()).isFalse();
    assertThat(plain.enhancement()).isNull();
    assertThat(bfl.submits().get(2).body().path("prompt").asText()).isEqualTo("a red fox in snow");
  }

  @Test
  void whenTheEndpointFailsTheImageComesFromThePromptAsTypedWithANote() {
    llm.behave(Behaviour.status(503));
    Shown shown = new Shown();
    ImageReply image = imagine("a lighthouse --enhance", shown);
    assertThat(bfl.submits().get(0).body().path("prompt").asText()).isEqualTo("a lighthouse");
    assertThat(image.cached()).isFalse();
    assertThat(shown.image.enhancement().worked()).isFalse();
    assertThat(shown.image.enhancement().note()).isEqualTo("the enhancer answered HTTP 503");

    llm.behave(Behaviour.empty());
    Shown empty = new Shown();
    imagine("a castle --enhance", empty);
    assertThat(empty.image.enhancement().note())
        .isEqualTo("the enhancer answered with an empty prompt");

    llm.behave(Behaviour.answer("x".repeat(301)));
    Shown tooLong = new Shown();
    imagine("a bridge --enhance", tooLong);
    assertThat(tooLong.image.enhancement().note())
        .isEqualTo("the enhanced prompt has 301 characters, over the limit of 300");

    llm.behave(Behaviour.answer("a forbidden bridge"));
    Shown filtered = new Shown();
    imagine("a tower --enhance", filtered);
    assertThat(filtered.image.enhancement().note())
        .isEqualTo("the enhanced prompt did not pass this chat's filters");
    assertThat(bfl.submits())
        .extracting(s -> s.body().path("prompt").asText())
        .containsExactly("a lighthouse", "a castle", "a bridge", "a tower");
  }

  @Test
  void aJsonPromptIsNeverEnhancedAndAFilteredPromptNeverReachesTheEndpoint() {
    Shown json = new Shown();
    imagine("{\"scene\": \"a fox\"} --enhance", json);
    assertThat(llm.completions()).isEmpty();
    assertThat(json.image.enhancement().note())
        .isEqualTo("a JSON prompt is sent as written, never enhanced");

    assertThatThrownBy(() -> imagine("a forbidden fox --enhance", new Shown()))
        .isInstanceOf(UserError.class)
        .hasMessage("a filter matched");
    assertThat(llm.completions()).isEmpty();
    assertThat(bfl.submits()).hasSize(1);
  }

  @Test
  void theScopesDefaultEnhancesAndNoEnhanceWinsOverIt() {
    core.get().settings().setScopeEnhance("discord", "guild-1", true);
    imagine("a barn", new Shown());
    assertThat(llm.completions()).hasSize(1);
    assertThat(bfl.submits().get(0).body().path("prompt").asText()).isEqualTo("a barn — enhanced");

    ImageReply plain = imagine("a barn --no-enhance", new Shown());
    assertThat(plain.enhancement()).isNull();
    assertThat(llm.completions()).hasSize(1);

    assertThatThrownBy(() -> imagine("a barn --enhance --no-enhance", new Shown()))
        .isInstanceOf(UserError.class)
        .hasMessage("--enhance and --no-enhance: give at most one of them; got both. Keep one.");
  }

  @Test
  void enhanceWithoutAnEnhancerSaysHowToTurnItOn() {
    FluxbotCore off = core.start(b -> b.enhance(EnhanceOptions.OFF));
    assertThatThrownBy(
            () ->
                off.imagine()
                    .imagine(
                        new ImagineCommand(ALICE, "a fox --enhance", Map.of(), List.of()),
                        new Shown(),
                        null))
        .isInstanceOf(UserError.class)
        .hasMessageStartingWith("--enhance: this bot has no prompt enhancer")
        .hasMessageContaining("enhance.base_url");
    assertThat(bfl.submits()).isEmpty();
  }
}
