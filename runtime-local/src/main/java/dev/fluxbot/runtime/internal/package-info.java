/**
 * How the local klein runtime works; not API: nothing outside {@code runtime-local} may use these
 * types, and they change without notice. Use {@link dev.fluxbot.runtime.LocalKleinBackend}.
 *
 * <ul>
 *   <li>the protocol: {@link dev.fluxbot.runtime.internal.WorkerClient} speaks one worker's HTTP
 *       protocol v1 ({@code GET /v1/health}, the NDJSON stream of {@code POST /v1/generate}) and
 *       reads it into {@link dev.fluxbot.runtime.internal.StreamEvent}, {@link
 *       dev.fluxbot.runtime.internal.Generated} and {@link
 *       dev.fluxbot.runtime.internal.WorkerError}
 *   <li>routing: {@link dev.fluxbot.runtime.internal.WorkerPool} keeps each worker's last health
 *       and leases the least loaded healthy one to a job
 *   <li>the spawned worker: {@link dev.fluxbot.runtime.internal.WorkerSupervisor} extracts the
 *       Python package from the jar, runs the worker as a child process and restarts it with a
 *       backoff when it dies
 * </ul>
 */
package dev.fluxbot.runtime.internal;
