package dev.fluxbot.core.command;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxbot.core.Msg;
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
                          UserError.of(
                              UserError.Code.UNKNOWN_OPTION,
                              "error.option.unknown",
                              Text.quote(name),
                              CommandOption.knownNames()));
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
                                option,
                                new Value(Msg.of("field.your_default", option.id()), value))));
    return build(scanned.prompt(), values, referenceCount, context);
  }

  /** The most images one command makes ({@code --n 4}: a grid of four). */
  public static final int MAX_N = 4;

  /**
   * How many images the command asks for: {@code --n} typed (or a native {@code n} option), else
   * the default in {@code context} (the user's, else the scope's), else 1. Read apart from {@link
   * #parse}, which makes the one request every image of the group starts from.
   *
   * @throws UserError naming {@code --n}, the rule 1 to 4 and the value
   */
  public int count(String text, Map<String, String> nativeOptions, Context context) {
    Objects.requireNonNull(text, "text");
    Value v = flagValues(CommandScanner.scan(text)).get(CommandOption.N);
    for (Map.Entry<String, String> e : nativeOptions.entrySet()) {
      if (e.getValue() != null
          && CommandOption.byName(e.getKey()).orElse(null) == CommandOption.N) {
        v = new Value(CommandOption.N.flag(), e.getValue());
      }
    }
    if (v == null && context.defaults().get(CommandOption.N.id()) != null) {
      v =
          new Value(
              Msg.of("field.your_default", "n"), context.defaults().get(CommandOption.N.id()));
    }
    return v == null ? 1 : count(v);
  }

  private static int count(Value v) {
    String s = v.raw().trim();
    if (s.matches("\\d{1,2}")) {
      int n = Integer.parseInt(s);
      if (n >= 1 && n <= MAX_N) {
        return n;
      }
    }
    throw invalid(v, Msg.of("rule.count", MAX_N), Msg.of("fix.count"));
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
              Msg.of("field.original_size"),
              original.size().width() + "x" + original.size().height()),
          model.sizeRules()); // the kept size must suit the newly typed model
    }
    return sizeTyped || resTyped
        ? varied
        : varied.withSize(original.size()); // its --res was inherited too
  }

  private static void inherit(Map<CommandOption, Value> values, CommandOption option, String raw) {
    values.putIfAbsent(option, new Value(Msg.of("field.original_option", option.id()), raw));
  }

  private void checkLength(String text) {
    if (text.length() > 4L * settings.maxPromptLength() + 1000) {
      throw UserError.of(
          UserError.Code.PROMPT_TOO_LONG,
          "error.prompt.too_long",
          settings.maxPromptLength(),
          text.length());
    }
  }

  private static Map<CommandOption, Value> flagValues(CommandScanner.Result scanned) {
    Map<CommandOption, Value> values = new EnumMap<>(CommandOption.class);
    for (CommandScanner.Flag f : scanned.flags()) {
      Value old = values.put(f.option(), new Value(f.option().flag(), f.value()));
      if (old != null) {
        throw UserError.of(
            UserError.Code.INVALID_OPTION,
            "error.option.twice",
            f.option().flag(),
            Text.quote(old.raw()),
            Text.quote(f.value()));
      }
    }
    return values;
  }

  /**
   * A value and where it came from: {@code field} is a flag ({@code --ar}) or, for an inherited or
   * default value, a {@link Msg} ("your default ar") rendered in the reader's language.
   */
  private record Value(Object field, String raw) {}

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
    repeat(v.get(CommandOption.REPEAT)); // refused here too; read by repeat(String, Map)
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
              .orElse(null);
      throw UserError.of(
          UserError.Code.TOO_MANY_REFERENCES,
          more == null ? "error.references.too_many" : "error.references.too_many.or_model",
          model.id(),
          model.maxReferences(),
          referenceCount,
          referenceCount - model.maxReferences(),
          more);
    }
  }

  private void checkPrompt(String prompt) {
    if (prompt.isBlank()) {
      throw UserError.of(UserError.Code.EMPTY_PROMPT, "error.prompt.empty");
    }
    int length = prompt.codePointCount(0, prompt.length());
    if (length > settings.maxPromptLength()) {
      throw UserError.of(
          UserError.Code.PROMPT_TOO_LONG,
          "error.prompt.too_long_by",
          settings.maxPromptLength(),
          length,
          length - settings.maxPromptLength());
    }
  }

  private ModelSpec model(Value v) {
    return catalog
        .find(v.raw())
        .orElseThrow(
            () ->
                invalid(
                    v,
                    Msg.of("rule.one_of", String.join(", ", catalog.names())),
                    Msg.of("fix.example", "--model pro")));
  }

  private static boolean resolution(Value v) {
    return switch (v.raw().trim().toLowerCase(Locale.ROOT)) {
      case "1k", "1" -> false;
      case "2k", "2" -> true;
      default -> throw invalid(v, Msg.of("rule.res"), Msg.of("fix.example", "--res 2k"));
    };
  }

  private ImageSize size(Value ar, Value size, ModelSpec model, int referenceCount) {
    if (ar != null && size != null) {
      throw UserError.of(
          UserError.Code.INVALID_OPTION,
          "error.option.not_with",
          size.field(),
          ar.field(),
          Text.quote(ar.raw()));
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
      throw invalid(v, Msg.of("rule.ratio", presetNames()), Msg.of("fix.example", "--ar 16:9"));
    }
    long w = Long.parseLong(m.group(1));
    long h = Long.parseLong(m.group(2));
    if (w == 0 || h == 0 || w > h * Sizes.MAX_RATIO || h > w * Sizes.MAX_RATIO) {
      throw invalid(
          v,
          Msg.of("rule.ratio_range", "1:" + Sizes.MAX_RATIO, Sizes.MAX_RATIO + ":1"),
          Msg.of("fix.example", "--ar 3:2"));
    }
    return Sizes.ofRatio(w, h, rules);
  }

  private static ImageSize exactSize(Value v, ModelSpec.SizeRules rules) {
    Matcher m = SIZE.matcher(v.raw().trim());
    if (!m.matches()) {
      throw invalid(v, Msg.of("rule.size"), Msg.of("fix.example", "--size 1536x1024"));
    }
    int w = Sizes.roundSide(Long.parseLong(m.group(1)), rules);
    int h = Sizes.roundSide(Long.parseLong(m.group(2)), rules);
    if (w > rules.maxSide() || h > rules.maxSide()) {
      throw invalid(v, Msg.of("rule.max_side", rules.maxSide()), Msg.of("fix.smaller_size"));
    }
    if ((long) w * h > rules.maxPixels()) {
      throw invalid(
          v,
          Msg.of(
              "rule.max_pixels",
              rules.maxPixels() / Sizes.ONE_MP,
              w + "x" + h,
              String.format(Locale.ROOT, "%.2f", (double) w * h / Sizes.ONE_MP)),
          Msg.of("fix.smaller_sides"));
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
        v, Msg.of("rule.seed", GenerationRequest.MAX_SEED), Msg.of("fix.example", "--seed 42"));
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
        Msg.of("rule.whole_range", (int) r.min(), (int) r.max()),
        Msg.of("fix.example", "--steps 28"));
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
        Msg.of("rule.number_range", Text.number(r.min()), Text.number(r.max())),
        Msg.of("fix.example", "--guidance 4.5"));
  }

  private static int safety(Value v, int max) {
    String s = v.raw().trim();
    if (!s.matches("[0-5]")) {
      throw invalid(v, Msg.of("rule.safety"), Msg.of("fix.example", "--safety 2"));
    }
    int safety = Integer.parseInt(s);
    if (safety > max) {
      throw invalid(v, Msg.of("rule.safety_max", max), Msg.of("fix.safety_max", "--safety " + max));
    }
    return safety;
  }

  private static ImageType format(Value v) {
    return ImageType.fromName(v.raw())
        .orElseThrow(
            () -> invalid(v, Msg.of("rule.format"), Msg.of("fix.example", "--format png")));
  }

  /**
   * {@code --repeat K}: how many times the command runs its prompt (each with a new seed, like a
   * reroll); 1 when not typed.
   *
   * @throws UserError for anything but a whole number from 1 to {@value PromptVariants#MAX_REPEAT}
   */
  public int repeat(String text, Map<String, String> nativeOptions) {
    Value v = flagValues(CommandScanner.scan(text)).get(CommandOption.REPEAT);
    String typed = nativeOptions.get(CommandOption.REPEAT.id());
    return repeat(typed != null ? new Value(CommandOption.REPEAT.id(), typed) : v);
  }

  private static int repeat(Value v) {
    if (v == null) {
      return 1;
    }
    String s = v.raw().trim();
    if (s.matches("[1-9]") && Integer.parseInt(s) <= PromptVariants.MAX_REPEAT) {
      return Integer.parseInt(s);
    }
    throw invalid(
        v,
        Msg.of("rule.whole_range", 1, PromptVariants.MAX_REPEAT),
        Msg.of("fix.example", "--repeat 2"));
  }

  private static boolean flag(Value v) {
    return switch (v.raw().trim().toLowerCase(Locale.ROOT)) {
      case "", "true", "yes", "on", "1" -> true;
      case "false", "no", "off", "0" -> false;
      default -> throw invalid(v, Msg.of("rule.boolean"), Msg.of("fix.example", "--no-cache"));
    };
  }

  private static UserError notFor(Value v, ModelSpec model) {
    return UserError.of(
        UserError.Code.INVALID_OPTION,
        "error.option.flex_only",
        v.field(),
        model.id(),
        Text.quote(v.raw()));
  }

  /** "FIELD: RULE; got "VALUE". FIX." in the reader's language. */
  private static UserError invalid(Value v, Msg rule, Msg fix) {
    return UserError.of(
        UserError.Code.INVALID_OPTION,
        "error.option.invalid",
        v.field(),
        rule,
        Text.quote(v.raw()),
        fix);
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
      throw UserError.of(UserError.Code.INVALID_OPTION, "enhance.twice");
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
