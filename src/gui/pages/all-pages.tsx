/** The page routes: one GET per page; each page renders from the services. */
import type { Context, Hono } from 'hono';
import { exportDestinations } from '../../services/edit-destinations.js';
import { profileCsr } from '../../services/certificates.js';
import type { GuiEnv } from '../app.js';
import type { PageContext } from '../page-context.js';
import { AlertsPage } from './alerts-page.js';
import { CertificatePage } from './certificate-page.js';
import { CertificatesPage } from './certificates-page.js';
import { ConfigurationPage } from './configuration-page.js';
import { DestinationsPage } from './destinations-page.js';
import { ListenerPage } from './listener-page.js';
import { ListenersPage } from './listeners-page.js';
import { registerReportRoutes } from './report-routes.js';
import { registerTrackingRoutes } from './tracking-routes.js';
import { registerTlsVerifyRoutes } from './tls-verify-routes.js';
import type { GuiDeps } from '../gui-deps.js';

export function registerPages(app: Hono<GuiEnv>, pageContext: (c: Context<GuiEnv>) => PageContext, deps: GuiDeps): void {
  app.get('/certificates', (c) => c.html(<CertificatesPage ctx={pageContext(c)} />));
  app.get('/certificates/:name', (c) => c.html(<CertificatePage ctx={pageContext(c)} name={c.req.param('name')} />));
  app.get('/certificates/:name/csr', async (c) => {
    const name = c.req.param('name');
    const csr = await profileCsr(pageContext(c).deps.home, name);
    return c.body(csr, 200, { 'Content-Type': 'application/pkcs10', 'Content-Disposition': `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}.csr"` });
  });
  app.get('/listeners', (c) => c.html(<ListenersPage ctx={pageContext(c)} />));
  app.get('/listeners/:name', (c) => c.html(<ListenerPage ctx={pageContext(c)} name={c.req.param('name')} />));
  app.get('/destinations', (c) => c.html(<DestinationsPage ctx={pageContext(c)} />));
  app.get('/destinations/export', (c) =>
    c.body(exportDestinations(pageContext(c).deps.home.store.working()), 200, { 'Content-Type': 'application/yaml', 'Content-Disposition': 'attachment; filename="destinations.yaml"' }),
  );
  app.get('/alerts', (c) => c.html(<AlertsPage ctx={pageContext(c)} />));
  app.get('/configuration', (c) => c.html(<ConfigurationPage ctx={pageContext(c)} />));
  registerTlsVerifyRoutes(app, pageContext, deps);
  registerTrackingRoutes(app, pageContext, deps);
  registerReportRoutes(app, pageContext, deps);
}
