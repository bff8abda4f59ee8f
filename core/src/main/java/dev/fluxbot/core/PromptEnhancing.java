package dev.fluxbot.core;

import dev.fluxbot.core.chat.ChatTexts;
import dev.fluxbot.core.command.CommandParser;
import dev.fluxbot.core.enhance.EnhanceException;
import dev.fluxbot.core.enhance.EnhanceOptions;
import dev.fluxbot.core.enhance.PromptEnhancer;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.store.EnhanceStore;
import dev.fluxbot.core.store.SettingsStore;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --enhance}: the step between parsing a command and starting its job that rewrites the
 * prompt through an OpenAI-compatible chat endpoint.
 *
 * <p>It runs on the command's own thread (each platform gives every command one), before the job's
 * credits are held and before its row is written, so a slow endpoint holds no credit and no
 * scheduler thread; the endpoint's timeout bounds it. The enhanced prompt replaces the request's,
 * so the seed cache's key, the job's stored request and the backend all see the prompt actually
 * sent; the prompt as typed is kept beside it ({@link EnhanceStore}). Enhancements are cached per
 * (endpoint, model, system prompt, prompt as typed): the same prompt enhanced again gets the same
 * text, so a repeat with the same seed is a seed-cache hit; {@code --no-cache} asks anew. When the
 * endpoint fails, the job runs on the prompt as typed and its image carries a one-line note.
 */
final class PromptEnhancing {
  private static final Logger log = LoggerFactory.getLogger(ImagineService.class);

  /** The request to run and the reply to tell; {@code recorded}: a job_prompts row was written. */
  record Result(GenerationRequest request, ChatReply reply, boolean recorded) {}

  private final EnhanceOptions options;
  private final EnhanceStore store;
  private final SettingsStore settings;
  private final int maxPromptChars;

  /**
   * @param parserMax the parser's longest prompt: an enhanced prompt is held to it too
   */
  PromptEnhancing(
      EnhanceOptions options, EnhanceStore store, SettingsStore settings, int parserMax) {
    this.options = options;
    this.store = store;
    this.settings = settings;
    this.maxPromptChars = Math.min(options.maxPromptChars(), parserMax);
  }

  /**
   * Enhances the command's prompt where it asks for it (or its scope's or the installation's
   * default does); otherwise returns the request and reply as they are.
   *
   * @throws UserError for {@code --enhance} where no enhancer is set up, or both flags
   */
  Result apply(String jobId, ImagineCommand command, GenerationRequest request, ChatReply reply) {
    Boolean typed = CommandParser.enhanceFlag(command.text(), command.options());
    Requester who = command.requester();
    if (!options.on()) { // off: no database read, and --enhance says how to turn it on
      if (Boolean.TRUE.equals(typed)) {
        throw UserError.of(UserError.Code.INVALID_OPTION, "enhance.off");
      }
      return new Result(request, reply, false);
    }
    if (!wanted(typed, who)) {
      return new Result(request, reply, false);
    }
    PromptEnhancer enhancer = options.enhancer();
    String original = request.prompt();
    if (CommandParser.isJsonObject(original.strip())) {
      if (!Boolean.TRUE.equals(typed)) {
        return new Result(request, reply, false);
      }
      return record(
          jobId,
          request,
          reply,
          Enhancement.failed(original, enhancer.model(), ChatTexts.enhanceJson()));
    }
    options.check().check(who, original); // a refused prompt goes to no endpoint
    reply.accepted(jobId, request);
    reply.progress(Progress.of(Progress.Stage.ENHANCING, ""));
    Enhancement e;
    try {
      String enhanced = enhanced(enhancer, original, request.noCache());
      e = Enhancement.enhanced(original, enhanced, enhancer.model());
    } catch (EnhanceException failure) {
      log.warn("job {}: prompt enhancement failed: {}", jobId, failure.getMessage());
      e = Enhancement.failed(original, enhancer.model(), failure.getMessage());
    }
    if (e.worked()) {
      try {
        options.check().check(who, e.enhanced());
      } catch (UserError refused) {
        log.info(
            "job {}: the enhanced prompt did not pass the filters; using the one typed", jobId);
        e = Enhancement.failed(original, enhancer.model(), ChatTexts.enhanceFiltered());
      }
    }
    GenerationRequest sent = e.worked() ? request.withPrompt(e.enhanced()) : request;
    return record(jobId, sent, new Told(reply, e, true), e);
  }

  private Result record(String jobId, GenerationRequest request, ChatReply reply, Enhancement e) {
    store.recordJob(jobId, e);
    return new Result(request, reply instanceof Told ? reply : new Told(reply, e, false), true);
  }

  /**
   * Whether this command's prompt is to be enhanced: typed, else the scope's, else the config's.
   */
  private boolean wanted(Boolean typed, Requester who) {
    if (typed != null) {
      return typed;
    }
    Boolean scope = settings.scopeEnhance(who.platform(), who.scopeId());
    return scope != null ? scope : options.onByDefault();
  }

  /** The enhancement made before for this prompt, or a new one (kept for the next time). */
  private String enhanced(PromptEnhancer enhancer, String original, boolean noCache)
      throws EnhanceException {
    if (!noCache) {
      Optional<String> before = store.cached(enhancer.identity(), original);
      if (before.isPresent()) {
        return before.get();
      }
    }
    String answer = clean(enhancer.enhance(original));
    if (answer.isEmpty()) {
      throw new EnhanceException(ChatTexts.enhanceEmpty());
    }
    int length = answer.codePointCount(0, answer.length());
    if (length > maxPromptChars) {
      throw new EnhanceException(ChatTexts.enhanceTooLong(length, maxPromptChars));
    }
    store.cache(enhancer.identity(), original, answer);
    return answer;
  }

  /** The answer without the blanks and the one pair of quotes models like to wrap it in. */
  static String clean(String answer) {
    String s = answer == null ? "" : answer.strip();
    if (s.length() >= 2
        && ((s.startsWith("\"") && s.endsWith("\"")) || (s.startsWith("“") && s.endsWith("”")))) {
      s = s.substring(1, s.length() - 1).strip();
    }
    return s;
  }

  /** The job's enhancement, for an answer rebuilt after a restart; empty where none. */
  Optional<Enhancement> forJob(String jobId) {
    return store.forJob(jobId);
  }

  /** Drops the record of a job that was refused before its row was written. */
  void forget(String jobId) {
    store.forgetJob(jobId);
  }

  /**
   * The user's reply, told once that the job was accepted (before the enhancement), and shown what
   * the enhancement did with the image.
   */
  static final class Told implements ChatReply {
    private final ChatReply inner;
    private final Enhancement enhancement;
    private boolean acceptedTold;

    /**
     * @param acceptedTold whether the user was told already that the job was accepted
     */
    Told(ChatReply inner, Enhancement enhancement, boolean acceptedTold) {
      this.inner = inner;
      this.enhancement = enhancement;
      this.acceptedTold = acceptedTold;
    }

    @Override
    public void accepted(String jobId, GenerationRequest request) {
      if (!acceptedTold) {
        acceptedTold = true;
        inner.accepted(jobId, request);
      }
    }

    @Override
    public void queued(int position) {
      inner.queued(position);
    }

    @Override
    public void progress(Progress progress) {
      inner.progress(progress);
    }

    @Override
    public void image(ImageReply reply) {
      inner.image(reply.enhancement() == null ? reply.withEnhancement(enhancement) : reply);
    }

    @Override
    public void failed(UserError error) {
      inner.failed(error);
    }
  }
}
