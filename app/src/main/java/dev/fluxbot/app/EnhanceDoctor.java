package dev.fluxbot.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxbot.app.OpsDoctor.Finding;
import dev.fluxbot.app.OpsDoctor.Level;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.util.Optional;

/**
 * {@code fluxbot doctor}'s line for {@code enhance:}: off, or whether the endpoint answers {@code
 * GET <base_url>/models} (which Ollama, vLLM, llama.cpp's server and OpenAI all serve) with the
 * key, and lists the model.
 */
final class EnhanceDoctor {
  private static final ObjectMapper JSON = new ObjectMapper();

  private EnhanceDoctor() {}

  static Finding check(FluxbotConfig config, Environment env) {
    EnhanceSettings s = config.enhance();
    if (!s.enabled()) {
      return new Finding(
          Level.NOTE,
          "enhance: off; --enhance is refused (set enhance.base_url and enhance.model to turn it"
              + " on)");
    }
    String base = s.baseUrl().replaceAll("/+$", "");
    Optional<String> key = env.get(s.apiKeyEnv()).filter(k -> !k.isBlank());
    String keyNote =
        key.isPresent() ? "key from " + s.apiKeyEnv() : "no key (" + s.apiKeyEnv() + " unset)";
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + "/models")).timeout(s.timeoutDuration()).GET();
    key.ifPresent(k -> request.header("Authorization", "Bearer " + k.strip()));
    HttpClient http = HttpClient.newBuilder().connectTimeout(s.timeoutDuration()).build();
    try {
      HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      return answered(s, base, keyNote, r);
    } catch (HttpTimeoutException e) {
      return new Finding(
          Level.FAIL,
          "enhance: " + base + " did not answer within " + s.timeout() + " (enhance.timeout)");
    } catch (IOException | IllegalArgumentException e) {
      return new Finding(
          Level.FAIL,
          "enhance: "
              + base
              + " cannot be reached ("
              + e.getClass().getSimpleName()
              + "); --enhance falls back to the prompt as typed until it can");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Finding(Level.FAIL, "enhance: interrupted while asking " + base);
    }
  }

  /** What an answer to {@code GET /models} says about the endpoint, the key and the model. */
  private static Finding answered(
      EnhanceSettings s, String base, String keyNote, HttpResponse<String> r) {
    if (r.statusCode() == 401 || r.statusCode() == 403) {
      return new Finding(
          Level.FAIL,
          "enhance: "
              + base
              + " refuses the key (HTTP "
              + r.statusCode()
              + "; "
              + keyNote
              + "); set the right key in "
              + s.apiKeyEnv());
    }
    if (r.statusCode() != 200) {
      return new Finding(
          Level.FAIL,
          "enhance: "
              + base
              + "/models answers HTTP "
              + r.statusCode()
              + "; check enhance.base_url (it ends in /v1)");
    }
    boolean listed = lists(r.body(), s.model());
    return new Finding(
        listed ? Level.OK : Level.NOTE,
        "enhance: "
            + base
            + " answers, "
            + keyNote
            + "; model "
            + s.model()
            + (listed ? "" : " is not among the models it lists (check enhance.model)"));
  }

  private static boolean lists(String body, String model) {
    try {
      for (JsonNode m : JSON.readTree(body).path("data")) {
        if (model.equals(m.path("id").asText())) {
          return true;
        }
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }
}
