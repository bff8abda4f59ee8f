package dev.fluxbot.app;

import dev.fluxbot.core.BackendRouter;
import dev.fluxbot.core.CommandParser;
import dev.fluxbot.core.ImageType;
import dev.fluxbot.core.ImagineService;
import dev.fluxbot.core.ModelCatalog;
import dev.fluxbot.core.SeedHistory;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.bfl.BflBackend;
import dev.fluxbot.core.bfl.BflConfig;
import dev.fluxbot.core.image.ReferenceLoader;
import java.net.URI;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import okhttp3.OkHttpClient;

/** Builds the core's parts from the config and the environment; the one place that wires them. */
final class Wiring {
  final FluxbotConfig config;
  final ModelCatalog catalog;
  final BflBackend bfl;
  final ImagineService imagine;

  Wiring(FluxbotConfig config, Environment env) {
    this.config = config;
    this.catalog = ModelCatalog.builtIn();
    ImageType format = ImageType.fromName(config.imagine().defaultFormat()).orElseThrow(() ->
        new FluxbotConfig.ConfigException("imagine.default_format: must be jpeg, png or webp; got \""
            + config.imagine().defaultFormat() + "\""));
    if (catalog.find(config.imagine().defaultModel()).isEmpty()) {
      throw new FluxbotConfig.ConfigException("imagine.default_model: unknown model \"" + config.imagine().defaultModel()
          + "\"; known: " + String.join(", ", catalog.names()));
    }
    CommandParser parser = new CommandParser(catalog, new CommandParser.Settings(config.imagine().defaultModel(),
        config.imagine().maxPromptLength(), config.imagine().maxSafetyTolerance(), format));
    OkHttpClient http = new OkHttpClient.Builder()
        .connectTimeout(Duration.ofSeconds(10))
        .readTimeout(Duration.ofSeconds(60))
        .writeTimeout(Duration.ofSeconds(60))
        .build();
    this.bfl = new BflBackend(bflConfig(config, env), http, InstantSource.system(), Sleeper.SYSTEM, new SecureRandom());
    FluxbotConfig.References r = config.references();
    ReferenceLoader.Limits d = ReferenceLoader.Limits.defaults();
    ReferenceLoader loader = new ReferenceLoader(http, new ReferenceLoader.Limits(r.maxMegabytes() * 1024L * 1024L,
        r.maxSourceMegapixels() * 1024L * 1024L, d.maxOutputPixels(), r.maxRedirects(), d.connectTimeout(),
        d.readTimeout(), d.callTimeout()));
    this.imagine = new ImagineService(parser, loader, new BackendRouter(List.of(bfl)), SeedHistory.inMemory(),
        InstantSource.system(), new SecureRandom());
  }

  static BflConfig bflConfig(FluxbotConfig config, Environment env) {
    FluxbotConfig.Bfl b = config.bfl();
    URI base;
    try {
      base = env.get(Environment.BFL_BASE_URL).map(URI::create)
          .orElseGet(() -> b.baseUrl() != null ? URI.create(b.baseUrl()) : BflConfig.Region.parse(b.region()).baseUrl());
    } catch (IllegalArgumentException e) {
      throw new FluxbotConfig.ConfigException("BFL base URL: " + e.getMessage());
    }
    try {
      return BflConfig.defaults(env.bflKey(config).orElse(null))
          .withBaseUrl(base)
          .withMaxActiveTasks(b.maxActiveTasks())
          .withWaitLimit(Duration.ofSeconds(b.waitLimitSeconds()));
    } catch (IllegalArgumentException e) {
      throw new FluxbotConfig.ConfigException(e.getMessage());
    }
  }
}
