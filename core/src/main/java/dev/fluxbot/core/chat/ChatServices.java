package dev.fluxbot.core.chat;

import dev.fluxbot.core.ImagineService;
import dev.fluxbot.core.Sleeper;
import dev.fluxbot.core.imagestore.ImageStore;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.quota.QuotaService;
import dev.fluxbot.core.store.DeliveryLog;
import dev.fluxbot.core.store.JobStore;
import dev.fluxbot.core.store.SettingsStore;
import java.time.InstantSource;
import java.util.Objects;
import java.util.function.IntSupplier;

/**
 * The core's parts a chat platform talks to, the same record for every platform.
 *
 * @param images the image store, for originals a platform sends again
 * @param deliveries what was delivered before, kept across restarts: an event resent runs once
 * @param waiting how many jobs wait for a slot, for a queued answer's number
 * @param clock decides when an interaction is too old, windows reset, forms expire
 * @param sleeper waits out a platform's pace and its 429s
 * @param state what the bot instances on the database share: leader locks, gathered messages, open
 *     forms
 */
public record ChatServices(
    ImagineService imagine,
    QuotaService quota,
    JobStore jobs,
    SettingsStore settings,
    ImageStore images,
    ModelCatalog catalog,
    DeliveryLog deliveries,
    IntSupplier waiting,
    InstantSource clock,
    Sleeper sleeper,
    ChatState state) {
  public ChatServices {
    Objects.requireNonNull(imagine, "imagine");
    Objects.requireNonNull(quota, "quota");
    Objects.requireNonNull(jobs, "jobs");
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(images, "images");
    Objects.requireNonNull(catalog, "catalog");
    Objects.requireNonNull(deliveries, "deliveries");
    Objects.requireNonNull(waiting, "waiting");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(sleeper, "sleeper");
    Objects.requireNonNull(state, "state");
  }
}
