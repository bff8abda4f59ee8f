package dev.fluxbot.slack;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.slack.api.model.User;
import dev.fluxbot.core.Messages;
import java.time.Duration;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each Slack user's language, as {@code users.info} with {@code include_locale=true} says ({@code
 * de-DE}, {@code es-ES}…): Slack's commands and events carry no locale. Cached per user for an
 * hour, so a user costs one call per hour at most; a failed call answers in English and is tried
 * again next time.
 */
final class SlackLocales {
  private static final Logger log = LoggerFactory.getLogger(SlackBot.class);
  static final Duration KEEP = Duration.ofHours(1);

  private final SlackApi api;
  private final Cache<String, Locale> known =
      Caffeine.newBuilder().maximumSize(50_000).expireAfterWrite(KEEP).build();

  SlackLocales(SlackApi api) {
    this.api = api;
  }

  /** The user's language; English when Slack does not say or cannot be asked. */
  Locale of(String userId) {
    Locale cached = known.getIfPresent(userId);
    if (cached != null) {
      return cached;
    }
    try {
      User u =
          api.call(
                  "users.info",
                  () -> api.methods().usersInfo(r -> r.user(userId).includeLocale(true)))
              .getUser();
      Locale locale = Messages.locale(u == null ? null : u.getLocale());
      known.put(userId, locale);
      return locale;
    } catch (RuntimeException e) {
      log.debug("slack: users.info for {}'s locale failed: {}", userId, e.toString());
      return Locale.ENGLISH;
    }
  }
}
