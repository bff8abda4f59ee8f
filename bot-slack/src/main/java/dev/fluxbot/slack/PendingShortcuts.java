package dev.fluxbot.slack;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.core.store.PendingForms;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The files of a message shortcut while its form is open, kept in the database ({@link
 * PendingForms}): the form may be submitted to another bot instance than the one that opened it
 * (HTTP mode behind a load balancer), or after a restart. The form's {@code private_metadata}
 * carries only a random key to them, so the files' private URLs never reach Slack's client; they
 * are never logged. Each is taken once; expired ones are deleted.
 */
final class PendingShortcuts {
  static final Duration LIFE = Duration.ofMinutes(30);

  record Pending(List<SlackFiles.FileRef> files, String channel, String threadTs) {
    Pending {
      files = List.copyOf(files);
    }
  }

  private final PendingForms forms;

  PendingShortcuts(PendingForms forms) {
    this.forms = forms;
  }

  /**
   * Keeps {@code pending} for {@link #LIFE}; the key to take it with.
   *
   * @throws dev.fluxbot.core.store.Database.StoreException when the database fails
   */
  String put(Pending pending) {
    ObjectNode json = SlackBot.JSON.createObjectNode();
    ArrayNode files = json.putArray("files");
    for (SlackFiles.FileRef f : pending.files()) {
      files
          .addObject()
          .put("name", f.name())
          .put("mimetype", f.mimetype())
          .put("url", f.urlPrivate().toString())
          .put("size", f.size());
    }
    json.put("channel", pending.channel());
    json.put("thread", pending.threadTs());
    return forms.put(json.toString(), LIFE);
  }

  /**
   * The pending files for {@code key}, once; empty when unknown, taken or expired.
   *
   * @throws dev.fluxbot.core.store.Database.StoreException when the database fails
   */
  Optional<Pending> take(String key) {
    return forms.take(key).flatMap(PendingShortcuts::parse);
  }

  private static Optional<Pending> parse(String payload) {
    try {
      JsonNode json = SlackBot.JSON.readTree(payload);
      List<SlackFiles.FileRef> files = new ArrayList<>();
      for (JsonNode f : json.path("files")) {
        files.add(
            new SlackFiles.FileRef(
                f.path("name").asText(null),
                f.path("mimetype").asText(null),
                URI.create(f.path("url").asText()),
                f.path("size").asLong()));
      }
      return Optional.of(
          new Pending(files, json.path("channel").asText(), json.path("thread").asText(null)));
    } catch (JsonProcessingException | IllegalArgumentException e) {
      return Optional.empty(); // not one this version wrote: the user runs the shortcut again
    }
  }
}
