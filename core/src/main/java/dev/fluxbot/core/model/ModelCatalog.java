package dev.fluxbot.core.model;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** The models fluxbot knows, looked up by id or alias. Loaded from data ({@code models.json}). */
public final class ModelCatalog {
  private final List<ModelSpec> models;
  private final Map<String, ModelSpec> byName;

  private ModelCatalog(List<ModelSpec> models) {
    this.models = List.copyOf(models);
    Map<String, ModelSpec> names = new LinkedHashMap<>();
    for (ModelSpec m : models) {
      put(names, m.id(), m);
      for (String alias : m.aliases()) {
        put(names, alias, m);
      }
    }
    this.byName = Map.copyOf(names);
  }

  private static void put(Map<String, ModelSpec> names, String name, ModelSpec model) {
    ModelSpec old = names.put(name.toLowerCase(Locale.ROOT), model);
    if (old != null) {
      throw new IllegalArgumentException(
          "model name '" + name + "' used by both " + old.id() + " and " + model.id());
    }
  }

  /** A catalog of these models (ids and aliases must be unique, ignoring case). */
  public static ModelCatalog of(List<ModelSpec> models) {
    return new ModelCatalog(models);
  }

  /** The catalog shipped with fluxbot. */
  public static ModelCatalog builtIn() {
    try (InputStream in = ModelCatalog.class.getResourceAsStream("models.json")) {
      if (in == null) {
        throw new IllegalStateException("models.json missing from the fluxbot-core jar");
      }
      return parse(new ObjectMapper().readTree(in));
    } catch (IOException e) {
      throw new UncheckedIOException("reading models.json", e);
    }
  }

  static ModelCatalog parse(JsonNode root) {
    ObjectMapper mapper =
        new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    ModelSpec.SizeRules rules =
        mapper.convertValue(root.required("sizeRules"), ModelSpec.SizeRules.class);
    List<ModelSpec> models = new ArrayList<>();
    for (JsonNode m : root.required("models")) {
      JsonNode price = m.required("price");
      models.add(
          new ModelSpec(
              m.required("id").asText(),
              mapper.convertValue(
                  m.path("aliases"),
                  mapper.getTypeFactory().constructCollectionType(List.class, String.class)),
              m.required("endpoint").asText(),
              m.required("maxReferences").asInt(),
              m.path("preview").asBoolean(false),
              m.path("local").asBoolean(false),
              new ModelSpec.Price(
                  new BigDecimal(price.required("firstMp").asText()),
                  new BigDecimal(price.required("furtherMp").asText()),
                  new BigDecimal(price.required("inputMp").asText())),
              rules,
              m.hasNonNull("steps")
                  ? mapper.convertValue(m.get("steps"), ModelSpec.Range.class)
                  : null,
              m.hasNonNull("guidance")
                  ? mapper.convertValue(m.get("guidance"), ModelSpec.Range.class)
                  : null,
              m.hasNonNull("firstPollMs")
                  ? java.time.Duration.ofMillis(m.get("firstPollMs").asLong())
                  : null));
    }
    return new ModelCatalog(models);
  }

  public List<ModelSpec> models() {
    return models;
  }

  /** The model with this id or alias (any case), if there is one. */
  public Optional<ModelSpec> find(String name) {
    return Optional.ofNullable(byName.get(name.trim().toLowerCase(Locale.ROOT)));
  }

  /** Every accepted name, ids first, for help texts and error messages. */
  public List<String> names() {
    List<String> names = new ArrayList<>();
    models.forEach(m -> names.add(m.id()));
    models.forEach(m -> names.addAll(m.aliases()));
    return names;
  }

  /** Like {@link #find}, for names from configuration: an unknown one is a startup error. */
  public ModelSpec require(String name) {
    return find(name)
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "unknown model '" + name + "'; known: " + String.join(", ", names())));
  }
}
