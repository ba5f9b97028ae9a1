/**
 * The read side of the JSON API: what the pages show, as data. Changes are
 * the actions (actions/*.ts); these only read through the services.
 */
import type { Hono } from 'hono';
import { listApiTokens } from '../../services/api-tokens.js';
import { readAlertHistory } from '../../services/alert-history.js';
import { describeProfile, lintProfile, listProfiles, listTrustStore, profileCsr } from '../../services/certificates.js';
import { listVersions, showChanges } from '../../services/config-lifecycle.js';
import { findListener } from '../../services/edit-listeners.js';
import type { GuiDeps } from '../gui-deps.js';
import type { GuiEnv } from '../app.js';

export function registerReadApi(app: Hono<GuiEnv>, deps: GuiDeps): void {
  const { home } = deps;
  app.get('/api/certificates', (c) => c.json({ ok: true, ...listProfiles(home) }));
  app.get('/api/certificates/:name', (c) => c.json({ ok: true, profile: describeProfile(home, c.req.param('name')), findings: lintProfile(home, c.req.param('name')) }));
  app.get('/api/certificates/:name/lint', (c) => c.json({ ok: true, findings: lintProfile(home, c.req.param('name')) }));
  app.get('/api/certificates/:name/csr', async (c) => c.json({ ok: true, profile: c.req.param('name'), csr: await profileCsr(home, c.req.param('name')) }));
  app.get('/api/truststore', (c) => c.json({ ok: true, ...listTrustStore(home) }));

  app.get('/api/listeners', (c) => c.json({ ok: true, listeners: home.store.working().listeners }));
  app.get('/api/listeners/:name', (c) => c.json({ ok: true, listener: findListener(home.store.working(), c.req.param('name')) }));

  app.get('/api/destinations', (c) => {
    const d = home.store.working().destinationControls;
    return c.json({ ok: true, default: d.default, domains: d.domains, certificate: d.certificate, alertOnRequiredTlsFailure: d.alertOnRequiredTlsFailure });
  });

  app.get('/api/alerts', (c) => {
    const a = home.store.working().alerts;
    return c.json({ ok: true, recipients: a.recipients, from: a.from, debounceMinutes: a.debounceMinutes });
  });
  app.get('/api/alerts/history', (c) => c.json({ ok: true, history: readAlertHistory(home.layout).map(({ raw: _r, ...e }) => e) }));

  app.get('/api/config/changes', (c) => c.json({ ok: true, staged: home.store.hasStagedChanges(), changes: showChanges(home) }));
  app.get('/api/config/versions', (c) => c.json({ ok: true, ...listVersions(home) }));
  app.get('/api/config/gui', (c) => c.json({ ok: true, gui: home.store.working().gui, ssl: home.store.working().ssl.gui }));
  app.get('/api/config/logging', (c) => c.json({ ok: true, mailLog: home.store.working().logging.mailLog }));
  app.get('/api/tokens', (c) => c.json({ ok: true, tokens: listApiTokens(home.layout) }));
}
