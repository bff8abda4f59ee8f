package dev.fluxbot.core;

import dev.fluxbot.core.command.CommandParser;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One {@code /imagine} as a platform hands it to the core.
 *
 * @param text the prompt with any flags, as typed
 * @param options platform-native options by name; they win over flags in the text
 * @param attachments reference images in order, not yet fetched
 * @param context the user's defaults and the scope's settings
 */
public record ImagineCommand(
    Requester requester,
    String text,
    Map<String, String> options,
    List<ImageSource> attachments,
    CommandParser.Context context) {
  public ImagineCommand {
    Objects.requireNonNull(requester, "requester");
    Objects.requireNonNull(text, "text");
    options = Map.copyOf(options);
    attachments = List.copyOf(attachments);
    Objects.requireNonNull(context, "context");
  }

  /** A command with no user defaults and no scope settings. */
  public ImagineCommand(
      Requester requester,
      String text,
      Map<String, String> options,
      List<ImageSource> attachments) {
    this(requester, text, options, attachments, CommandParser.Context.NONE);
  }
}
