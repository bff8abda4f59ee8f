package dev.fluxbot.discord;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.ImageSource;
import dev.fluxbot.testkit.MutableClock;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class FormImagesTest {
  private final MutableClock clock = new MutableClock(Instant.parse("2026-12-07T12:00:00Z"));
  private final FormImages forms = new FormImages(clock);

  private static List<ImageSource> images(int n) {
    return List.of(
        new ImageSource.Remote(
            "image1 (cat" + n + ".png)",
            URI.create("https://cdn.example.com/" + n + ".png"),
            Map.of(),
            OptionalLong.of(10)));
  }

  @Test
  void aFormsImagesAreTakenOnce() {
    forms.put("1", images(1));

    assertThat(forms.take("1")).contains(images(1));
    assertThat(forms.take("1")).isEmpty();
    assertThat(forms.take("unknown")).isEmpty();
  }

  @Test
  void imagesAreKeptFor15MinutesAsAFormIs() {
    forms.put("1", images(1));
    clock.advance(Duration.ofMinutes(10));
    forms.put("2", images(2));
    clock.advance(Duration.ofMinutes(5).minusSeconds(1));
    assertThat(forms.size()).isEqualTo(2);

    clock.advance(Duration.ofSeconds(1));

    assertThat(forms.take("1")).as("15 minutes old").isEmpty();
    assertThat(forms.take("2")).contains(images(2));
  }

  @Test
  void pastTheBoundTheOldestGoFirst() {
    for (int i = 0; i < FormImages.MAX + 5; i++) {
      forms.put(Integer.toString(i), images(i));
    }

    assertThat(forms.size()).isEqualTo(FormImages.MAX);
    assertThat(forms.take("4")).isEmpty();
    assertThat(forms.take("5")).contains(images(5));
    assertThat(forms.take(Integer.toString(FormImages.MAX + 4))).isPresent();
  }
}
