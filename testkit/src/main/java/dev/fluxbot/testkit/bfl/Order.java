package dev.fluxbot.testkit.bfl;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;

/**
 * What a valid submit asks for, read once outside any lock: the size and format to render, and the
 * price from the table.
 *
 * @param seed the request's seed, or null
 * @param webhookUrl the request's webhook URL, or null
 * @param webhookSecret the request's webhook secret, or null
 */
record Order(
    Endpoint endpoint,
    String prompt,
    Long seed,
    int width,
    int height,
    String format,
    long inputMegapixels,
    long outputMegapixels,
    String webhookUrl,
    String webhookSecret) {

  static Order of(Endpoint endpoint, JsonNode body) {
    JsonNode seed = body.path("seed");
    JsonNode format = body.path("output_format");
    JsonNode webhook = body.path("webhook_url");
    JsonNode secret = body.path("webhook_secret");
    int width = (int) SubmitRules.side(body, "width");
    int height = (int) SubmitRules.side(body, "height");
    return new Order(
        endpoint,
        body.path("prompt").asText(),
        seed.isIntegralNumber() ? seed.longValue() : null,
        width,
        height,
        format.isTextual() ? format.textValue().toLowerCase(Locale.ROOT) : "jpeg",
        inputMegapixels(body),
        Endpoint.megapixels((long) width * height),
        webhook.isTextual() ? webhook.textValue() : null,
        secret.isTextual() ? secret.textValue() : null);
  }

  BigDecimal tableCost() {
    return endpoint.cost(outputMegapixels, inputMegapixels);
  }

  /**
   * Base64 references count by their decoded size; a URL, which the fake does not fetch, as 1 MP.
   */
  private static long inputMegapixels(JsonNode body) {
    long total = 0;
    for (Map.Entry<String, JsonNode> field : body.properties()) {
      if (!SubmitRules.INPUT_IMAGE.matcher(field.getKey()).matches()
          || !field.getValue().isTextual()) continue;
      String value = field.getValue().textValue();
      long pixels =
          SubmitRules.looksLikeUrl(value)
              ? -1
              : ImageSniffer.pixels(Base64.getDecoder().decode(value));
      total += pixels > 0 ? Endpoint.megapixels(pixels) : 1;
    }
    return total;
  }
}
