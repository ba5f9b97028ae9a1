/**
 * Mail logs, message tracking and the TLS report through the GUI's API and
 * pages, in-process against a test gateway: a message just received tracked
 * by MID, sender and recipient, the log searched and tailed, the report as
 * hourly series for the charts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SmtpTestClient } from '../harness/smtp-test-client.js';
import { startGuiHarness, type GuiHarness, type GuiClient } from './gui-client.js';

describe('GUI tracking and report API', () => {
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

  test('a received message can be tracked by MID, sender and recipient; the log can be searched', async () => {
    const smtp = await SmtpTestClient.connect(h.tg.port('OutgoingMail'));
    await smtp.read();
    await smtp.command('EHLO client.test');
    const reply = await smtp.send('alice@sender.test', ['bob@rcpt.test'], 'Subject: tracked\r\n\r\nhello\r\n');
    assert.equal(reply.code, 250, JSON.stringify(reply));
    await smtp.command('QUIT');
    smtp.close();
    await h.tg.waitForLog(/MID \d+ ready \d+ bytes from <alice@sender\.test>/);
    const byFrom = await c.api('GET', '/api/tracking?from=alice@sender.test');
    assert.equal(byFrom.status, 200, JSON.stringify(byFrom.json));
    const messages = byFrom.json['messages'] as { mid: number; from: string; recipients: { to: string }[] }[];
    assert.equal(messages.length, 1);
    assert.equal(messages[0]?.recipients[0]?.to, 'bob@rcpt.test');
    const mid = messages[0]!.mid;
    const byMid = await c.api('GET', `/api/tracking?mid=${mid}`);
    assert.equal((byMid.json['messages'] as { mid: number }[])[0]?.mid, mid);
    const byTo = await c.api('GET', '/api/tracking?to=rcpt.test&since=1h');
    assert.ok((byTo.json['messages'] as { mid: number }[]).some((m) => m.mid === mid));
    assert.equal((await c.api('GET', '/api/tracking')).status, 400, 'a query is required');

    const page = await (await c.request(`/tracking?mid=${mid}`)).text();
    assert.match(page, /alice@sender\.test/);
    const grep = await c.api('GET', `/api/logs/grep?pattern=${encodeURIComponent(`MID ${mid} ICID`)}`);
    assert.ok((grep.json['lines'] as string[]).some((l) => l.includes('From: <alice@sender.test>')), JSON.stringify(grep.json));
    assert.equal((await c.api('GET', '/api/logs/grep?pattern=(')).status, 400);
    const tail = await c.api('GET', '/api/logs/tail?n=5');
    assert.equal((tail.json['lines'] as string[]).length, 5);
  });

  test('the TLS report gives hourly series for the charts and per-domain rows', async () => {
    const r = await c.api('GET', '/api/report/tls?since=24h');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const report = r.json['report'] as { inbound: { series: { time: number[]; plaintext: number[] } }; outbound: { domains: unknown[] } };
    assert.ok(report.inbound.series.time.length >= 24);
    assert.equal(report.inbound.series.plaintext.length, report.inbound.series.time.length);
    assert.equal((await c.api('GET', '/api/report/tls?since=soon')).status, 400);
    const page = await (await c.request('/report?since=7d')).text();
    assert.match(page, /<script type="application\/json" id="report-data">\{"inbound":\{"time":\[/);
    assert.match(page, /<script src="\/static\/uplot\.js" defer(="")?><\/script>/);
  });
});
