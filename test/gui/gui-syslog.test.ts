/**
 * Syslog forwarding through the GUI and API: the Configuration page shows the
 * settings, PATCH /api/config/logging stages them (refusing a bad target with
 * the reason), and a commit turns forwarding on in the running gateway.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGuiHarness, type GuiHarness } from './gui-client.js';
import { startUdpSyslogReceiver, type SyslogReceiver } from '../harness/syslog-receiver.js';

describe('syslog settings in the GUI and API', () => {
  let h: GuiHarness;
  let rx: SyslogReceiver;
  before(async () => {
    h = await startGuiHarness();
    rx = await startUdpSyslogReceiver();
  });
  after(async () => {
    await h.stop();
    await rx.close();
  });

  test('page, staged edit, refusal, commit applied', async () => {
    const c = h.client();
    await c.loginOk();
    const page = await (await c.request('/configuration')).text();
    assert.match(page, /Mail log to syslog/);
    assert.match(page, /name="syslogTarget"[^>]*value="off"|value="off"[^>]*name="syslogTarget"/);

    const bad = await c.api('PATCH', '/api/config/logging', { syslogTarget: 'udp:logs.example.com:514' });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.json), /logs\.example\.com is not an IPv4 address \(host names are not accepted\)/);
    assert.equal(h.deps.home.store.working().logging.mailLog.syslog.target, null, 'nothing staged');

    const good = await c.api('PATCH', '/api/config/logging', { syslogTarget: rx.target, syslogFacility: 'local0', syslogTag: 'esa' });
    assert.equal(good.status, 200, JSON.stringify(good.json));
    const read = await c.api('GET', '/api/config/logging');
    assert.deepEqual((read.json['mailLog'] as { syslog: unknown }).syslog, { target: rx.target, facility: 'local0', tag: 'esa', queueLines: 10000 });
    assert.equal(h.tg.gateway.syslogStats(), null, 'not applied before commit');

    const commit = await c.api('POST', '/api/config/commit', { comment: 'syslog' });
    assert.equal(commit.status, 200, JSON.stringify(commit.json));
    assert.equal(h.tg.gateway.syslogStats()?.target, rx.target);
    const applied = await rx.waitFor(/ esa: Info: Configuration applied$/);
    assert.equal(applied.slice(0, 5), `<${16 * 8 + 6}>`);
  });
});
