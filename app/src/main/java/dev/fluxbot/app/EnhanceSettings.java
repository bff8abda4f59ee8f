package dev.fluxbot.app;

import dev.fluxbot.core.Secret;
import dev.fluxbot.core.enhance.EnhanceOptions;
import dev.fluxbot.core.enhance.PromptCheck;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;

/**
 * {@code enhance:} in {@code fluxbot.yaml}: {@code --enhance}, prompts rewritten by an
 * OpenAI-compatible chat endpoint before the image is made. Off unless {@code base_url} is set.
 *
 * @param baseUrl the endpoint's base URL, up to and including {@code /v1}: {@code
 *     http://localhost:11434/v1} (Ollama), {@code http://localhost:8000/v1} (vLLM), {@code
 *     http://localhost:8080/v1} (llama.cpp's server), {@code https://api.openai.com/v1}
 * @param model the model's name at that endpoint, e.g. {@code llama3.2:3b}; required with a URL
 * @param apiKeyEnv the environment variable holding the key (default {@code
 *     FLUXBOT_ENHANCE_API_KEY}); no key is sent where it is unset. The key is never in this file
 * @param timeout how long one enhancement may take (default {@code 10s}, at most {@code 120s});
 *     past it the image is made from the prompt as typed
 * @param systemPrompt what the model is told to do (default: {@link
 *     OpenAiPromptEnhancer#DEFAULT_SYSTEM_PROMPT})
 * @param maxPromptChars the longest enhanced prompt used, 50..10000 (default 1500; never more than
 *     {@code imagine.max_prompt_length})
 * @param onByDefault whether prompts are enhanced without {@code --enhance} where a scope's admin
 *     set nothing (default false)
 */
public record EnhanceSettings(
    String baseUrl,
    String model,
    String apiKeyEnv,
    String timeout,
    String systemPrompt,
    Integer maxPromptChars,
    Boolean onByDefault) {
  static final EnhanceSettings DEFAULTS =
      new EnhanceSettings(null, null, null, null, null, null, null);
  static final String DEFAULT_KEY_ENV = "FLUXBOT_ENHANCE_API_KEY";

  public EnhanceSettings {
    baseUrl = baseUrl == null || baseUrl.isBlank() ? null : baseUrl.strip();
    model = model == null || model.isBlank() ? null : model.strip();
    apiKeyEnv = apiKeyEnv == null || apiKeyEnv.isBlank() ? DEFAULT_KEY_ENV : apiKeyEnv.strip();
    timeout = timeout == null ? "10s" : timeout.strip();
    systemPrompt =
        systemPrompt == null || systemPrompt.isBlank()
            ? OpenAiPromptEnhancer.DEFAULT_SYSTEM_PROMPT
            : systemPrompt.strip();
    maxPromptChars = maxPromptChars == null ? 1500 : maxPromptChars;
    onByDefault = onByDefault != null && onByDefault;
    if (baseUrl != null) {
      checkUrl(baseUrl);
      if (model == null) {
        throw new IllegalArgumentException(
            "enhance.model: must be set when enhance.base_url is; got nothing. Name the model the"
                + " endpoint serves, e.g. model: llama3.2:3b");
      }
    } else if (onByDefault) {
      throw new IllegalArgumentException(
          "enhance.on_by_default: needs enhance.base_url; got true without it. Set base_url (and"
              + " model), or drop on_by_default");
    }
    if (!apiKeyEnv.matches("[A-Za-z_][A-Za-z0-9_]*")) {
      throw new IllegalArgumentException(
          "enhance.api_key_env: must be the NAME of an environment variable (letters, digits, _),"
              + " not the key itself; got a value that is not a name. Put the key in that"
              + " variable, e.g. FLUXBOT_ENHANCE_API_KEY");
    }
    Duration t = ConfigValues.duration("enhance.timeout", timeout);
    if (t.compareTo(Duration.ofSeconds(120)) > 0) {
      throw new IllegalArgumentException(
          "enhance.timeout: must be at most 120s (the user waits for it); got \""
              + timeout
              + "\". Use 10s or so");
    }
    if (maxPromptChars < 50 || maxPromptChars > 10_000) {
      throw new IllegalArgumentException(
          "enhance.max_prompt_chars: must be from 50 to 10000; got " + maxPromptChars);
    }
  }

  private static void checkUrl(String url) {
    try {
      URI u = new URI(url);
      if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
        throw new URISyntaxException(url, "not http or https");
      }
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(
          "enhance.base_url: must be an http:// or https:// URL ending in /v1; got \""
              + url
              + "\". Example: http://localhost:11434/v1 (Ollama)");
    }
  }

  public boolean enabled() {
    return baseUrl != null;
  }

  public Duration timeoutDuration() {
    return ConfigValues.duration("enhance.timeout", timeout);
  }

  /** The client, or null where enhancement is off. */
  OpenAiPromptEnhancer enhancer(Environment env) {
    if (!enabled()) {
      return null;
    }
    Secret key =
        env.get(apiKeyEnv).filter(k -> !k.isBlank()).map(k -> Secret.of(k.strip())).orElse(null);
    return new OpenAiPromptEnhancer(
        baseUrl.replaceAll("/+$", ""), model, key, timeoutDuration(), systemPrompt);
  }

  /** What the core is given: the client, the defaults, no prompt check yet (the lead wires it). */
  EnhanceOptions options(Environment env) {
    return new EnhanceOptions(enhancer(env), onByDefault, maxPromptChars, PromptCheck.NONE);
  }
}
