/**
 * The local FLUX.2 [klein] runtime, as the app uses it: {@link
 * dev.fluxbot.runtime.LocalKleinBackend} (the core's image backend for klein requests on local
 * workers), its configuration ({@link dev.fluxbot.runtime.LocalRuntimeConfig}) and what it reports
 * about each worker ({@link dev.fluxbot.runtime.WorkerReport}, {@link
 * dev.fluxbot.runtime.WorkerHealth}).
 *
 * <p>How it works (the workers' HTTP client, the pool that routes jobs, the supervisor of a spawned
 * worker) is in {@link dev.fluxbot.runtime.internal}, which is not API.
 */
package dev.fluxbot.runtime;
