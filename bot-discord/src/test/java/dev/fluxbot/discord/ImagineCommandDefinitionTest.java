package dev.fluxbot.discord;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.model.ModelCatalog;
import java.util.ArrayList;
import java.util.List;
import net.dv8tion.jda.api.utils.data.DataArray;
import net.dv8tion.jda.api.utils.data.DataObject;
import org.junit.jupiter.api.Test;

class ImagineCommandDefinitionTest {
  private static final int STRING = 3;
  private static final int INTEGER = 4;
  private static final int ATTACHMENT = 11;

  private final DataObject json =
      DataObject.fromJson(
          ImagineCommandDefinition.create(ModelCatalog.builtIn()).toData().toString());
  private final DataArray options = json.getArray("options");

  @Test
  void commandIsNamedImagine() {
    assertThat(json.getString("name")).isEqualTo("imagine");
    assertThat(json.getInt("type")).isEqualTo(1); // CHAT_INPUT
  }

  @Test
  void optionsComeInOrderWithTheirTypes() {
    List<String> seen = new ArrayList<>();
    for (int i = 0; i < options.length(); i++) {
      DataObject o = options.getObject(i);
      seen.add(o.getString("name") + ":" + o.getInt("type"));
    }
    assertThat(seen)
        .containsExactly(
            "prompt:" + STRING,
            "model:" + STRING,
            "aspect:" + STRING,
            "resolution:" + STRING,
            "seed:" + INTEGER,
            "format:" + STRING,
            "image1:" + ATTACHMENT,
            "image2:" + ATTACHMENT,
            "image3:" + ATTACHMENT,
            "image4:" + ATTACHMENT,
            "image5:" + ATTACHMENT,
            "image6:" + ATTACHMENT,
            "image7:" + ATTACHMENT,
            "image8:" + ATTACHMENT);
  }

  @Test
  void onlyThePromptIsRequired() {
    for (int i = 0; i < options.length(); i++) {
      DataObject o = options.getObject(i);
      assertThat(o.getBoolean("required")).as(o.getString("name")).isEqualTo(i == 0);
    }
  }

  @Test
  void modelChoicesAreTheNonPreviewModels() {
    assertThat(choices("model"))
        .containsExactly(
            "klein-4b=klein-4b", "klein-9b=klein-9b", "pro=pro", "max=max", "flex=flex");
  }

  @Test
  void aspectChoicesShowRatiosAndSendPresetIds() {
    assertThat(choices("aspect"))
        .containsExactly(
            "1:1=square_1_1",
            "16:9=widescreen_16_9",
            "9:16=social_story_9_16",
            "2:3=portrait_2_3",
            "3:4=traditional_3_4",
            "1:2=vertical_1_2",
            "2:1=horizontal_2_1",
            "4:5=social_post_4_5",
            "3:2=standard_3_2",
            "4:3=classic_4_3");
  }

  @Test
  void resolutionAndFormatChoices() {
    assertThat(choices("resolution")).containsExactly("1k=1k", "2k=2k");
    assertThat(choices("format")).containsExactly("jpeg=jpeg", "png=png", "webp=webp");
  }

  @Test
  void seedCoversTheWholeUnsigned32BitRange() {
    DataObject seed = option("seed");
    assertThat(seed.getLong("min_value")).isZero();
    assertThat(seed.getLong("max_value")).isEqualTo(4_294_967_295L);
    assertThat(seed.hasKey("choices") && !seed.getArray("choices").isEmpty()).isFalse();
  }

  @Test
  void referenceImagesBeyondKleinsFourNameTheModelsThatTakeThem() {
    assertThat(option("image4").getString("description")).isEqualTo("Reference image 4");
    assertThat(option("image5").getString("description"))
        .isEqualTo("Reference image 5 (pro, max, flex only)");
  }

  @Test
  void everythingIsWithinDiscordLimits() {
    assertThat(options.length()).isLessThanOrEqualTo(25);
    assertThat(json.getString("description")).hasSizeBetween(1, 100);
    for (int i = 0; i < options.length(); i++) {
      DataObject o = options.getObject(i);
      String name = o.getString("name");
      assertThat(name).matches("[-_a-z0-9]{1,32}");
      assertThat(o.getString("description")).as(name).hasSizeBetween(1, 100);
      DataArray choices = o.optArray("choices").orElseGet(DataArray::empty);
      assertThat(choices.length()).as(name).isLessThanOrEqualTo(25);
      for (int c = 0; c < choices.length(); c++) {
        assertThat(choices.getObject(c).getString("name")).as(name).hasSizeBetween(1, 100);
        assertThat(choices.getObject(c).getString("value")).as(name).hasSizeBetween(1, 100);
      }
    }
  }

  @Test
  void optionNamesAreOnesTheCoreAccepts() {
    // The core's native option names; a typo here would reach users as "Unknown option".
    for (String name : List.of("model", "aspect", "resolution", "seed", "format")) {
      assertThat(option(name)).isNotNull();
    }
  }

  private DataObject option(String name) {
    for (int i = 0; i < options.length(); i++) {
      if (options.getObject(i).getString("name").equals(name)) {
        return options.getObject(i);
      }
    }
    throw new AssertionError("no option " + name + " in " + json);
  }

  private List<String> choices(String name) {
    DataArray choices = option(name).getArray("choices");
    List<String> out = new ArrayList<>();
    for (int i = 0; i < choices.length(); i++) {
      out.add(
          choices.getObject(i).getString("name") + "=" + choices.getObject(i).getString("value"));
    }
    return out;
  }
}
