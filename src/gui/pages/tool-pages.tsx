/**
 * Mail Logs & Tracking and the TLS Connections report. Their services are
 * being built in parallel; until they land these pages say so.
 */
import type { Context, Hono } from 'hono';
import type { GuiEnv } from '../app.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';

export function registerToolPages(app: Hono<GuiEnv>, pageContext: (c: Context<GuiEnv>) => PageContext): void {
  for (const [path, title] of [
    ['/tracking', 'Mail Logs & Tracking'],
    ['/report', 'TLS Connections report'],
  ] as const) {
    app.get(path, (c) => c.html(<Layout ctx={pageContext(c)} title={title}><p>Not available in this build yet.</p></Layout>));
  }
}
