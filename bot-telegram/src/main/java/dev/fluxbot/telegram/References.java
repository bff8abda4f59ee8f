package dev.fluxbot.telegram;

import dev.fluxbot.core.ImageSource;
import dev.fluxbot.core.UserError;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.telegram.telegrambots.meta.api.objects.Document;
import org.telegram.telegrambots.meta.api.objects.message.Message;
import org.telegram.telegrambots.meta.api.objects.photo.PhotoSize;

/**
 * The images of messages as references: a photo's largest size or an image file, downloaded here
 * (the file URL holds the token) and handed to the core as bytes, in message order.
 */
final class References {
  private final BotApi api;

  References(BotApi api) {
    this.api = api;
  }

  /** The error for the first file among the messages that is not an image, if there is one. */
  static Optional<UserError> notAnImage(List<Message> messages) {
    return messages.stream()
        .filter(x -> x.hasDocument() && !isImage(x.getDocument()))
        .map(Message::getDocument)
        .findFirst()
        .map(
            d ->
                new UserError(
                    UserError.Code.INVALID_REFERENCE,
                    "reference: the file "
                        + (d.getFileName() == null ? "" : "\"" + d.getFileName() + "\" ")
                        + "is "
                        + (d.getMimeType() == null ? "of an unknown type" : d.getMimeType())
                        + ", not an image. Send a PNG, JPEG or WebP,"
                        + " as a photo or as a file."));
  }

  static boolean hasImage(Message m) {
    return m.hasPhoto() || (m.hasDocument() && isImage(m.getDocument()));
  }

  private static boolean isImage(Document d) {
    return d.getMimeType() != null && d.getMimeType().startsWith("image/");
  }

  /**
   * Downloads each message's image (a photo's largest size, or an image file), in order, as inline
   * bytes.
   */
  List<ImageSource> download(List<Message> sources) {
    List<ImageSource> refs = new ArrayList<>();
    for (Message s : sources) {
      int n = refs.size() + 1;
      String fileId;
      Long size;
      String label;
      if (s.hasPhoto()) {
        PhotoSize largest = largest(s.getPhoto());
        fileId = largest.getFileId();
        size = largest.getFileSize() == null ? null : largest.getFileSize().longValue();
        label = "image" + n + " (photo)";
      } else {
        fileId = s.getDocument().getFileId();
        size = s.getDocument().getFileSize();
        label =
            "image"
                + n
                + " ("
                + (s.getDocument().getFileName() == null ? "file" : s.getDocument().getFileName())
                + ")";
      }
      if (size != null && size > BotApi.MAX_DOWNLOAD) {
        throw new UserError(
            UserError.Code.IMAGE_TOO_LARGE,
            label
                + ": Telegram lets bots fetch files up to 20 MB; this one is "
                + Texts.mb(size)
                + ". Send it as a photo (Telegram compresses it) or a smaller file.");
      }
      try {
        refs.add(ImageSource.bytes(label, api.download(fileId, BotApi.MAX_DOWNLOAD)));
      } catch (BotApi.Failure e) {
        throw new UserError(
            UserError.Code.INVALID_REFERENCE,
            label
                + ": Telegram would not hand the file over ("
                + e.getMessage()
                + "). Send the image again.");
      }
    }
    return refs;
  }

  /** The photo's largest size; on a tie the later one (Telegram lists sizes smallest first). */
  static PhotoSize largest(List<PhotoSize> sizes) {
    PhotoSize best = sizes.get(0);
    for (PhotoSize p : sizes) {
      if (pixels(p) >= pixels(best)) {
        best = p;
      }
    }
    return best;
  }

  private static long pixels(PhotoSize p) {
    return (long) (p.getWidth() == null ? 0 : p.getWidth())
        * (p.getHeight() == null ? 0 : p.getHeight());
  }
}
