/**
 * The GUI's HTTPS server on a real socket: HTTPS only (a plain HTTP request
 * gets no page), the GUI certificate profile is what it presents, a committed
 * change of port re-binds it and a change of certificate swaps it in place,
 * and stop closes the port.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import http from 'node:http';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { GuiServer } from '../../src/gui/server.js';
import { createProfile } from '../../src/services/certificates.js';
import { freePort } from '../harness/gateway-fixture.js';
import { startGuiHarness, type GuiHarness } from './gui-client.js';
import { commitStaged } from '../../src/services/config-lifecycle.js';
import { editStaged } from '../../src/services/staging.js';
import { validateConfig } from '../../src/services/validate-config.js';

function get(port: number, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; peerCn: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path, rejectUnauthorized: false, agent: false }, (res) => {
      const cert = (res.socket as tls.TLSSocket).getPeerCertificate();
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, peerCn: String(cert.subject?.CN ?? '') }));
    });
    req.on('error', reject);
  });
}

function plainHttp(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/login' }, (res) => resolve(`status ${res.statusCode}`));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

/**
 * Handshakes with TLS 1.2, then asks the server to renegotiate (client-initiated renegotiation).
 * 'no answer' when neither a new handshake nor a refusal came within 10 s.
 */
function renegotiationOutcome(port: number): Promise<'renegotiated' | 'refused' | 'no answer'> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('no answer');
    }, 10_000);
    const settle = (outcome: 'renegotiated' | 'refused'): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const socket = tls.connect({ host: '127.0.0.1', port, maxVersion: 'TLSv1.2', rejectUnauthorized: false }, () => {
      const asked = socket.renegotiate({ rejectUnauthorized: false }, (err) => settle(err ? 'refused' : 'renegotiated'));
      if (!asked) reject(new Error('renegotiate() was not started'));
      socket.resume(); // the client must read for the server's answer to arrive
    });
    // OpenSSL answers with a no_renegotiation alert: the client gets an error event instead of the callback.
    socket.on('error', (err) => {
      if (/no renegotiation/.test(err.message)) settle('refused');
      else {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      }
    });
  });
}

describe('GUI HTTPS server', () => {
  let h: GuiHarness;
  let server: GuiServer;
  let port: number;
  before(async () => {
    h = await startGuiHarness();
    port = await freePort();
    editStaged(h.deps.home, 'test', 'gui port', (d) => {
      d.gui.port = port;
    });
    commitStaged(h.deps.home, 'test', 'gui port');
    const v = validateConfig(h.deps.home.store.committed().config);
    assert.ok(v.ok);
    await h.tg.gateway.apply(v.config);
    server = await GuiServer.start(h.deps, v.config);
  });
  after(async () => {
    await server.stop();
    await h.stop();
  });

  test('serves HTTPS with the demo certificate and security headers; plain HTTP gets no page', async () => {
    const r = await get(port, '/login');
    assert.equal(r.status, 200);
    assert.equal(r.peerCn, 'Gatehouse Demo Certificate');
    assert.match(String(r.headers['strict-transport-security']), /max-age=/);
    assert.equal(server.url, `https://127.0.0.1:${port}/`);
    assert.doesNotMatch(await plainHttp(port), /^status 2/);
  });

  test('client-initiated TLS 1.2 renegotiation is refused', async () => {
    // Without SSL_OP_NO_RENEGOTIATION Node's https server allows it (3 times per 10 minutes).
    assert.equal(await renegotiationOutcome(port), 'refused');
  });

  test('a committed certificate change is swapped in; a port change re-binds; stop closes the port', async () => {
    await createProfile(h.deps.home, 'test', { name: 'Gui', subject: { cn: 'gui.gw.test' }, key: 'ec-p256' });
    const newPort = await freePort();
    editStaged(h.deps.home, 'test', 'gui edit', (d) => {
      d.gui.certificate = 'Gui';
    });
    commitStaged(h.deps.home, 'test', 'gui certificate');
    let v = validateConfig(h.deps.home.store.committed().config);
    assert.ok(v.ok);
    await h.tg.gateway.apply(v.config);
    await server.apply(v.config);
    assert.equal((await get(port, '/login')).peerCn, 'gui.gw.test');

    editStaged(h.deps.home, 'test', 'gui edit', (d) => {
      d.gui.port = newPort;
    });
    commitStaged(h.deps.home, 'test', 'gui port');
    v = validateConfig(h.deps.home.store.committed().config);
    assert.ok(v.ok);
    await h.tg.gateway.apply(v.config);
    await server.apply(v.config);
    assert.equal((await get(newPort, '/login')).status, 200);
    await assert.rejects(get(port, '/login'), /ECONNREFUSED/);
    await server.stop();
    await assert.rejects(get(newPort, '/login'), /ECONNREFUSED/);
  });
});
