package dev.fluxbot.testkit.telegram;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The files users and the bot sent, by {@code file_id} and by download path; used with the engine's
 * lock held.
 */
final class FileStore {
  record StoredFile(String fileId, String uniqueId, String path, byte[] bytes) {}

  private final Map<String, StoredFile> byId = new HashMap<>();
  private final Map<String, StoredFile> byPath = new HashMap<>();
  private long next = 1;

  /**
   * A thumbnail (for an image over 90 px that decodes) and the full image, smallest first, as
   * Telegram lists a photo's sizes.
   */
  ArrayNode photoSizes(byte[] bytes) {
    ArrayNode sizes = Shapes.F.arrayNode();
    int[] d = Shapes.dimensions(bytes);
    byte[] thumb = Math.max(d[0], d[1]) > Shapes.THUMB_SIDE ? Shapes.thumbnail(bytes) : null;
    if (thumb != null) {
      sizes.add(photoSize(thumb));
    }
    sizes.add(photoSize(bytes));
    return sizes;
  }

  ObjectNode document(byte[] bytes, String filename, String mimeType) {
    String ext = filename.contains(".") ? filename.substring(filename.lastIndexOf('.') + 1) : "bin";
    StoredFile f = store(bytes, "documents", ext);
    ObjectNode d =
        Shapes.F.objectNode()
            .put("file_id", f.fileId())
            .put("file_unique_id", f.uniqueId())
            .put("file_name", filename)
            .put("file_size", bytes.length);
    if (mimeType != null) {
      d.put("mime_type", mimeType);
    }
    return d;
  }

  Optional<StoredFile> byId(String fileId) {
    return Optional.ofNullable(byId.get(fileId));
  }

  Optional<StoredFile> byPath(String path) {
    return Optional.ofNullable(byPath.get(path));
  }

  private ObjectNode photoSize(byte[] bytes) {
    StoredFile f = store(bytes, "photos", "jpg");
    int[] d = Shapes.dimensions(bytes);
    return Shapes.F.objectNode()
        .put("file_id", f.fileId())
        .put("file_unique_id", f.uniqueId())
        .put("file_size", bytes.length)
        .put("width", d[0])
        .put("height", d[1]);
  }

  private StoredFile store(byte[] bytes, String folder, String ext) {
    long n = next++;
    StoredFile f =
        new StoredFile(
            "AgACAgIAAxkB" + String.format(Locale.ROOT, "%012d", n) + "fake",
            "AQAD" + n,
            folder + "/file_" + n + "." + ext,
            bytes.clone());
    byId.put(f.fileId(), f);
    byPath.put(f.path(), f);
    return f;
  }
}
