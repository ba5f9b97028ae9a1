/**
 * The page frame: navigation bar, the demo-certificate warning, the banner
 * while changes are staged, the one-time message of the last action, and the
 * page itself. Styles and scripts are files under /static/ (the CSP allows
 * no inline script).
 */
import type { Child } from 'hono/jsx';
import { raw } from 'hono/html';
import { demoWarnings } from '../services/certificates.js';
import type { PageContext } from './page-context.js';

export const NAV: readonly (readonly [string, string])[] = [
  ['/certificates', 'Certificates'],
  ['/listeners', 'Listeners & HAT'],
  ['/destinations', 'Destination Controls'],
  ['/alerts', 'Alerts'],
  ['/tlsverify', 'TLS Verify'],
  ['/tracking', 'Mail Logs & Tracking'],
  ['/report', 'TLS Report'],
  ['/configuration', 'Configuration'],
];

function Head({ title, scripts = [], styles = [] }: { title: string; scripts?: string[]; styles?: string[] }) {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${title} — Gatehouse`}</title>
      <link rel="stylesheet" href="/static/gui.css" />
      {styles.map((s) => (
        <link rel="stylesheet" href={s} />
      ))}
      <script src="/static/gui.js" defer></script>
      {scripts.map((s) => (
        <script src={s} defer></script>
      ))}
    </head>
  );
}

export function guiUsesDemoCertificate(ctx: { deps: PageContext['deps'] }): boolean {
  const config = ctx.deps.runningConfig();
  return config.certificates.some((c) => c.name === config.gui.certificate && c.source === 'demo');
}

export function Layout({ ctx, title, children, scripts, styles }: { ctx: PageContext; title: string; children?: Child; scripts?: string[]; styles?: string[] }) {
  const staged = ctx.deps.home.store.hasStagedChanges();
  const demo = guiUsesDemoCertificate(ctx);
  const others = demoWarnings(ctx.deps.runningConfig()).filter((w) => !w.startsWith('GUI '));
  return (
    <>
      {raw('<!doctype html>')}
      <html lang="en">
        <Head title={title} scripts={scripts} styles={styles} />
        <body>
          <header class="topbar">
            <a class="brand" href="/">
              Gatehouse
            </a>
            <nav>
              {NAV.map(([href, label]) => (
                <a href={href} class={ctx.path === href || ctx.path.startsWith(`${href}/`) ? 'active' : undefined}>
                  {label}
                </a>
              ))}
            </nav>
            <form method="post" action="/logout" class="logout">
              <input type="hidden" name="_csrf" value={ctx.session.csrfToken} />
              <span class="user">{ctx.session.user}</span>
              <button type="submit">Log out</button>
            </form>
          </header>
          {demo ? (
            <div class="banner banner-danger" id="demo-banner">
              This GUI uses the demo certificate: browsers cannot verify it and every Gatehouse has the same kind. Install your own certificate (Certificates) and select it under
              Configuration → GUI.
            </div>
          ) : null}
          {others.length > 0 ? <div class="banner banner-warning">{others.join(' ')}</div> : null}
          {staged ? (
            <div class="banner banner-staged" id="staged-banner">
              There are uncommitted changes. <a href="/configuration">Review and commit them</a> — they do not apply until committed.
            </div>
          ) : null}
          <main>
            <h1>{title}</h1>
            {ctx.flash?.message ? <div class="flash flash-ok">{ctx.flash.message}</div> : null}
            {ctx.flash?.secret ? (
              <div class="flash flash-secret">
                {ctx.flash.secret.label}: <code id="secret-value">{ctx.flash.secret.value}</code>
              </div>
            ) : null}
            {ctx.flash?.warnings && ctx.flash.warnings.length > 0 ? (
              <div class="flash flash-warning">
                <ul>
                  {ctx.flash.warnings.map((w) => (
                    <li>{w}</li>
                  ))}
                </ul>
              </div>
            ) : null}
            {ctx.flash?.error ? (
              <div class="flash flash-error" role="alert">
                {ctx.flash.error}
              </div>
            ) : null}
            {children}
          </main>
        </body>
      </html>
    </>
  );
}

/** The login page (no session yet): its own CSRF token comes from a short-lived cookie. */
export function LoginPage({ csrf, error, demo }: { csrf: string; error?: string; demo: boolean }) {
  return (
    <>
      {raw('<!doctype html>')}
      <html lang="en">
        <Head title="Log in" />
        <body class="login">
          {demo ? <div class="banner banner-danger">This GUI uses the demo certificate. Install your own certificate after logging in.</div> : null}
          <main class="login-box">
            <h1>Gatehouse</h1>
            <form method="post" action="/login" class="form">
              <input type="hidden" name="_csrf" value={csrf} />
              {error ? <p class="form-error">{error}</p> : null}
              <div class="field">
                <label for="user">User</label>
                <input id="user" name="user" autocomplete="username" value="admin" required />
              </div>
              <div class="field">
                <label for="password">Password</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required autofocus />
              </div>
              <button type="submit">Log in</button>
            </form>
          </main>
        </body>
      </html>
    </>
  );
}
