package dev.fluxbot.testkit.slack;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** The JSON shapes Slack uses for messages and files. */
final class Payloads {
  private Payloads() {}

  static ObjectNode message(SlackMessage m) {
    ObjectNode o =
        WebApi.JSON
            .createObjectNode()
            .put("type", "message")
            .put("user", m.user())
            .put("text", m.text())
            .put("ts", m.ts());
    if (m.threadTs() != null) {
      o.put("thread_ts", m.threadTs());
    }
    if (!m.blocks().isMissingNode()) {
      o.set("blocks", m.blocks());
    }
    if (!m.files().isEmpty()) {
      m.files().forEach(f -> o.withArray("files").add(file(f)));
      o.put("upload", true);
    }
    return o;
  }

  static ObjectNode file(SlackFile f) {
    ObjectNode o =
        WebApi.JSON
            .createObjectNode()
            .put("id", f.id())
            .put("name", f.name())
            .put("title", f.title() == null ? f.name() : f.title())
            .put("mimetype", f.mimetype())
            .put(
                "filetype",
                f.mimetype() == null
                    ? "binary"
                    : f.mimetype().substring(f.mimetype().indexOf('/') + 1))
            .put("size", f.size())
            .put("user", f.user())
            .put("mode", "hosted")
            .put("is_external", false)
            .put("url_private", f.urlPrivate())
            .put("url_private_download", f.urlPrivate() + "?download=1");
    return o;
  }

  /** The media type the bytes start like, as Slack's own detection does; null for unknown. */
  static String sniff(byte[] b) {
    if (b.length >= 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
      return "image/png";
    }
    if (b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff) {
      return "image/jpeg";
    }
    if (b.length >= 12
        && b[0] == 'R'
        && b[1] == 'I'
        && b[2] == 'F'
        && b[3] == 'F'
        && b[8] == 'W'
        && b[9] == 'E') {
      return "image/webp";
    }
    if (b.length >= 6 && b[0] == 'G' && b[1] == 'I' && b[2] == 'F') {
      return "image/gif";
    }
    return "application/octet-stream";
  }
}
