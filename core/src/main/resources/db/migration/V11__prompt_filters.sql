-- Word and pattern filters (issue 18): a prompt that matches one is refused before any credit is
-- held.
--   platform  discord, telegram, slack; '*' for the whole installation (fluxbot filter add
--             without --scope)
--   scope_id  the server, workspace or chat; '' for every chat on the platform (Telegram's
--             private admin chat, fluxbot filter --scope telegram:*)
--   pattern   the words, or with is_regex = 1 a Java regular expression, as typed
--   is_regex  0 or 1
--   added_by  who added it (platform:user, or operator), for the list
CREATE TABLE prompt_filters (
  platform   VARCHAR(32)  NOT NULL,
  scope_id   VARCHAR(128) NOT NULL,
  pattern    VARCHAR(200) NOT NULL,
  is_regex   INTEGER      NOT NULL,
  added_by   VARCHAR(160) NOT NULL,
  created_at BIGINT       NOT NULL,
  PRIMARY KEY (platform, scope_id, pattern, is_regex)
);
