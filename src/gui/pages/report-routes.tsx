/** TLS Connections report page and /api/report/tls (services/tls-report.ts), over a window such as 24h or 7d. */
import type { Context, Hono } from 'hono';
import { tlsReport } from '../../services/tls-report.js';
import { describeFailure } from '../action.js';
import type { GuiEnv } from '../app.js';
import type { GuiDeps } from '../gui-deps.js';
import type { PageContext } from '../page-context.js';
import { parseDuration } from '../tool-input.js';
import { ReportPage } from './report-page.js';

export function registerReportRoutes(app: Hono<GuiEnv>, pageContext: (c: Context<GuiEnv>) => PageContext, deps: GuiDeps): void {
  const root = deps.home.layout.root;
  const report = async (since: string | undefined) => {
    const window = since === undefined || since === '' ? '24h' : since;
    return { window, report: await tlsReport(root, { since: Date.now() - parseDuration(window) }) };
  };
  app.get('/report', async (c) => {
    try {
      const r = await report(c.req.query('since'));
      return c.html(<ReportPage ctx={pageContext(c)} window={r.window} report={r.report} />);
    } catch (err) {
      return c.html(<ReportPage ctx={pageContext(c)} window={c.req.query('since') ?? '24h'} error={describeFailure(err, []).error} />, 400);
    }
  });
  app.get('/api/report/tls', async (c) => {
    try {
      return c.json({ ok: true, ...(await report(c.req.query('since'))) });
    } catch (err) {
      return c.json({ ok: false, ...describeFailure(err, []) }, 400);
    }
  });
}
