/**
 * The admin GUI and JSON API as one hono app, built from injected
 * dependencies so tests call `app.request()` without a socket. Routes are
 * thin: pages read through services, every change is an Action (action.ts)
 * served both as `POST /actions/<id>` (form, then redirect) and as
 * `<method> /api/...` (JSON). Security: session cookie (Secure, HttpOnly,
 * SameSite=Strict) or an API token (Bearer), CSRF token on every state change
 * made with the cookie, same-origin check, login rate limiting with lockout,
 * security headers; every request runs with its client address as the audit
 * source.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import crypto from 'node:crypto';
import { errorMessage, UserError } from '../core/errors.js';
import { verifyApiToken } from '../services/api-tokens.js';
import { appendAudit, withAuditSource } from '../services/audit-log.js';
import { verifyPassword } from '../services/password-hash.js';
import { blankToUndefined, describeFailure, failureFlash, type Action, type ActionContext } from './action.js';
import { allActions } from './actions/all-actions.js';
import { registerReadApi } from './api/read-api.js';
import { registerOperationsRoutes } from './operations-routes.js';
import type { GuiDeps } from './gui-deps.js';
import { guiUsesDemoCertificate, LoginPage } from './layout.js';
import { LockoutMessage } from './login-messages.js';
import { LoginThrottle, LOCKOUT_MS, MAX_FAILURES } from './login-throttle.js';
import type { PageContext } from './page-context.js';
import { registerPages } from './pages/all-pages.js';
import { securityHeaders } from './security-headers.js';
import { sameToken, SESSION_COOKIE, SessionStore, type GuiSession } from './session-store.js';
import { loadStaticFiles } from './static-files.js';

const LOGIN_COOKIE = '__Host-gatehouse_login';
/** Uploads (certificates, PKCS#12, configuration files) are at most 1 MiB each. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Form fields that are lists of uploaded files. */
const FILE_LIST_FIELDS = new Set(['intermediates']);

export interface GuiEnv {
  Variables: {
    session: GuiSession | null;
    user: string;
    /** `gui <address>` or `api <address>`. */
    from: string;
    address: string;
  };
}

export type GuiApp = Hono<GuiEnv>;

/** The client's address: the socket's (never a forwarded header). Tests pass `{ incoming: { socket: { remoteAddress } } }` as env. */
function clientAddress(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown';
}

const COOKIE_OPTIONS = { secure: true, httpOnly: true, sameSite: 'Strict', path: '/' } as const;

/** A form's fields: strings, uploaded files as Buffers (empty file inputs left out); repeated fields keep the last value. */
async function formFields(c: Context): Promise<Record<string, unknown>> {
  const body = await c.req.parseBody({ all: true });
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    const values: (string | Buffer)[] = [];
    for (const x of Array.isArray(v) ? v : [v]) {
      if (typeof x === 'string') values.push(x);
      else if (x instanceof File && !(x.size === 0 && x.name === '')) values.push(Buffer.from(await x.arrayBuffer()));
    }
    if (values.length === 0) continue;
    out[k] = FILE_LIST_FIELDS.has(k) ? values : values[values.length - 1];
  }
  return out;
}

function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

export interface BuiltGui {
  app: GuiApp;
  sessions: SessionStore;
  throttle: LoginThrottle;
}

export function createGuiApp(deps: GuiDeps): BuiltGui {
  const now = deps.now ?? Date.now;
  const sessions = new SessionStore(() => deps.runningConfig().gui.idleTimeoutMinutes * 60_000, now);
  const throttle = new LoginThrottle(now);
  const files = loadStaticFiles();
  const app: GuiApp = new Hono<GuiEnv>();

  app.use('*', securityHeaders());
  app.use('*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.text('Request too large', 413) }));

  // Same-origin check for every state change: a cross-site form or fetch is refused before anything else.
  app.use('*', async (c, next) => {
    c.set('address', clientAddress(c));
    c.set('session', null);
    if (!isSafeMethod(c.req.method)) {
      const origin = c.req.header('origin');
      const host = c.req.header('host');
      const site = c.req.header('sec-fetch-site');
      if (site === 'cross-site' || (origin !== undefined && origin !== 'null' && host !== undefined && safeHost(origin) !== host)) {
        return c.json({ ok: false, error: 'cross-origin request refused' }, 403);
      }
    }
    await next();
  });

  app.get('/static/:file', (c) => {
    const f = files.get(c.req.param('file'));
    if (f === undefined) return c.text('Not found', 404);
    return c.body(new Uint8Array(f.body), 200, { 'Content-Type': f.contentType, 'Cache-Control': 'public, max-age=3600' });
  });

  registerOperationsRoutes(app, deps, sessions);

  // ---------------------------------------------------------------- login
  type LoginOutcome = { ok: true; session: GuiSession } | { ok: false; status: 401 | 429; error: string };
  const attemptLogin = (address: string, user: string, password: string, via: string): LoginOutcome => {
    const from = `${via} ${address}`;
    const verdict = throttle.check(address, user);
    if (!verdict.allowed) {
      appendAudit(deps.home.layout, { user: user || '(none)', action: 'login refused: locked out', from });
      return { ok: false, status: 429, error: LockoutMessage(verdict.retryAfterSeconds) };
    }
    const account = deps.runningConfig().users.find((u) => u.name === user);
    // An unknown user costs the same scrypt as a known one.
    const ok = verifyPassword(password, account?.passwordHash ?? DUMMY_HASH) && account !== undefined;
    if (!ok) {
      const locked = throttle.fail(address, user);
      appendAudit(deps.home.layout, { user: user || '(none)', action: 'login failed', from });
      if (locked) {
        const text = `GUI login locked out for user ${user || '(none)'} from ${address} for ${LOCKOUT_MS / 60_000} minutes after ${MAX_FAILURES} failed attempts`;
        appendAudit(deps.home.layout, { user: user || '(none)', action: 'login locked out', detail: text, from });
        deps.systemLog?.(text);
        return { ok: false, status: 429, error: LockoutMessage(LOCKOUT_MS / 1000) };
      }
      return { ok: false, status: 401, error: 'Wrong user name or password.' };
    }
    throttle.succeed(address, user);
    const session = sessions.create(user);
    appendAudit(deps.home.layout, { user, action: 'login', from });
    return { ok: true, session };
  };

  app.get('/login', (c) => {
    if (sessions.touch(getCookie(c, SESSION_COOKIE)) !== null) return c.redirect('/certificates', 303);
    // Reuse the token of a login page open in another tab (or loaded again by a redirect), so neither form goes stale.
    const existing = getCookie(c, LOGIN_COOKIE);
    const token = existing !== undefined && /^[A-Za-z0-9_-]{32}$/.test(existing) ? existing : crypto.randomBytes(24).toString('base64url');
    setCookie(c, LOGIN_COOKIE, token, { ...COOKIE_OPTIONS, maxAge: 1800 });
    return c.html(LoginPage({ csrf: token, demo: guiUsesDemoCertificate({ deps }) }));
  });

  app.post('/login', async (c) => {
    const body = await c.req.parseBody();
    const cookieToken = getCookie(c, LOGIN_COOKIE);
    if (cookieToken === undefined || !sameToken(typeof body['_csrf'] === 'string' ? body['_csrf'] : undefined, cookieToken)) {
      return c.text('The login form expired or did not come from this site; reload the login page.', 403);
    }
    const user = typeof body['user'] === 'string' ? body['user'].trim() : '';
    const password = typeof body['password'] === 'string' ? body['password'] : '';
    const r = attemptLogin(c.get('address'), user, password, 'gui');
    if (!r.ok) return c.html(LoginPage({ csrf: cookieToken, error: r.error, demo: guiUsesDemoCertificate({ deps }) }), r.status);
    deleteCookie(c, LOGIN_COOKIE, COOKIE_OPTIONS);
    setCookie(c, SESSION_COOKIE, r.session.id, COOKIE_OPTIONS);
    return c.redirect('/certificates', 303);
  });

  /** Scripts may log in for a cookie session too (the CSRF token comes back in the answer). */
  app.post('/api/login', async (c) => {
    let body: { user?: unknown; password?: unknown } = {};
    try {
      body = (await c.req.json()) as typeof body;
    } catch {
      return c.json({ ok: false, error: 'expected a JSON body {"user": ..., "password": ...}' }, 400);
    }
    const r = attemptLogin(c.get('address'), typeof body.user === 'string' ? body.user : '', typeof body.password === 'string' ? body.password : '', 'api');
    if (!r.ok) return c.json({ ok: false, error: r.error }, r.status);
    setCookie(c, SESSION_COOKIE, r.session.id, COOKIE_OPTIONS);
    return c.json({ ok: true, user: r.session.user, csrfToken: r.session.csrfToken });
  });

  // ---------------------------------------------------------------- authentication and CSRF
  app.use('/api/*', async (c, next) => {
    const authorization = c.req.header('authorization');
    if (authorization !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(authorization);
      const token = m?.[1] !== undefined ? verifyApiToken(deps.home.layout, m[1]) : null;
      if (token === null || !deps.runningConfig().users.some((u) => u.name === token.user)) return c.json({ ok: false, error: 'invalid API token' }, 401);
      c.set('user', token.user);
      c.set('from', `api ${c.get('address')} token ${token.name}`);
    } else {
      const session = sessions.touch(getCookie(c, SESSION_COOKIE));
      if (session === null) return c.json({ ok: false, error: 'authentication required: log in or send Authorization: Bearer <API token>' }, 401);
      if (!isSafeMethod(c.req.method) && !sameToken(c.req.header('x-csrf-token'), session.csrfToken)) {
        return c.json({ ok: false, error: 'missing or wrong X-CSRF-Token header (GET /api/session gives the token)' }, 403);
      }
      c.set('session', session);
      c.set('user', session.user);
      c.set('from', `api ${c.get('address')}`);
    }
    await withAuditSource(c.get('from'), next);
  });

  app.use('*', async (c, next) => {
    if (c.req.path.startsWith('/api/') || c.req.path.startsWith('/static/') || c.req.path === '/login') return next();
    if (c.req.path === '/favicon.ico') return c.body(null, 204);
    const session = sessions.touch(getCookie(c, SESSION_COOKIE));
    if (session === null) {
      if (isSafeMethod(c.req.method)) return c.redirect('/login', 303);
      return c.text('Your session has ended; log in again.', 401);
    }
    c.set('session', session);
    c.set('user', session.user);
    c.set('from', `gui ${c.get('address')}`);
    if (!isSafeMethod(c.req.method)) {
      const body = await c.req.parseBody({ all: true });
      const sent = body['_csrf'];
      if (!sameToken(typeof sent === 'string' ? sent : Array.isArray(sent) && typeof sent[0] === 'string' ? sent[0] : undefined, session.csrfToken)) {
        return c.text('The form did not carry a valid CSRF token; reload the page and try again.', 403);
      }
    }
    await withAuditSource(c.get('from'), next);
  });

  app.post('/logout', (c) => {
    const session = c.get('session');
    if (session !== null) {
      sessions.destroy(session.id);
      appendAudit(deps.home.layout, { user: session.user, action: 'logout' });
    }
    deleteCookie(c, SESSION_COOKIE, COOKIE_OPTIONS);
    return c.redirect('/login', 303);
  });

  app.get('/api/session', (c) => {
    const session = c.get('session');
    return c.json({ ok: true, user: c.get('user'), via: session === null ? 'token' : 'session', csrfToken: session?.csrfToken ?? null, idleTimeoutMinutes: deps.runningConfig().gui.idleTimeoutMinutes });
  });

  // ---------------------------------------------------------------- actions
  const actionContext = (c: Context<GuiEnv>): ActionContext => ({ deps, user: c.get('user'), from: c.get('from') });

  for (const action of allActions) {
    app.on(action.method, `/api${action.apiPath}`, async (c) => {
      let body: Record<string, unknown> = {};
      const type = c.req.header('content-type') ?? '';
      if (type.includes('application/json')) {
        try {
          const parsed = (await c.req.json()) as unknown;
          if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return c.json({ ok: false, error: 'the JSON body must be an object' }, 400);
          body = parsed as Record<string, unknown>;
        } catch {
          return c.json({ ok: false, error: 'the body is not valid JSON' }, 400);
        }
      } else if (type !== '' && action.method !== 'DELETE') {
        return c.json({ ok: false, error: 'send the input as application/json' }, 415);
      }
      const input = { ...body, ...c.req.param() };
      try {
        const parsed = action.input.parse(input);
        const result = await action.run(actionContext(c), parsed);
        return c.json({ ok: true, message: result.message, warnings: result.warnings ?? [], ...(result.data ?? {}) });
      } catch (err) {
        return c.json({ ok: false, ...describeFailure(err, Object.keys(input)) }, 400);
      }
    });

    app.post(`/actions/${action.id}`, async (c) => {
      const session = c.get('session')!;
      const fields = await formFields(c);
      const formKeyValue = typeof fields['_form'] === 'string' ? fields['_form'] : action.id;
      const { _csrf: _c, _form: _f, ...values } = fields;
      const stringValues: Record<string, string> = {};
      for (const [k, v] of Object.entries(values)) if (typeof v === 'string') stringValues[k] = v;
      const back = safePage(action.page(stringValues));
      try {
        const parsed = action.input.parse(blankToUndefined(values, action.keepBlank));
        const result = await action.run(actionContext(c), parsed);
        if (result.download !== undefined) {
          const d = result.download;
          return c.body(typeof d.body === 'string' ? d.body : new Uint8Array(d.body), 200, {
            'Content-Type': d.contentType,
            'Content-Disposition': `attachment; filename="${d.filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
          });
        }
        session.flash = { message: result.message, ...(result.warnings && result.warnings.length > 0 ? { warnings: result.warnings } : {}), ...(result.secret ? { secret: result.secret } : {}) };
      } catch (err) {
        session.flash = failureFlash(formKeyValue, describeFailure(err, Object.keys(values)), values, action.secretFields ?? []);
        return c.redirect(back, 303);
      }
      return c.redirect(back, 303);
    });
  }

  // ---------------------------------------------------------------- reads and pages
  registerReadApi(app, deps);
  const pageContext = (c: Context<GuiEnv>): PageContext => {
    const session = c.get('session')!;
    const flash = session.flash;
    delete session.flash;
    return { deps, session, flash, path: c.req.path, query: c.req.query() };
  };
  registerPages(app, pageContext, deps);
  app.get('/', (c) => c.redirect('/certificates', 303));

  app.notFound((c) => (c.req.path.startsWith('/api/') ? c.json({ ok: false, error: `no such API: ${c.req.method} ${c.req.path}` }, 404) : c.text('Not found', 404)));
  app.onError((err, c) => {
    if (err instanceof UserError) return c.req.path.startsWith('/api/') ? c.json({ ok: false, error: err.message }, 404) : c.text(err.message, 404);
    process.stderr.write(`gui: ${c.req.method} ${c.req.path}: ${errorMessage(err)}\n`);
    return c.req.path.startsWith('/api/') ? c.json({ ok: false, error: 'internal error' }, 500) : c.text('Internal error', 500);
  });

  return { app, sessions, throttle };
}

/** A redirect target that stays on this site. */
function safePage(p: string): string {
  return p.startsWith('/') && !p.startsWith('//') ? p : '/';
}

function safeHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

/** Verified against when the user does not exist, so both cases cost one scrypt. */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export type { Action };
