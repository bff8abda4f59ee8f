package dev.fluxbot.testkit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;

/**
 * A file on the fake Discord's CDN, as Discord describes it in {@code resolved.attachments} and in
 * a message's {@code attachments}.
 *
 * @param width null when the file is not an image the fake can measure (PNG, JPEG, GIF, WebP)
 * @param height null like {@code width}
 * @param url where the bytes are served, on the fake's CDN
 */
public record DiscordAttachment(
    String id,
    String filename,
    long size,
    String contentType,
    Integer width,
    Integer height,
    String url,
    String proxyUrl) {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  public DiscordAttachment {
    DiscordRole.Snowflake.check("id", id);
    Objects.requireNonNull(filename, "filename");
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(proxyUrl, "proxyUrl");
    if (size < 0)
      throw new IllegalArgumentException("size must not be negative. Provided: " + size);
  }

  /** The attachment object, ready to put into an interaction's {@code resolved.attachments}. */
  public ObjectNode json() {
    ObjectNode json =
        MAPPER
            .createObjectNode()
            .put("id", id)
            .put("filename", filename)
            .put("size", size)
            .put("url", url)
            .put("proxy_url", proxyUrl);
    if (contentType != null) json.put("content_type", contentType);
    if (width != null) json.put("width", width).put("height", height);
    return json;
  }
}
