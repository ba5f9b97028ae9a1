/**
 * Unit tests of the alert dispatcher: class × severity routing, debounce on a
 * fake clock (also across a restart, from the history), the history lines,
 * alerts nobody subscribes to, a failed injection, and the mail-log line.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testConfig } from '../../test/harness/edit-fixture.js';
import type { Config } from '../config/schema.js';
import type { MailEvent } from '../logging/mail-events.js';
import type { Alert } from './alert.js';
import { AlertDispatcher, alertSender } from './alert-dispatcher.js';
import { alertHistoryFile } from './alert-history-file.js';

interface Rig {
  dispatcher: AlertDispatcher;
  clock: { t: number; now(): number };
  injected: { from: string; recipients: string[]; body: string }[];
  events: MailEvent[];
  history(): Record<string, unknown>[];
  stateDir: string;
}

function rig(config: Config, stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-alerts-')), fail = false): Rig {
  const clock = { t: Date.UTC(2030, 0, 1), now(): number { return this.t; } };
  const injected: Rig['injected'] = [];
  const events: MailEvent[] = [];
  let mid = 100;
  const dispatcher = new AlertDispatcher({
    config: () => config,
    clock,
    historyFile: alertHistoryFile(stateDir),
    log: { emit: (e) => events.push(e) },
    inject: async (m) => {
      if (fail) throw new Error('spool is full');
      injected.push({ from: m.from, recipients: m.recipients, body: m.body.toString('utf8') });
      return ++mid;
    },
  });
  const history = (): Record<string, unknown>[] => {
    const f = alertHistoryFile(stateDir);
    return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) : [];
  };
  return { dispatcher, clock, injected, events, history, stateDir };
}

function configWith(recipients: Config['alerts']['recipients'], edit: (c: Config) => void = () => {}): Config {
  const c = testConfig();
  c.alerts.recipients = recipients;
  edit(c);
  return c;
}

const tlsAlert: Alert = { key: 'required-tls:dest.test', classes: ['system', 'tls'], severity: 'warning', subject: 'TLS required for dest.test', lines: ['Reason: STARTTLS not offered'] };
const certAlert: Alert = { key: 'certificate-expiry:x', classes: ['certificates'], severity: 'critical', subject: 'Certificate profile "web" expires today', lines: ['today'] };

describe('AlertDispatcher', () => {
  test('routes by class × severity: one class and the severity must both be subscribed', async () => {
    const r = rig(
      configWith([
        { address: 'noc@ops.test', classes: ['tls'], severities: ['warning', 'critical'] },
        { address: 'certs@ops.test', classes: ['certificates'], severities: ['critical', 'warning', 'info'] },
        { address: 'sys-critical@ops.test', classes: ['system'], severities: ['critical'] },
      ]),
    );
    const a = await r.dispatcher.raise(tlsAlert);
    assert.equal(a.kind, 'sent');
    assert.deepEqual(r.injected[0]?.recipients, ['noc@ops.test'], 'certificates-only and critical-only recipients get no TLS warning');
    const b = await r.dispatcher.raise(certAlert);
    assert.equal(b.kind, 'sent');
    assert.deepEqual(r.injected[1]?.recipients, ['certs@ops.test']);
    assert.equal(r.injected[0]?.from, '', 'envelope sender is <>: a bounced alert never produces a DSN');
  });

  test('debounce: the same key is dropped within debounceMinutes, sent again after; other keys are independent', async () => {
    const r = rig(configWith([{ address: 'noc@ops.test', classes: ['tls'], severities: ['warning'] }], (c) => (c.alerts.debounceMinutes = 30)));
    assert.equal((await r.dispatcher.raise(tlsAlert)).kind, 'sent');
    r.clock.t += 29 * 60_000;
    assert.equal((await r.dispatcher.raise(tlsAlert)).kind, 'debounced');
    assert.equal((await r.dispatcher.raise({ ...tlsAlert, key: 'required-tls:other.test' })).kind, 'sent');
    r.clock.t += 60_000;
    assert.equal((await r.dispatcher.raise(tlsAlert)).kind, 'sent');
    assert.equal(r.injected.length, 3);
    // Two raises in the same tick: one message.
    r.clock.t += 31 * 60_000;
    const [x, y] = await Promise.all([r.dispatcher.raise(tlsAlert), r.dispatcher.raise(tlsAlert)]);
    assert.deepEqual([x.kind, y.kind], ['sent', 'debounced']);
  });

  test('the debounce survives a restart (seeded from the history)', async () => {
    const config = configWith([{ address: 'noc@ops.test', classes: ['tls'], severities: ['warning'] }]);
    const first = rig(config);
    await first.dispatcher.raise(tlsAlert);
    const second = rig(config, first.stateDir);
    second.clock.t = first.clock.t + 10 * 60_000;
    assert.equal((await second.dispatcher.raise(tlsAlert)).kind, 'debounced');
    second.clock.t = first.clock.t + 61 * 60_000;
    assert.equal((await second.dispatcher.raise(tlsAlert)).kind, 'sent');
  });

  test('history: one line per raised alert with class, classes, severity, subject, recipients, sent, MID; unsent ones too', async () => {
    const r = rig(configWith([{ address: 'noc@ops.test', classes: ['tls'], severities: ['warning'] }]));
    await r.dispatcher.raise(tlsAlert);
    assert.equal((await r.dispatcher.raise(certAlert)).kind, 'no-recipient');
    const [sent, unsent] = r.history();
    assert.deepEqual({ ...sent, time: undefined }, {
      time: undefined,
      key: 'required-tls:dest.test',
      class: 'system',
      classes: ['system', 'tls'],
      severity: 'warning',
      subject: 'TLS required for dest.test',
      recipients: ['noc@ops.test'],
      sent: true,
      mid: 101,
    });
    assert.equal(sent?.['time'], '2030-01-01T00:00:00.000Z');
    assert.equal(unsent?.['sent'], false);
    assert.equal(unsent?.['mid'], null);
    assert.deepEqual(unsent?.['recipients'], []);
    assert.equal(r.injected.length, 1, 'nothing queued without a recipient');
    const lines = r.events.map((e) => (e.event === 'system' ? e.text : ''));
    assert.ok(lines.includes('Alert MID 101 queued (system,tls warning) to <noc@ops.test>: [Gatehouse warning] TLS required for dest.test'), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('Alert not sent (certificates critical): no recipient subscribes to it')), lines.join('\n'));
    assert.equal((fs.statSync(alertHistoryFile(r.stateDir)).mode & 0o777).toString(8), '600');
  });

  test('a failed injection is logged and recorded, and the next raise tries again', async () => {
    const config = configWith([{ address: 'noc@ops.test', classes: ['tls'], severities: ['warning'] }]);
    const r = rig(config, undefined, true);
    const out = await r.dispatcher.raise(tlsAlert);
    assert.deepEqual(out, { kind: 'failed', error: 'spool is full' });
    assert.equal(r.history()[0]?.['sent'], false);
    assert.match(String(r.history()[0]?.['note']), /could not be queued: spool is full/);
    assert.equal((await r.dispatcher.raise(tlsAlert)).kind, 'failed', 'not debounced after a failure');
  });

  test('From: alerts.from, else gatehouse@<hostname>', () => {
    const c = testConfig();
    assert.equal(alertSender(c), 'gatehouse@gw.test');
    c.alerts.from = 'alerts@example.com';
    assert.equal(alertSender(c), 'alerts@example.com');
  });
});
