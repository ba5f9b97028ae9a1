/**
 * The health of a running gateway, for `GET /healthz` on the admin port: it is
 * healthy when the spool is open (mail can be accepted durably) and every
 * configured listener is bound. The report is small JSON a load balancer or
 * systemd watchdog script can read; unhealthy answers carry the reasons.
 */
import type { Gateway } from './gateway.js';
import { packageVersion } from './package-version.js';

export interface HealthReport {
  status: 'ok' | 'unhealthy';
  version: string;
  uptimeSeconds: number;
  /** Listeners configured and bound now, e.g. `{ configured: 2, bound: 2 }`. */
  listeners: { configured: number; bound: number; unbound: string[] };
  spoolOpen: boolean;
  /** Why the gateway is unhealthy (empty when healthy). */
  problems: string[];
}

/** What the health check reads from the gateway. */
export type HealthSource = Pick<Gateway, 'currentConfig' | 'listenerStatus' | 'spoolStore'>;

export function gatewayHealth(gateway: HealthSource, startedAt: number, now: number = Date.now()): HealthReport {
  const bound = new Set(gateway.listenerStatus().map((l) => l.name));
  const configured = gateway.currentConfig.listeners.map((l) => l.name);
  const unbound = configured.filter((name) => !bound.has(name));
  const spoolOpen = gateway.spoolStore?.isOpen ?? false;
  const problems: string[] = [];
  if (!spoolOpen) problems.push('the spool is closed');
  for (const name of unbound) problems.push(`listener ${name} is not bound`);
  return {
    status: problems.length === 0 ? 'ok' : 'unhealthy',
    version: packageVersion(),
    uptimeSeconds: Math.max(0, Math.round((now - startedAt) / 1000)),
    listeners: { configured: configured.length, bound: configured.length - unbound.length, unbound },
    spoolOpen,
    problems,
  };
}
