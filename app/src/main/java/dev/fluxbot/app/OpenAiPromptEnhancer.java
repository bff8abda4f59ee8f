package dev.fluxbot.app;

import dev.fluxbot.core.Secret;
import dev.fluxbot.core.chat.ChatTexts;
import dev.fluxbot.core.enhance.EnhanceException;
import dev.fluxbot.core.enhance.PromptEnhancer;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.AuthenticationException;
import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.LangChain4jException;
import dev.langchain4j.exception.TimeoutException;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.openai.OpenAiChatModel;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.Objects;

/**
 * {@code --enhance} through an OpenAI-compatible chat endpoint ({@code POST
 * <base_url>/chat/completions}: Ollama, vLLM, llama.cpp's server, OpenAI), with LangChain4j's
 * OpenAI client. One try per prompt (no retries: the user is waiting), bounded by the timeout; the
 * client logs neither requests nor responses, so the key (a bearer token) is never logged. Every
 * failure becomes an {@link EnhanceException} of one line naming what went wrong, never the key.
 */
final class OpenAiPromptEnhancer implements PromptEnhancer {
  /** What the model is asked to do, unless {@code enhance.system_prompt} says otherwise. */
  static final String DEFAULT_SYSTEM_PROMPT =
      "You rewrite short prompts for the FLUX.2 text-to-image model into one detailed prompt."
          + " Keep every subject, object, colour, style and piece of text the user asked for, and"
          + " add concrete details: setting, composition, lighting, camera and lens, materials,"
          + " mood. Write natural English prose, at most 120 words. Answer with the prompt only:"
          + " no preamble, no quotes, no lists, no markdown.";

  private final String endpoint;
  private final String model;
  private final String systemPrompt;
  private final Duration timeout;
  private final ChatModel chat;

  /**
   * @param apiKey the bearer token, or null for an endpoint without one (Ollama)
   */
  OpenAiPromptEnhancer(
      String baseUrl, String model, Secret apiKey, Duration timeout, String systemPrompt) {
    this.endpoint = Objects.requireNonNull(baseUrl, "baseUrl");
    this.model = Objects.requireNonNull(model, "model");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.systemPrompt = Objects.requireNonNull(systemPrompt, "systemPrompt");
    this.chat =
        OpenAiChatModel.builder()
            .baseUrl(baseUrl)
            // LangChain4j requires a key; a local server without one ignores this placeholder
            .apiKey(apiKey == null ? "none" : apiKey.reveal())
            .modelName(model)
            .timeout(timeout)
            .maxRetries(0)
            .logRequests(false)
            .logResponses(false)
            .build();
  }

  @Override
  public String enhance(String prompt) throws EnhanceException {
    ChatResponse response;
    try {
      response = chat.chat(SystemMessage.from(systemPrompt), UserMessage.from(prompt));
    } catch (AuthenticationException e) {
      throw new EnhanceException(ChatTexts.enhanceKeyRefused(401));
    } catch (HttpException e) {
      throw new EnhanceException(
          e.statusCode() == 401 || e.statusCode() == 403
              ? ChatTexts.enhanceKeyRefused(e.statusCode())
              : ChatTexts.enhanceHttpError(e.statusCode()));
    } catch (TimeoutException e) {
      throw new EnhanceException(ChatTexts.enhanceTimeout(timeout));
    } catch (LangChain4jException | IllegalArgumentException | IllegalStateException e) {
      throw new EnhanceException(reason(e));
    } catch (RuntimeException e) {
      throw new EnhanceException(reason(e)); // a body that is not a completion, and the like
    }
    String text =
        response == null || response.aiMessage() == null ? null : response.aiMessage().text();
    return text == null ? "" : text;
  }

  /** One line for a failure LangChain4j did not classify, found from its causes. */
  private String reason(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof HttpTimeoutException || t instanceof java.util.concurrent.TimeoutException) {
        return ChatTexts.enhanceTimeout(timeout);
      }
      if (t instanceof ConnectException
          || t instanceof UnresolvedAddressException
          || t instanceof java.net.UnknownHostException) {
        return ChatTexts.enhanceUnreachable(endpoint);
      }
      if (t instanceof HttpException h) {
        return ChatTexts.enhanceHttpError(h.statusCode());
      }
      if (t instanceof com.fasterxml.jackson.core.JsonProcessingException) {
        return ChatTexts.enhanceGarbled();
      }
      if (t instanceof IOException) {
        return ChatTexts.enhanceUnreachable(endpoint);
      }
    }
    return ChatTexts.enhanceGarbled();
  }

  @Override
  public String model() {
    return model;
  }

  @Override
  public String identity() {
    return endpoint + "\n" + model + "\n" + systemPrompt;
  }

  /** The endpoint, for doctor and the log: {@code http://localhost:11434/v1}. */
  String endpoint() {
    return endpoint;
  }
}
