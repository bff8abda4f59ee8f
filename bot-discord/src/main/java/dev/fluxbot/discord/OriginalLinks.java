package dev.fluxbot.discord;

import java.net.URI;
import java.util.Optional;

/**
 * Where a user can download the original of an image when only a preview fit the channel's upload
 * limit. The app implements it with signed, expiring links to its own web server; {@link #NONE}
 * where no server is configured, and the message then says how an admin gets the original.
 */
@FunctionalInterface
public interface OriginalLinks {
  /** No links: nothing serves originals. */
  OriginalLinks NONE = jobId -> Optional.empty();

  /**
   * A link to the stored original image of {@code jobId} (cheap: signs, reads nothing); empty where
   * there is none.
   */
  Optional<URI> linkFor(String jobId);
}
