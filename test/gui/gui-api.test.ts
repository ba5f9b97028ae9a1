/**
 * The admin GUI and JSON API in-process (hono app.request) against a real test
 * gateway: login, lockout, authentication and CSRF refusals, validation errors
 * with their field path, a certificate and a destination changed through the
 * API showing up in the staged configuration, and a commit applied to the
 * running gateway.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { showChanges } from '../../src/services/config-lifecycle.js';
import { ADMIN_PASSWORD, startGuiHarness, type GuiHarness } from './gui-client.js';

function auditLines(h: GuiHarness): { user: string; action: string; from: string; detail?: string }[] {
  return fs
    .readFileSync(h.tg.layout.auditLog, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { user: string; action: string; from: string });
}

describe('admin GUI and API', () => {
  let h: GuiHarness;
  before(async () => {
    h = await startGuiHarness();
  });
  after(async () => {
    await h.stop();
  });

  test('login sets a secure session cookie and is audited with the client address', async () => {
    const c = h.client('127.0.0.2');
    const r = await c.login('admin', ADMIN_PASSWORD);
    assert.equal(r.status, 303);
    assert.equal(r.headers.get('location'), '/certificates');
    const cookie = r.headers.getSetCookie().find((l) => l.startsWith('__Host-gatehouse_session='));
    assert.ok(cookie, 'session cookie set');
    assert.match(cookie, /; Secure/);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const page = await c.request('/certificates');
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /Certificate profiles/);
    assert.match(html, /id="demo-banner"/, 'warning banner while the GUI uses the demo certificate');
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'.*frame-ancestors 'none'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.match(page.headers.get('strict-transport-security') ?? '', /max-age=\d+/);
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.doesNotMatch(html, /<script>|<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.ok(auditLines(h).some((e) => e.action === 'login' && e.user === 'admin' && e.from === 'gui 127.0.0.2'));

    const out = await c.request('/logout', { method: 'POST', body: new URLSearchParams({ _csrf: /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '' }) });
    assert.equal(out.status, 303);
    assert.equal((await c.request('/certificates')).headers.get('location'), '/login');
  });

  test('a wrong password is refused and logged; five failures lock the address out, even for the right password', async () => {
    const c = h.client('127.0.0.3');
    const first = await c.login('admin', 'wrong');
    assert.equal(first.status, 401);
    assert.match(await first.text(), /Wrong user name or password/);
    for (let i = 0; i < 3; i++) assert.equal((await c.login('admin', `wrong${i}`)).status, 401);
    const fifth = await c.login('admin', 'wrong again');
    assert.equal(fifth.status, 429);
    assert.match(await fifth.text(), /locked out for 15 minutes/);
    const right = await c.login('admin', ADMIN_PASSWORD);
    assert.equal(right.status, 429, 'locked out even with the right password');
    assert.ok(h.systemLines.some((l) => /GUI login locked out for user admin from 127\.0\.0\.3/.test(l)), h.systemLines.join('\n'));
    const audit = auditLines(h);
    assert.ok(audit.filter((e) => e.action === 'login failed' && e.from === 'gui 127.0.0.3').length >= 5);
    assert.ok(audit.some((e) => e.action === 'login locked out'));
    // The user name is locked too, from any address, until the lockout ends.
    assert.equal((await h.client('127.0.0.4').login('admin', ADMIN_PASSWORD)).status, 429);
    h.advance(16 * 60_000);
    assert.equal((await h.client('127.0.0.4').login('admin', ADMIN_PASSWORD)).status, 303);
  });

  test('a login form without its CSRF cookie is refused', async () => {
    const c = h.client();
    const r = await c.request('/login', { method: 'POST', body: new URLSearchParams({ _csrf: 'x', user: 'admin', password: ADMIN_PASSWORD }) });
    assert.equal(r.status, 403);
  });

  test('no session or a bad token: 401 from the API, the login page for pages', async () => {
    const c = h.client();
    assert.equal((await c.api('GET', '/api/certificates')).status, 401);
    assert.equal((await c.api('GET', '/api/certificates', undefined, 'ghk_not-a-token')).status, 401);
    assert.equal((await c.api('POST', '/api/destinations', { domain: 'x.example' }, 'Bearer-less')).status, 401);
    const page = await c.request('/destinations');
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), '/login');
  });

  test('state changes without the CSRF token, or from another origin, are refused with 403', async () => {
    const c = h.client();
    await c.loginOk();
    const token = c.csrfToken;
    c.csrfToken = null;
    const api = await c.api('POST', '/api/destinations', { domain: 'csrf.example' });
    assert.equal(api.status, 403);
    c.csrfToken = 'wrong';
    assert.equal((await c.api('POST', '/api/destinations', { domain: 'csrf.example' })).status, 403);
    const form = await c.request('/actions/destination-new', { method: 'POST', body: new URLSearchParams({ domain: 'csrf.example' }) });
    assert.equal(form.status, 403);
    c.csrfToken = token;
    const cross = await c.request('/api/destinations', { method: 'POST', headers: { origin: 'https://evil.example', 'x-csrf-token': token ?? '', 'content-type': 'application/json' }, body: '{"domain":"csrf.example"}' });
    assert.equal(cross.status, 403);
    assert.ok(!showChanges(h.deps.home).some((l) => l.includes('csrf.example')), 'nothing was staged');
  });

  test('validation errors are 400 with the field path; forms show them next to the field', async () => {
    const c = h.client();
    await c.loginOk();
    const port = await c.api('POST', '/api/listeners', { name: 'Extra', type: 'public', address: '127.0.0.1', port: 70000 });
    assert.equal(port.status, 400);
    assert.equal((port.json['fields'] as Record<string, string>)['port'], 'must be 1-65535');
    assert.ok((port.json['issues'] as string[]).some((i) => /^listeners\[\d+\]\.port: must be 1-65535$/.test(i)), JSON.stringify(port.json));
    const tls = await c.api('POST', '/api/destinations', { domain: 'bad.example', tls: 'sometimes' });
    assert.equal(tls.status, 400);
    assert.ok((tls.json['fields'] as Record<string, string>)['tls'], JSON.stringify(tls.json));
    const conc = await c.api('PATCH', '/api/destination-settings/default', { maxConcurrency: 0 });
    assert.equal(conc.status, 400);
    assert.equal((conc.json['fields'] as Record<string, string>)['maxConcurrency'], 'must be greater than 0');

    const posted = await c.form('destination-new', { _form: 'destination-new', domain: 'form.example', maxConcurrency: '-3' });
    assert.equal(posted.status, 303);
    assert.equal(posted.headers.get('location'), '/destinations');
    const html = await (await c.request('/destinations')).text();
    assert.match(html, /<div class="field has-error"><label for="[^"]+">Max concurrency<\/label><input[^>]*value="-3"[^>]*\/?><span class="field-error">must be greater than 0<\/span>/);
    assert.ok(!showChanges(h.deps.home).some((l) => l.includes('form.example')));
  });

  test('an API token (only its hash stored) authorises scripts until revoked', async () => {
    const c = h.client();
    await c.loginOk();
    const created = await c.api('POST', '/api/tokens', { name: 'script' });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const token = created.json['token'] as string;
    assert.match(token, /^ghk_/);
    assert.ok(!fs.readFileSync(`${h.tg.layout.stateDir}/api-tokens.json`, 'utf8').includes(token), 'the token itself is not stored');
    const list = await c.api('GET', '/api/certificates', undefined, token);
    assert.equal(list.status, 200);
    assert.ok((list.json['profiles'] as { name: string }[]).some((p) => p.name === 'Demo'));
    assert.equal((await c.api('DELETE', '/api/tokens/script')).status, 200);
    assert.equal((await c.api('GET', '/api/certificates', undefined, token)).status, 401);
  });

  test('a certificate created and a destination edited through the API are staged; commit applies them to the running gateway', async () => {
    const c = h.client('127.0.0.9');
    await c.loginOk();
    const token = (await c.api('POST', '/api/tokens', { name: 'deploy' })).json['token'] as string;
    const cert = await c.api('POST', '/api/certificates', { name: 'Mx', cn: 'mx.gw.test', key: 'ec-p256', days: 30 }, token);
    assert.equal(cert.status, 200, JSON.stringify(cert.json));
    const dest = await c.api('POST', '/api/destinations', { domain: 'partner.example', tls: 'required-verify' }, token);
    assert.equal(dest.status, 200, JSON.stringify(dest.json));
    const edit = await c.api('PATCH', '/api/destinations/partner.example', { maxConcurrency: 4 }, token);
    assert.equal(edit.status, 200, JSON.stringify(edit.json));
    const listener = await c.api('PATCH', '/api/listeners/IncomingMail', { certificates: ['Mx'] }, token);
    assert.equal(listener.status, 200, JSON.stringify(listener.json));

    const changes = (await c.api('GET', '/api/config/changes', undefined, token)).json['changes'] as string[];
    assert.ok(changes.some((l) => /^\+ certificates\[Mx\]/.test(l)), changes.join('\n'));
    assert.ok(changes.some((l) => /partner\.example/.test(l) && /required-verify/.test(l)), changes.join('\n'));
    assert.deepEqual(showChanges(h.deps.home), changes);
    const csr = await c.api('GET', '/api/certificates/Mx/csr', undefined, token);
    assert.match(csr.json['csr'] as string, /BEGIN CERTIFICATE REQUEST/);
    assert.equal(h.tg.gateway.currentConfig.destinationControls.domains.length, 0, 'not applied before commit');

    const commit = await c.api('POST', '/api/config/commit', { comment: 'partner over required-verify' }, token);
    assert.equal(commit.status, 200, JSON.stringify(commit.json));
    assert.equal(commit.json['applied'], true);
    assert.equal(h.deps.home.store.hasStagedChanges(), false);
    const running = h.tg.gateway.currentConfig;
    assert.deepEqual(
      running.destinationControls.domains.map((d) => [d.domain, d.tls, d.maxConcurrency]),
      [['partner.example', 'required-verify', 4]],
    );
    assert.deepEqual(running.listeners.find((l) => l.name === 'IncomingMail')?.certificates, ['Mx']);
    const versions = await c.api('GET', '/api/config/versions', undefined, token);
    assert.equal((versions.json['versions'] as { comment: string }[]).at(-1)?.comment, 'partner over required-verify');

    const audit = auditLines(h);
    assert.ok(audit.some((e) => e.action === 'certconfig new Mx' && e.from === 'api 127.0.0.9 token deploy'), JSON.stringify(audit.slice(-8)));
    assert.ok(audit.some((e) => /^commit version \d+$/.test(e.action) && e.from === 'api 127.0.0.9 token deploy'));
    assert.equal((await c.api('POST', '/api/config/commit', { comment: 'again' }, token)).json['committed'], false);
  });

  test('save, load, rollback and clear through the API', async () => {
    const c = h.client();
    await c.loginOk();
    const missing = await c.api('POST', '/api/config/save', { passwords: 'encrypt' });
    assert.equal(missing.status, 400);
    assert.equal((missing.json['fields'] as Record<string, string>)['passphrase'], 'is required to encrypt the private keys');
    const saved = await c.api('POST', '/api/config/save', { passwords: 'encrypt', passphrase: 'export secret' });
    assert.equal(saved.status, 200, JSON.stringify(saved.json));
    const content = saved.json['content'] as string;
    assert.match(content, /gatehouseExport: 1/);
    assert.doesNotMatch(content, /BEGIN PRIVATE KEY/);
    const wrong = await c.api('POST', '/api/config/load', { file: content, passphrase: 'not it' });
    assert.equal(wrong.status, 400);
    const loaded = await c.api('POST', '/api/config/load', { file: content, passphrase: 'export secret' });
    assert.equal(loaded.status, 200, JSON.stringify(loaded.json));
    assert.equal(loaded.json['staged'], false, 'identical to the committed configuration');

    const rollback = await c.api('POST', '/api/config/rollback', { version: 1 });
    assert.equal(rollback.status, 200, JSON.stringify(rollback.json));
    assert.equal(rollback.json['staged'], true);
    assert.ok((await c.api('GET', '/api/config/changes')).json['changes'] instanceof Array);
    assert.equal(h.deps.home.store.hasStagedChanges(), true);
    const cleared = await c.api('POST', '/api/config/clear', {});
    assert.equal(cleared.json['cleared'], true);
    assert.equal(h.deps.home.store.hasStagedChanges(), false);
    assert.equal((await c.api('POST', '/api/config/rollback', { version: 0 })).status, 400);
  });

  test('a session ends after the idle timeout', async () => {
    const c = h.client();
    await c.loginOk();
    assert.equal((await c.api('GET', '/api/session')).status, 200);
    h.advance((h.deps.runningConfig().gui.idleTimeoutMinutes + 1) * 60_000);
    assert.equal((await c.api('GET', '/api/session')).status, 401);
  });
});
