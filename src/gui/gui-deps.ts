/**
 * What the admin GUI and API need from the rest of the gateway, injected so
 * tests can build the app without sockets (`app.request()`): the home (config
 * store, key store, logs), the configuration the gateway runs, how a commit
 * reaches the running gateway, and where system notes go.
 */
import type { HealthReport } from '../app/health.js';
import type { Config } from '../config/schema.js';
import type { Home } from '../services/staging.js';

export type ApplyOutcome = { ok: true; version: number } | { ok: false; error: string };

export interface GuiDeps {
  home: Home;
  /** The configuration the gateway runs now (users and GUI settings come from here). */
  runningConfig(): Config;
  /** Applies the newest committed version to the running gateway (what the control socket's `commit` does). */
  applyCommitted(): Promise<ApplyOutcome>;
  /** A `system` line in the mail log (login lockouts). */
  systemLog?(text: string): void;
  /** `/healthz` and `/metrics` (gui/operations-routes.ts); both answer 503 without it. */
  operations?: OperationsProbe;
  /** Injected clock for sessions and lockouts. */
  now?(): number;
}

/** What the operations endpoints read from the running gateway. */
export interface OperationsProbe {
  health(): HealthReport;
  /** The metrics in the Prometheus text format. */
  metricsText(): string;
}
