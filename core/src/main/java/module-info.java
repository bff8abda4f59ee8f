/**
 * fluxbot's core. A chat adapter that is a module (Discord, Telegram) reads only the packages
 * exported here, and javac refuses anything else; the composition root (app), the runtime, the test
 * kit and the benches sit on the class path and see all of it.
 */
module dev.fluxbot.core {
  requires transitive okhttp3;
  requires transitive java.sql;
  requires transitive java.desktop;
  requires com.fasterxml.jackson.databind;
  requires org.slf4j;
  requires com.github.benmanes.caffeine;
  requires com.zaxxer.hikari;
  requires transitive micrometer.core; // FluxbotCore.Builder.meters takes its MeterRegistry
  requires flyway.core;
  // the S3 image store (ImageStore.s3): the AWS SDK's automatic modules
  requires software.amazon.awssdk.services.s3;
  requires software.amazon.awssdk.core;
  requires software.amazon.awssdk.awscore;
  requires software.amazon.awssdk.auth;
  requires software.amazon.awssdk.regions;
  requires software.amazon.awssdk.http;
  requires software.amazon.awssdk.http.urlconnection;

  exports dev.fluxbot.core;
  exports dev.fluxbot.core.chat;
  exports dev.fluxbot.core.filter;
  exports dev.fluxbot.core.model;
  exports dev.fluxbot.core.quota;
  exports dev.fluxbot.core.store;
  exports dev.fluxbot.core.http;
  exports dev.fluxbot.core.image;
  exports dev.fluxbot.core.imagestore;

  opens db.migration;
  opens dev.fluxbot.core.model; // models.json
}
