/** The Discord adapter: JDA's events to core's calls. */
module dev.fluxbot.discord {
  requires dev.fluxbot.core;
  requires net.dv8tion.jda;
  requires org.slf4j;
  requires com.fasterxml.jackson.databind;
  requires static org.jspecify;

  exports dev.fluxbot.discord;
}
