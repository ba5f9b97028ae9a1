/**
 * The TLS Verify API in-process against a test gateway: tlsverify against the
 * gateway's own listener (steps as JSON, and streamed one line per step) and
 * validation errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGuiHarness, type GuiHarness, type GuiClient } from './gui-client.js';

describe('GUI TLS Verify API', () => {
  let h: GuiHarness;
  let c: GuiClient;
  before(async () => {
    h = await startGuiHarness();
    c = h.client();
    await c.loginOk();
  });
  after(async () => {
    await h.stop();
  });

  test('tlsverify against the listener returns every step; the demo certificate does not verify', async () => {
    const port = h.tg.port('IncomingMail');
    const r = await c.api('POST', '/api/tools/tlsverify', { domain: 'gw.test', host: `127.0.0.1:${port}` });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const result = r.json['result'] as { verified: boolean; reason: string | null; steps: { text: string; status: string }[] };
    const texts = result.steps.map((s) => s.text);
    assert.ok(texts.includes(`Connecting to 127.0.0.1 on port ${port}.`), texts.join('\n'));
    assert.ok(texts.some((t) => /^TLS connection established: protocol TLSv1\.[23], cipher \S+\.$/.test(t)), texts.join('\n'));
    assert.equal(result.verified, false);
    assert.ok(result.reason !== null && result.reason !== '');
    assert.ok(texts.at(-1)?.startsWith('TLS verification failed: '), texts.at(-1));
  });

  test('with ?stream=1 each step arrives as its own JSON line, then the result', async () => {
    const port = h.tg.port('IncomingMail');
    const res = await c.request('/api/tools/tlsverify?stream=1', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': c.csrfToken ?? '' },
      body: JSON.stringify({ domain: 'gw.test', host: `127.0.0.1:${port}` }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/x-ndjson/);
    const lines = (await res.text())
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { step?: { text: string }; ok?: boolean; result?: { steps: unknown[] } });
    const steps = lines.filter((l) => l.step !== undefined);
    assert.ok(steps.length >= 4, JSON.stringify(lines));
    assert.equal(steps[0]?.step?.text.startsWith('Connecting to 127.0.0.1'), true, JSON.stringify(steps[0]));
    const last = lines.at(-1);
    assert.equal(last?.ok, true);
    assert.equal(last?.result?.steps.length, steps.length);
  });

  test('a missing domain is a 400 naming the field', async () => {
    const r = await c.api('POST', '/api/tools/tlsverify', { host: '127.0.0.1:25' });
    assert.equal(r.status, 400);
    assert.ok((r.json['fields'] as Record<string, string>)['domain'], JSON.stringify(r.json));
    const bad = await c.api('POST', '/api/tools/checktls', { domain: '' });
    assert.equal(bad.status, 400);
  });

});
