/**
 * Monitoring endpoints on the admin port (SPEC §14), registered before the
 * GUI's login handling:
 * - `GET /healthz`, no authentication: 200 with `{"status":"ok",...}` when the
 *   spool is open and every listener is bound, else 503 with the problems.
 *   It tells nothing an outsider could use beyond version and listener counts.
 * - `GET /metrics`, the Prometheus text format: needs an API token
 *   (`Authorization: Bearer <token>`, as for the JSON API; give the scraper its
 *   own token, `bearer_token_file` in Prometheus) or a GUI session cookie.
 */
import { getCookie } from 'hono/cookie';
import type { Hono } from 'hono';
import { METRICS_CONTENT_TYPE } from '../app/metrics-text.js';
import { verifyApiToken } from '../services/api-tokens.js';
import type { GuiEnv } from './app.js';
import type { GuiDeps } from './gui-deps.js';
import { SESSION_COOKIE, type SessionStore } from './session-store.js';

export function registerOperationsRoutes(app: Hono<GuiEnv>, deps: GuiDeps, sessions: SessionStore): void {
  app.get('/healthz', (c) => {
    if (deps.operations === undefined) return c.json({ status: 'unhealthy', problems: ['no gateway attached'] }, 503);
    const report = deps.operations.health();
    return c.json(report, report.status === 'ok' ? 200 : 503);
  });

  app.get('/metrics', (c) => {
    const authorization = c.req.header('authorization');
    let allowed = false;
    if (authorization !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(authorization);
      const token = m?.[1] !== undefined ? verifyApiToken(deps.home.layout, m[1]) : null;
      allowed = token !== null && deps.runningConfig().users.some((u) => u.name === token.user);
    } else {
      allowed = sessions.touch(getCookie(c, SESSION_COOKIE)) !== null;
    }
    if (!allowed) {
      c.header('WWW-Authenticate', 'Bearer realm="gatehouse"');
      return c.text('authentication required: send Authorization: Bearer <API token>\n', 401);
    }
    if (deps.operations === undefined) return c.text('no gateway attached\n', 503);
    return c.body(deps.operations.metricsText(), 200, { 'Content-Type': METRICS_CONTENT_TYPE });
  });
}
