package dev.fluxbot.core.command;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxbot.core.Text;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.model.AspectPreset;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.ImageSize;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.model.ModelSpec;
import dev.fluxbot.core.model.Sizes;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns {@code /imagine} text and platform-native options into a {@link GenerationRequest}.
 *
 * <p>Flags ({@code --ar 16:9}, {@code --seed=7}, or with an em dash as phones type it) may stand
 * anywhere in the text; what is left is the prompt. A JSON object and a closed double-quoted span
 * are opaque: flags inside them are prompt text. Native options win over flags in the text. Every
 * refusal is a {@link UserError} naming the field, the rule and the value.
 */
public final class CommandParser {

  /** What an admin configures about parsing. */
  public record Settings(
      String defaultModel, int maxPromptLength, int maxSafetyTolerance, ImageType defaultFormat) {
    public static final int DEFAULT_SAFETY = 2;

    public Settings {
      Objects.requireNonNull(defaultModel, "defaultModel");
      Objects.requireNonNull(defaultFormat, "defaultFormat");
      if (maxPromptLength < 1) {
        throw new IllegalArgumentException("maxPromptLength must be >= 1: " + maxPromptLength);
      }
      if (maxSafetyTolerance < 0 || maxSafetyTolerance > 5) {
        throw new IllegalArgumentException(
            "maxSafetyTolerance must be 0..5: " + maxSafetyTolerance);
      }
    }

    public static Settings defaults() {
      return new Settings("klein-4b", 4000, 5, ImageType.JPEG);
    }
  }

  /**
   * Where a command comes from: the user's defaults (weaker than anything typed), and the scope's
   * default model and safety cap (each null where the scope sets none).
   */
  public record Context(Map<String, String> defaults, String defaultModel, Integer maxSafety) {
    public static final Context NONE = new Context(Map.of(), null, null);

    public Context {
      defaults = Map.copyOf(defaults);
    }
  }

  private static final Pattern RATIO = Pattern.compile("(\\d{1,5})\\s*[:x×/]\\s*(\\d{1,5})");
  private static final Pattern SIZE = Pattern.compile("(\\d{1,6})\\s*[x×*]\\s*(\\d{1,6})");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ModelCatalog catalog;
  private final Settings settings;
  private final ModelSpec defaultModel;

  public CommandParser(ModelCatalog catalog, Settings settings) {
    this.catalog = Objects.requireNonNull(catalog, "catalog");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.defaultModel = catalog.require(settings.defaultModel());
  }

  public Settings settings() {
    return settings;
  }

  /**
   * Parses one command.
   *
   * @param text the prompt with any flags, as typed
   * @param nativeOptions platform options by name ({@code model}, {@code aspect}, {@code seed} …)
   * @param referenceCount how many images are attached
   * @throws UserError for anything a user can get wrong
   */
  public GenerationRequest parse(
      String text, Map<String, String> nativeOptions, int referenceCount) {
    return parse(text, nativeOptions, referenceCount, Context.NONE);
  }

  /** Like {@link #parse(String, Map, int)}, with the user's defaults and the scope's settings. */
  public GenerationRequest parse(
      String text, Map<String, String> nativeOptions, int referenceCount, Context context) {
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(context, "context");
    Objects.requireNonNull(nativeOptions, "nativeOptions");
    checkLength(text);
    CommandScanner.Result scanned = CommandScanner.scan(text);
    Map<CommandOption, Value> values = flagValues(scanned);
    nativeOptions.forEach(
        (name, value) -> {
          CommandOption option =
              CommandOption.byName(name)
                  .orElseThrow(
                      () ->
                          new UserError(
                              UserError.Code.UNKNOWN_OPTION,
                              "Unknown option "
                                  + Text.quote(name)
                                  + "; known options: "
                                  + CommandOption.knownNames()
                                  + "."));
          if (value != null) {
            values.put(option, new Value(option.id(), value));
          }
        });
    context
        .defaults()
        .forEach(
            (name, value) ->
                CommandOption.byName(name)
                    .ifPresent(
                        option ->
                            values.putIfAbsent(
                                option, new Value("your default " + option.id(), value))));
    return build(scanned.prompt(), values, referenceCount, context);
  }

  /**
   * The text typed for Vary: parsed with the same grammar and rules as {@code /imagine}, where each
   * flag typed wins and every option not typed keeps the original job's value (its seed too, unless
   * {@code --seed} is given). The size stays unless {@code --ar}, {@code --size} or {@code --res}
   * is typed.
   *
   * @throws UserError for anything {@code /imagine} would refuse
   */
  public GenerationRequest vary(GenerationRequest original, String text) {
    Objects.requireNonNull(original, "original");
    Objects.requireNonNull(text, "text");
    checkLength(text);
    CommandScanner.Result scanned = CommandScanner.scan(text);
    Map<CommandOption, Value> values = flagValues(scanned);
    boolean sizeTyped =
        values.containsKey(CommandOption.AR) || values.containsKey(CommandOption.SIZE);
    boolean resTyped = values.containsKey(CommandOption.RES);
    inherit(values, CommandOption.MODEL, original.model().id());
    ModelSpec model = model(values.get(CommandOption.MODEL));
    if (original.seed() != null) {
      inherit(values, CommandOption.SEED, Long.toString(original.seed()));
    }
    if (original.steps() != null && model.takesSteps()) {
      inherit(values, CommandOption.STEPS, Integer.toString(original.steps()));
    }
    if (original.guidance() != null && model.takesGuidance()) {
      inherit(values, CommandOption.GUIDANCE, Text.number(original.guidance()));
    }
    inherit(values, CommandOption.SAFETY, Integer.toString(original.safetyTolerance()));
    inherit(values, CommandOption.FORMAT, original.format().name());
    inherit(values, CommandOption.NO_CACHE, Boolean.toString(original.noCache()));
    inherit(values, CommandOption.RES, original.hiRes() ? "2k" : "1k");
    if (!sizeTyped && resTyped && original.size() != null) {
      inherit(values, CommandOption.AR, original.size().width() + ":" + original.size().height());
    }
    GenerationRequest varied =
        build(scanned.prompt(), values, original.referenceCount(), Context.NONE);
    if (!sizeTyped && !resTyped && original.size() != null && !model.equals(original.model())) {
      exactSize(
          new Value(
              "the original image's size",
              original.size().width() + "x" + original.size().height()),
          model.sizeRules()); // the kept size must suit the newly typed model
    }
    return sizeTyped || resTyped
        ? varied
        : varied.withSize(original.size()); // its --res was inherited too
  }

  private static void inherit(Map<CommandOption, Value> values, CommandOption option, String raw) {
    values.putIfAbsent(option, new Value("the original image's " + option.id(), raw));
  }

  private void checkLength(String text) {
    if (text.length() > 4L * settings.maxPromptLength() + 1000) {
      throw new UserError(
          UserError.Code.PROMPT_TOO_LONG,
          "prompt: at most "
              + settings.maxPromptLength()
              + " characters; got "
              + text.length()
              + ". Shorten it.");
    }
  }

  private static Map<CommandOption, Value> flagValues(CommandScanner.Result scanned) {
    Map<CommandOption, Value> values = new EnumMap<>(CommandOption.class);
    for (CommandScanner.Flag f : scanned.flags()) {
      Value old = values.put(f.option(), new Value(f.option().flag(), f.value()));
      if (old != null) {
        throw new UserError(
            UserError.Code.INVALID_OPTION,
            f.option().flag()
                + " was given twice ("
                + Text.quote(old.raw())
                + " and "
                + Text.quote(f.value())
                + "); keep one.");
      }
    }
    return values;
  }

  private record Value(String field, String raw) {}

  private GenerationRequest build(
      String prompt, Map<CommandOption, Value> v, int referenceCount, Context context) {
    ModelSpec scopeModel =
        context.defaultModel() == null
            ? defaultModel
            : catalog.find(context.defaultModel()).orElse(defaultModel);
    ModelSpec model =
        v.containsKey(CommandOption.MODEL) ? model(v.get(CommandOption.MODEL)) : scopeModel;
    int maxSafety =
        context.maxSafety() == null
            ? settings.maxSafetyTolerance()
            : Math.min(settings.maxSafetyTolerance(), context.maxSafety());
    checkPrompt(prompt);
    checkReferences(model, referenceCount);
    boolean hiRes = v.containsKey(CommandOption.RES) && resolution(v.get(CommandOption.RES));
    ImageSize size =
        size(v.get(CommandOption.AR), v.get(CommandOption.SIZE), model, referenceCount);
    if (size != null && hiRes) {
      size = Sizes.twoK(size, model.sizeRules());
    }
    Value typedSeed = v.get(CommandOption.SEED);
    boolean seedFromLast = typedSeed != null && typedSeed.raw().trim().equalsIgnoreCase("last");
    Long seed = typedSeed == null || seedFromLast ? null : seed(typedSeed);
    Integer steps =
        v.containsKey(CommandOption.STEPS) ? steps(v.get(CommandOption.STEPS), model) : null;
    Double guidance =
        v.containsKey(CommandOption.GUIDANCE)
            ? guidance(v.get(CommandOption.GUIDANCE), model)
            : null;
    int safety =
        v.containsKey(CommandOption.SAFETY)
            ? safety(v.get(CommandOption.SAFETY), maxSafety)
            : Math.min(Settings.DEFAULT_SAFETY, maxSafety);
    ImageType format =
        v.containsKey(CommandOption.FORMAT)
            ? format(v.get(CommandOption.FORMAT))
            : settings.defaultFormat();
    boolean noCache = v.containsKey(CommandOption.NO_CACHE) && flag(v.get(CommandOption.NO_CACHE));
    return new GenerationRequest(
        model,
        prompt,
        size,
        hiRes,
        seed,
        seedFromLast,
        steps,
        guidance,
        safety,
        format,
        referenceCount,
        noCache);
  }

  /** Refuses more references than the model takes, naming a model that takes them. */
  private void checkReferences(ModelSpec model, int referenceCount) {
    if (referenceCount > model.maxReferences()) {
      String more =
          catalog.models().stream()
              .filter(m -> m.maxReferences() >= referenceCount && !m.preview())
              .map(ModelSpec::id)
              .findFirst()
              .map(id -> " or use --model " + id)
              .orElse("");
      throw new UserError(
          UserError.Code.TOO_MANY_REFERENCES,
          "references: "
              + model.id()
              + " takes at most "
              + model.maxReferences()
              + " reference images; got "
              + referenceCount
              + ". Remove "
              + (referenceCount - model.maxReferences())
              + more
              + ".");
    }
  }

  private void checkPrompt(String prompt) {
    if (prompt.isBlank()) {
      throw new UserError(
          UserError.Code.EMPTY_PROMPT,
          "prompt: must not be empty. Describe the image, e.g. /imagine a red fox in snow --ar 16:9");
    }
    int length = prompt.codePointCount(0, prompt.length());
    if (length > settings.maxPromptLength()) {
      throw new UserError(
          UserError.Code.PROMPT_TOO_LONG,
          "prompt: at most "
              + settings.maxPromptLength()
              + " characters; got "
              + length
              + ". Shorten it by "
              + (length - settings.maxPromptLength())
              + ".");
    }
  }

  private ModelSpec model(Value v) {
    return catalog
        .find(v.raw())
        .orElseThrow(
            () ->
                invalid(
                    v,
                    "must be one of " + String.join(", ", catalog.names()),
                    "Example: --model pro"));
  }

  private static boolean resolution(Value v) {
    return switch (v.raw().trim().toLowerCase(Locale.ROOT)) {
      case "1k", "1" -> false;
      case "2k", "2" -> true;
      default -> throw invalid(v, "must be 1k or 2k", "Example: --res 2k");
    };
  }

  private ImageSize size(Value ar, Value size, ModelSpec model, int referenceCount) {
    if (ar != null && size != null) {
      throw new UserError(
          UserError.Code.INVALID_OPTION,
          size.field()
              + ": cannot be combined with "
              + ar.field()
              + " ("
              + Text.quote(ar.raw())
              + "); keep one of them.");
    }
    if (size != null) {
      return exactSize(size, model.sizeRules());
    }
    if (ar != null) {
      return aspect(ar, model.sizeRules());
    }
    return referenceCount > 0 ? null : AspectPreset.SQUARE_1_1.size();
  }

  private static ImageSize aspect(Value v, ModelSpec.SizeRules rules) {
    var preset = AspectPreset.byId(v.raw());
    if (preset.isPresent()) {
      return preset.get().size();
    }
    Matcher m = RATIO.matcher(v.raw().trim());
    if (!m.matches()) {
      throw invalid(
          v, "must be W:H (like 16:9) or a preset (" + presetNames() + ")", "Example: --ar 16:9");
    }
    long w = Long.parseLong(m.group(1));
    long h = Long.parseLong(m.group(2));
    if (w == 0 || h == 0 || w > h * Sizes.MAX_RATIO || h > w * Sizes.MAX_RATIO) {
      throw invalid(
          v,
          "the ratio must lie between 1:" + Sizes.MAX_RATIO + " and " + Sizes.MAX_RATIO + ":1",
          "Example: --ar 3:2");
    }
    return Sizes.ofRatio(w, h, rules);
  }

  private static ImageSize exactSize(Value v, ModelSpec.SizeRules rules) {
    Matcher m = SIZE.matcher(v.raw().trim());
    if (!m.matches()) {
      throw invalid(v, "must be WIDTHxHEIGHT in pixels", "Example: --size 1536x1024");
    }
    int w = Sizes.roundSide(Long.parseLong(m.group(1)), rules);
    int h = Sizes.roundSide(Long.parseLong(m.group(2)), rules);
    if (w > rules.maxSide() || h > rules.maxSide()) {
      throw invalid(
          v,
          "each side must be at most " + rules.maxSide() + " px",
          "Use --size with smaller sides, or --ar for a ratio");
    }
    if ((long) w * h > rules.maxPixels()) {
      throw invalid(
          v,
          "must be at most "
              + rules.maxPixels() / Sizes.ONE_MP
              + " MP ("
              + w
              + "x"
              + h
              + " is "
              + String.format(Locale.ROOT, "%.2f", (double) w * h / Sizes.ONE_MP)
              + " MP)",
          "Use smaller sides");
    }
    return new ImageSize(w, h);
  }

  private static long seed(Value v) {
    String s = v.raw().trim();
    if (s.matches("\\d{1,10}")) {
      long seed = Long.parseLong(s);
      if (seed <= GenerationRequest.MAX_SEED) {
        return seed;
      }
    }
    throw invalid(
        v,
        "must be a whole number from 0 to " + GenerationRequest.MAX_SEED + ", or last",
        "Example: --seed 42");
  }

  private static Integer steps(Value v, ModelSpec model) {
    if (!model.takesSteps()) {
      throw notFor(v, model);
    }
    ModelSpec.Range r = model.steps();
    String s = v.raw().trim();
    if (s.matches("\\d{1,4}") && r.contains(Integer.parseInt(s))) {
      return Integer.parseInt(s);
    }
    throw invalid(
        v,
        "must be a whole number from " + (int) r.min() + " to " + (int) r.max(),
        "Example: --steps 28");
  }

  private static Double guidance(Value v, ModelSpec model) {
    if (!model.takesGuidance()) {
      throw notFor(v, model);
    }
    ModelSpec.Range r = model.guidance();
    String s = v.raw().trim();
    if (s.matches("\\d{1,3}(\\.\\d{1,6})?") && r.contains(Double.parseDouble(s))) {
      return Double.parseDouble(s);
    }
    throw invalid(
        v,
        "must be a number from " + Text.number(r.min()) + " to " + Text.number(r.max()),
        "Example: --guidance 4.5");
  }

  private static int safety(Value v, int max) {
    String s = v.raw().trim();
    if (!s.matches("[0-5]")) {
      throw invalid(
          v, "must be a whole number from 0 (strict) to 5 (permissive)", "Example: --safety 2");
    }
    int safety = Integer.parseInt(s);
    if (safety > max) {
      throw invalid(
          v, "this bot allows at most " + max + " here", "Use --safety " + max + " or lower");
    }
    return safety;
  }

  private static ImageType format(Value v) {
    return ImageType.fromName(v.raw())
        .orElseThrow(() -> invalid(v, "must be jpeg, png or webp", "Example: --format png"));
  }

  private static boolean flag(Value v) {
    return switch (v.raw().trim().toLowerCase(Locale.ROOT)) {
      case "", "true", "yes", "on", "1" -> true;
      case "false", "no", "off", "0" -> false;
      default -> throw invalid(v, "must be true or false", "Example: --no-cache");
    };
  }

  private static UserError notFor(Value v, ModelSpec model) {
    return new UserError(
        UserError.Code.INVALID_OPTION,
        v.field()
            + ": only the flex model takes it, not "
            + model.id()
            + "; got "
            + Text.quote(v.raw())
            + ". Add --model flex or drop "
            + v.field()
            + ".");
  }

  private static UserError invalid(Value v, String rule, String fix) {
    return new UserError(
        UserError.Code.INVALID_OPTION,
        v.field() + ": " + rule + "; got " + Text.quote(v.raw()) + ". " + fix + ".");
  }

  private static String presetNames() {
    StringBuilder sb = new StringBuilder();
    for (AspectPreset p : AspectPreset.values()) {
      sb.append(sb.isEmpty() ? "" : ", ").append(p.id());
    }
    return sb.toString();
  }

  /**
   * What the command says about {@code --enhance}: true for {@code --enhance}, false for {@code
   * --no-enhance} (in the text or as a native option), null where it says nothing (the scope's and
   * the installation's defaults decide).
   *
   * @throws UserError when both are given
   */
  public static Boolean enhanceFlag(String text, Map<String, String> nativeOptions) {
    Map<CommandOption, Value> values = flagValues(CommandScanner.scan(text));
    nativeOptions.forEach(
        (name, value) ->
            CommandOption.byName(name)
                .filter(o -> value != null)
                .ifPresent(o -> values.put(o, new Value(o.flag(), value))));
    Boolean on =
        values.containsKey(CommandOption.ENHANCE) ? flag(values.get(CommandOption.ENHANCE)) : null;
    Boolean off =
        values.containsKey(CommandOption.NO_ENHANCE)
            ? flag(values.get(CommandOption.NO_ENHANCE))
            : null;
    if (Boolean.TRUE.equals(on) && Boolean.TRUE.equals(off)) {
      throw new UserError(
          UserError.Code.INVALID_OPTION, dev.fluxbot.core.chat.ChatTexts.enhanceTwice());
    }
    if (on != null && (off == null || !off)) {
      return on;
    }
    return off == null ? null : !off;
  }

  /** True if the text is exactly one JSON object (a FLUX.2 structured prompt). */
  public static boolean isJsonObject(String text) {
    try {
      return JSON.readTree(text).isObject();
    } catch (JsonProcessingException e) {
      return false;
    }
  }
}
