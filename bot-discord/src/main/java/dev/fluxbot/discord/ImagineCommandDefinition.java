package dev.fluxbot.discord;

import dev.fluxbot.core.model.AspectPreset;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.model.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import net.dv8tion.jda.api.interactions.commands.OptionType;
import net.dv8tion.jda.api.interactions.commands.build.Commands;
import net.dv8tion.jda.api.interactions.commands.build.OptionData;
import net.dv8tion.jda.api.interactions.commands.build.SlashCommandData;

/**
 * The {@code /imagine} slash command as Discord registers it. Option names are the core's native
 * option names ({@code model}, {@code aspect}, {@code resolution}, {@code seed}, {@code format}),
 * so their values go to the core unchanged; {@code image1}… are reference attachments, in order.
 */
public final class ImagineCommandDefinition {
  static final String NAME = "imagine";
  static final String PROMPT = "prompt";
  static final String IMAGE_PREFIX = "image";
  static final int MAX_OPTIONS = 25; // Discord: options per command
  static final int MAX_CHOICES = 25; // Discord: choices per option
  static final long MAX_SEED = 4_294_967_295L;

  private ImagineCommandDefinition() {}

  /** The command with model choices from {@code catalog}; preview models are left out. */
  public static SlashCommandData create(ModelCatalog catalog) {
    List<ModelSpec> models = catalog.models().stream().filter(m -> !m.preview()).toList();
    List<OptionData> options =
        new ArrayList<>(
            List.of(
                new OptionData(
                    OptionType.STRING,
                    PROMPT,
                    "What to draw; flags such as --ar 16:9 work here too",
                    true),
                modelOption(models),
                aspectOption(),
                new OptionData(
                        OptionType.STRING, "resolution", "1k (default) or 2k: 2k doubles each side")
                    .addChoice("1k", "1k")
                    .addChoice("2k", "2k"),
                new OptionData(
                        OptionType.INTEGER,
                        "seed",
                        "Same seed and prompt give the same image (0 to 4294967295)")
                    .setRequiredRange(0, MAX_SEED),
                formatOption()));
    int images =
        Math.min(maxReferences(models), MAX_OPTIONS - options.size()); // Discord caps options at 25
    for (int n = 1; n <= images; n++) {
      options.add(
          new OptionData(OptionType.ATTACHMENT, IMAGE_PREFIX + n, imageDescription(n, models)));
    }
    return Commands.slash(NAME, "Generate an image with FLUX.2").addOptions(options);
  }

  private static OptionData modelOption(List<ModelSpec> models) {
    if (models.size() > MAX_CHOICES) {
      throw new IllegalArgumentException(
          "model: Discord allows at most "
              + MAX_CHOICES
              + " choices; the catalog has "
              + models.size()
              + " non-preview models: "
              + ids(models));
    }
    OptionData option =
        new OptionData(OptionType.STRING, "model", "FLUX.2 model (default: set by the admin)");
    models.forEach(m -> option.addChoice(m.id(), m.id()));
    return option;
  }

  private static OptionData aspectOption() {
    OptionData option =
        new OptionData(
            OptionType.STRING,
            "aspect",
            "Aspect ratio; without one: 1:1, or the size of the first reference image");
    for (AspectPreset p : AspectPreset.values()) {
      option.addChoice(p.ratio(), p.id());
    }
    return option;
  }

  private static OptionData formatOption() {
    OptionData option = new OptionData(OptionType.STRING, "format", "File type of the result");
    for (ImageType t : ImageType.values()) {
      option.addChoice(t.apiName(), t.apiName());
    }
    return option;
  }

  private static int maxReferences(List<ModelSpec> models) {
    return models.stream().mapToInt(ModelSpec::maxReferences).max().orElse(0);
  }

  /** "Reference image 5 (pro, max, flex only)" where not every model takes that many. */
  private static String imageDescription(int n, List<ModelSpec> models) {
    String plain = "Reference image " + n;
    List<ModelSpec> taking = models.stream().filter(m -> m.maxReferences() >= n).toList();
    String qualified = plain + " (" + ids(taking) + " only)";
    return taking.size() == models.size() || qualified.length() > OptionData.MAX_DESCRIPTION_LENGTH
        ? plain
        : qualified;
  }

  private static String ids(List<ModelSpec> models) {
    return models.stream().map(ModelSpec::id).collect(Collectors.joining(", "));
  }
}
