/**
 * Drives the GUI's hono app in-process (`app.request()`, no socket) against a
 * test gateway: a cookie jar, the login dance, CSRF tokens from forms and the
 * API, and a client address for the audit log.
 */
import { createGuiApp, type BuiltGui } from '../../src/gui/app.js';
import type { GuiDeps } from '../../src/gui/gui-deps.js';
import { hashPassword } from '../../src/services/password-hash.js';
import { openHome } from '../../src/services/staging.js';
import { validateConfig } from '../../src/services/validate-config.js';
import { startTestGateway, type TestGateway } from '../harness/gateway-fixture.js';

export const ADMIN_PASSWORD = 'correct horse battery staple';

export interface GuiHarness {
  tg: TestGateway;
  deps: GuiDeps;
  gui: BuiltGui;
  systemLines: string[];
  /** Moves the injected clock forward. */
  advance(ms: number): void;
  client(address?: string): GuiClient;
  stop(): Promise<void>;
}

export async function startGuiHarness(): Promise<GuiHarness> {
  const tg = await startTestGateway((config) => {
    const admin = config.users.find((u) => u.name === 'admin');
    if (admin) admin.passwordHash = hashPassword(ADMIN_PASSWORD);
  });
  const home = openHome(tg.layout.root);
  let offset = 0;
  const systemLines: string[] = [];
  const deps: GuiDeps = {
    home,
    runningConfig: () => tg.gateway.currentConfig,
    applyCommitted: async () => {
      const committed = home.store.committed();
      const v = validateConfig(committed.config);
      if (!v.ok) return { ok: false, error: v.errors.join('; ') };
      await tg.gateway.apply(v.config);
      return { ok: true, version: committed.version };
    },
    systemLog: (text) => systemLines.push(text),
    now: () => Date.now() + offset,
  };
  const gui = createGuiApp(deps);
  return {
    tg,
    deps,
    gui,
    systemLines,
    advance: (ms) => {
      offset += ms;
    },
    client: (address = '127.0.0.1') => new GuiClient(gui, address),
    stop: () => tg.stop(),
  };
}

export class GuiClient {
  readonly cookies = new Map<string, string>();
  csrfToken: string | null = null;

  constructor(
    private readonly gui: BuiltGui,
    readonly address: string,
  ) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    headers.set('host', 'gui.test:8443');
    const res = await this.gui.app.request(`https://gui.test:8443${path}`, { ...init, headers }, { incoming: { socket: { remoteAddress: this.address } } });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/Max-Age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** GET /login, then POST the form; returns the POST's response. */
  async login(user: string, password: string): Promise<Response> {
    const page = await (await this.request('/login')).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    return this.request('/login', { method: 'POST', body: new URLSearchParams({ _csrf: csrf, user, password }) });
  }

  /** Logs in and remembers the session's CSRF token (from /api/session). */
  async loginOk(): Promise<void> {
    const r = await this.login('admin', ADMIN_PASSWORD);
    if (r.status !== 303) throw new Error(`login failed: ${r.status} ${await r.text()}`);
    const s = (await (await this.request('/api/session')).json()) as { csrfToken: string };
    this.csrfToken = s.csrfToken;
  }

  /** A JSON API call with the session's CSRF token (or `bearer`). */
  async api(method: string, path: string, body?: unknown, bearer?: string): Promise<{ status: number; json: Record<string, unknown> }> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (bearer !== undefined) headers['authorization'] = `Bearer ${bearer}`;
    else if (this.csrfToken !== null) headers['x-csrf-token'] = this.csrfToken;
    const res = bearer !== undefined ? await this.bare(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }) : await this.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  /** A request without this client's cookies (bearer-token scripts). */
  private async bare(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('host', 'gui.test:8443');
    return this.gui.app.request(`https://gui.test:8443${path}`, { ...init, headers }, { incoming: { socket: { remoteAddress: this.address } } });
  }

  /** Posts an HTML form to /actions/<id> with the session's CSRF token. */
  async form(action: string, fields: Record<string, string>): Promise<Response> {
    return this.request(`/actions/${action}`, { method: 'POST', body: new URLSearchParams({ _csrf: this.csrfToken ?? '', ...fields }) });
  }
}
