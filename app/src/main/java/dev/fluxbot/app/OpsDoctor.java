package dev.fluxbot.app;

import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.Database;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code fluxbot doctor}'s checks of what {@code run}'s operations listener and {@code /readyz}
 * would say, judged without starting the bot: whether the listener's address can be bound (or a
 * fluxbot already serves there), and the BFL budget this month.
 */
final class OpsDoctor {
  private OpsDoctor() {}

  /** One line of the report. */
  record Finding(Level level, String text) {}

  enum Level {
    OK,
    NOTE,
    FAIL
  }

  /** The ops listener: off, free to bind, already served by a fluxbot, or taken. */
  static Finding listener(FluxbotConfig config, Environment env) {
    Optional<InetSocketAddress> listen;
    try {
      listen = config.ops().address(env);
    } catch (FluxbotConfig.ConfigException e) {
      return new Finding(Level.FAIL, "ops: " + e.getMessage());
    }
    if (listen.isEmpty()) {
      return new Finding(
          Level.NOTE, "ops: off; run serves no /healthz, /readyz or /metrics (ops.listen)");
    }
    InetSocketAddress a = listen.get();
    String where = a.getHostString() + ":" + a.getPort();
    InetSocketAddress bind = new InetSocketAddress(a.getHostString(), a.getPort());
    if (bind.isUnresolved()) {
      return new Finding(
          Level.FAIL, "ops: " + where + " is not an address of this machine; fix ops.listen");
    }
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(bind);
      return new Finding(
          Level.OK, "ops: run will serve /healthz, /readyz and /metrics on " + where);
    } catch (BindException e) {
      if (servesHealth(bind)) {
        return new Finding(
            Level.OK, "ops: a running fluxbot serves " + where + " (/healthz answers ok)");
      }
      return new Finding(
          Level.FAIL,
          "ops: "
              + where
              + " is taken by another program; run would stop there. Set ops.listen or "
              + Environment.OPS_LISTEN
              + " to a free HOST:PORT, or to off");
    } catch (IOException e) {
      return new Finding(
          Level.FAIL,
          "ops: cannot listen on " + where + " (" + e.getMessage() + "); fix ops.listen");
    }
  }

  private static boolean servesHealth(InetSocketAddress at) {
    String host = at.getAddress().getHostAddress();
    host = host.contains(":") ? "[" + host + "]" : host;
    try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://" + host + ":" + at.getPort() + "/healthz"))
                  .timeout(Duration.ofSeconds(2))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 && r.body().strip().equals("ok");
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The BFL budget this month, where {@code quotas.monthly_bfl_budget_dollars} sets one. */
  static Optional<Finding> budget(FluxbotConfig config, Database db) {
    if (config.quotas().monthlyBflBudgetDollars() == null) {
      return Optional.empty();
    }
    QuotaService quota =
        new QuotaService(
            db, Wiring.quotaSettings(config.quotas()), java.time.InstantSource.system());
    QuotaService.BflSpend spend = quota.bflSpendThisMonth();
    String text =
        String.format(
            Locale.ROOT,
            "bfl budget: $%.2f of $%.2f spent this month ($%.2f held by jobs in progress)",
            QuotaService.BflSpend.dollars(spend.spentMilli()),
            QuotaService.BflSpend.dollars(spend.capMilli()),
            QuotaService.BflSpend.dollars(spend.reservedMilli()));
    return Optional.of(
        spend.exhausted()
            ? new Finding(
                Level.FAIL,
                text
                    + "; no BFL job fits until next month (raise quotas.monthly_bfl_budget_dollars)")
            : new Finding(Level.OK, text));
  }
}
