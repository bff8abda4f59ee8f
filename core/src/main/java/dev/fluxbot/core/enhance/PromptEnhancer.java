package dev.fluxbot.core.enhance;

/**
 * Rewrites a short image prompt into a detailed one (an OpenAI-compatible chat endpoint in
 * production; app's {@code OpenAiPromptEnhancer}).
 */
public interface PromptEnhancer {
  /**
   * The enhanced prompt: the endpoint's answer, trimmed, not yet checked for length.
   *
   * @throws EnhanceException when the endpoint is down, slow, refuses the key or answers nothing
   *     usable; its message is one line for the user, without any secret
   */
  String enhance(String prompt) throws EnhanceException;

  /** The model's name as users see it, e.g. {@code llama3.2:3b}. */
  String model();

  /**
   * What makes two enhancers give the same text for the same prompt: the endpoint, the model and
   * the system prompt (never the key). Enhancements are cached under it.
   */
  String identity();
}
