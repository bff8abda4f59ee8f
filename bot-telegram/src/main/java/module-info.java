/** The Telegram adapter: the Bot API's updates to core's calls. */
module dev.fluxbot.telegram {
  requires dev.fluxbot.core;
  requires telegrambots.meta;
  requires telegrambots.client;
  requires telegrambots.longpolling;
  requires org.slf4j;
  requires com.fasterxml.jackson.databind;
  requires jdk.httpserver;

  exports dev.fluxbot.telegram;
}
