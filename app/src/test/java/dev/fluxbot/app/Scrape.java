package dev.fluxbot.app;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Requests to an ops listener over HTTP, and the Prometheus text format read back as samples. */
final class Scrape {
  private static final Pattern SAMPLE =
      Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})?\\s+(\\S+)");
  private static final Pattern LABEL =
      Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  /** One line of the text format: a series' name, its labels and its value. */
  record Sample(String name, Map<String, String> labels, double value) {}

  private final List<Sample> samples;
  final String text;

  private Scrape(String text) {
    this.text = text;
    List<Sample> all = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line.strip());
      if (!m.matches()) {
        throw new AssertionError("not a sample line of the text format: " + line);
      }
      Map<String, String> labels = new LinkedHashMap<>();
      if (m.group(3) != null) {
        Matcher l = LABEL.matcher(m.group(3));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
      }
      all.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(4))));
    }
    this.samples = List.copyOf(all);
  }

  static Scrape parse(String text) {
    return new Scrape(text);
  }

  /** Every series name in the scrape. */
  Set<String> names() {
    Set<String> names = new TreeSet<>();
    samples.forEach(s -> names.add(s.name()));
    return names;
  }

  /** The samples of {@code name} whose labels include {@code labels} (k1, v1, k2, v2…). */
  List<Sample> find(String name, String... labels) {
    List<Sample> out = new ArrayList<>();
    for (Sample s : samples) {
      boolean match = s.name().equals(name);
      for (int i = 0; match && i < labels.length; i += 2) {
        match = labels[i + 1].equals(s.labels().get(labels[i]));
      }
      if (match) {
        out.add(s);
      }
    }
    return out;
  }

  /** The sum of the matching samples' values; 0 where none matches. */
  double sum(String name, String... labels) {
    return find(name, labels).stream().mapToDouble(Sample::value).sum();
  }

  /** An answer of the listener. */
  record Answer(int status, String contentType, String body) {}

  static Answer request(int port, String method, String path)
      throws IOException, InterruptedException {
    try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                  .timeout(Duration.ofSeconds(10))
                  .method(method, HttpRequest.BodyPublishers.noBody())
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return new Answer(
          r.statusCode(), r.headers().firstValue("content-type").orElse(""), r.body());
    }
  }

  static Scrape metrics(int port) throws IOException, InterruptedException {
    Answer a = request(port, "GET", "/metrics");
    if (a.status() != 200) {
      throw new AssertionError("/metrics answered " + a.status() + ": " + a.body());
    }
    return parse(a.body());
  }
}
