package dev.fluxbot.testkit.discord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.testkit.DiscordAttachment;
import dev.fluxbot.testkit.DiscordPart;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Creates and edits the fake's messages as Discord does: uploaded files become attachments on the
 * CDN, components get their numeric ids, embeds their type. Call every method with the world's lock
 * held.
 */
final class MessageStore {
  static final int EPHEMERAL = 1 << 6;
  static final int LOADING = 1 << 7;
  private static final int EDITABLE_FLAGS = (1 << 2) | MessageRules.IS_COMPONENTS_V2;
  private static final Pattern FILE_PART = Pattern.compile("files\\[(\\d+)]");

  private final World world;

  MessageStore(World world) {
    this.world = world;
  }

  Optional<ObjectNode> get(String messageId) {
    return Optional.ofNullable(world.messages.get(messageId));
  }

  /** A new message by {@code authorId} in a channel, built from a create payload. */
  ObjectNode create(
      String channelId, String authorId, int type, JsonNode payload, List<DiscordPart> files) {
    ObjectNode message =
        Json.object()
            .put("id", world.ids.next())
            .put("type", type)
            .put("content", "")
            .put("channel_id", channelId);
    message.set("author", world.shapes.user(authorId));
    message
        .put("pinned", false)
        .put("mention_everyone", false)
        .put("tts", false)
        .put("timestamp", Shapes.timestamp(world.clock.instant()))
        .putNull("edited_timestamp")
        .put("flags", payload.path("flags").asInt() & (EPHEMERAL | EDITABLE_FLAGS | LOADING));
    message.putArray("mentions");
    message.putArray("mention_roles");
    message.putArray("embeds");
    message.putArray("components");
    message.putArray("attachments");
    world.guilds.guildOfChannel(channelId).ifPresent(g -> message.put("guild_id", g.config().id()));
    apply(message, payload, files, true);
    world.messages.put(message.get("id").asText(), message);
    return message;
  }

  /** Applies an edit payload: fields it carries replace the message's; the loading state ends. */
  ObjectNode edit(ObjectNode message, JsonNode payload, List<DiscordPart> files) {
    boolean wasLoading = (message.path("flags").asInt() & LOADING) != 0;
    int kept = message.path("flags").asInt() & ~LOADING;
    if (payload.has("flags"))
      kept = (kept & ~EDITABLE_FLAGS) | (payload.path("flags").asInt() & EDITABLE_FLAGS);
    message.put("flags", kept);
    apply(message, payload, files, false);
    if (!wasLoading) message.put("edited_timestamp", Shapes.timestamp(world.clock.instant()));
    return message;
  }

  private void apply(
      ObjectNode message, JsonNode payload, List<DiscordPart> files, boolean creating) {
    if (payload.has("content")) message.put("content", payload.path("content").asText(""));
    if (payload.has("embeds")) message.set("embeds", embeds(payload.path("embeds")));
    if (payload.has("components"))
      message.set("components", withIds(payload.path("components").deepCopy()));
    message.set("attachments", attachments(message, payload, files, creating));
  }

  private ArrayNode attachments(
      ObjectNode message, JsonNode payload, List<DiscordPart> files, boolean creating) {
    String channelId = message.get("channel_id").asText();
    Map<Integer, DiscordPart> byIndex = filesByIndex(files);
    ArrayNode result = Json.array();
    List<DiscordPart> unused = new ArrayList<>(byIndex.values());
    if (payload.has("attachments")) {
      for (JsonNode entry : payload.path("attachments")) {
        DiscordPart file =
            entry.path("id").canConvertToInt() ? byIndex.get(entry.path("id").asInt()) : null;
        if (file != null && unused.remove(file)) {
          result.add(upload(channelId, file, entry));
        } else {
          existing(message, entry.path("id").asText()).ifPresent(result::add);
        }
      }
    } else if (!creating) {
      message.path("attachments").forEach(result::add);
    }
    unused.forEach(file -> result.add(upload(channelId, file, Json.object())));
    return result;
  }

  private static Optional<JsonNode> existing(ObjectNode message, String attachmentId) {
    for (JsonNode a : message.path("attachments")) {
      if (a.path("id").asText().equals(attachmentId)) return Optional.of(a);
    }
    return Optional.empty();
  }

  private static Map<Integer, DiscordPart> filesByIndex(List<DiscordPart> files) {
    Map<Integer, DiscordPart> byIndex = new HashMap<>();
    int next = 0;
    for (DiscordPart file : files) {
      Matcher m = FILE_PART.matcher(file.name());
      byIndex.put(m.matches() ? Integer.parseInt(m.group(1)) : 1000 + next, file);
      next++;
    }
    return byIndex;
  }

  private ObjectNode upload(String channelId, DiscordPart file, JsonNode entry) {
    String contentType =
        file.contentType() != null ? file.contentType() : entry.path("content_type").asText(null);
    String filename =
        entry.hasNonNull("filename") ? entry.get("filename").asText() : file.filename();
    ObjectNode json = attachment(channelId, file.bytes(), filename, contentType).json();
    if (entry.hasNonNull("description") && !entry.get("description").asText().isEmpty()) {
      json.put("description", entry.get("description").asText());
    }
    return json;
  }

  /** Stores bytes on the CDN and describes them as Discord does. */
  DiscordAttachment attachment(
      String channelId, byte[] bytes, String filename, String contentType) {
    String id = world.ids.next();
    String name = sanitize(filename);
    String path = "/attachments/" + channelId + "/" + id + "/" + name;
    String type = contentType(bytes, name, contentType);
    world.cdn.put(
        path, new World.CdnFile(bytes.clone(), type == null ? "application/octet-stream" : type));
    long issued = world.clock.instant().getEpochSecond();
    String signature =
        "?ex="
            + Long.toHexString(issued + 86_400)
            + "&is="
            + Long.toHexString(issued)
            + "&hm="
            + Integer.toHexString(path.hashCode())
            + "&";
    var size = ImageSize.of(bytes);
    return new DiscordAttachment(
        id,
        name,
        bytes.length,
        type,
        size.map(ImageSize.Size::width).orElse(null),
        size.map(ImageSize.Size::height).orElse(null),
        world.baseUrl + path + signature,
        world.baseUrl + "/media" + path + signature);
  }

  /**
   * What Discord reports: the type it sees in the bytes, else the one the extension names, else the
   * declared one.
   */
  private static String contentType(byte[] bytes, String filename, String declared) {
    Optional<String> sniffed = ImageSize.mediaType(bytes);
    if (sniffed.isPresent()) return sniffed.get();
    String lower = filename.toLowerCase(Locale.ROOT);
    String byExtension =
        lower.endsWith(".txt")
            ? "text/plain; charset=utf-8"
            : lower.endsWith(".json")
                ? "application/json; charset=utf-8"
                : lower.endsWith(".png")
                    ? "image/png"
                    : lower.endsWith(".jpg") || lower.endsWith(".jpeg")
                        ? "image/jpeg"
                        : lower.endsWith(".webp") ? "image/webp" : null;
    if (byExtension != null) return byExtension;
    String type = declared == null ? null : declared.split(";", 2)[0].trim();
    return type == null || type.isEmpty() || type.equals("application/octet-stream") ? null : type;
  }

  /**
   * Discord keeps letters, digits, dot, dash and underscore in a filename, and makes the rest
   * underscores.
   */
  static String sanitize(String filename) {
    String name = filename == null || filename.isBlank() ? "unknown" : filename;
    return name.replaceAll("[^A-Za-z0-9._-]", "_");
  }

  private static ArrayNode embeds(JsonNode embeds) {
    ArrayNode result = Json.array();
    for (JsonNode embed : embeds) {
      ObjectNode copy = embed.deepCopy();
      if (!copy.hasNonNull("type")) copy.put("type", "rich");
      result.add(copy);
    }
    return result;
  }

  /** Gives every component without an {@code id} the next number, depth first, as Discord does. */
  static JsonNode withIds(JsonNode components) {
    int[] next = {maxId(components) + 1};
    number(components, next);
    return components;
  }

  private static int maxId(JsonNode node) {
    int max = node.isObject() ? node.path("id").asInt(0) : 0;
    for (JsonNode child : node) max = Math.max(max, maxId(child));
    return max;
  }

  private static void number(JsonNode node, int[] next) {
    if (node.isObject() && node.has("type") && !node.hasNonNull("id"))
      ((ObjectNode) node).put("id", next[0]++);
    for (JsonNode child : node) number(child, next);
  }
}
