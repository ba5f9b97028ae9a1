/**
 * `alertconfig setup` thresholds and `alertconfig list` / `history` through
 * the built CLI: the new flags are staged, shown, validated (exit 1 with the
 * field), and an alert that was not sent says so in the history.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { cliHome, ok, refused, type CliHome } from '../cli/cli-home.js';

describe('alertconfig thresholds', () => {
  let h: CliHome;
  before(async () => {
    h = await cliHome();
  });

  test('setup stages the thresholds and list shows them; out-of-range values are refused with the field', async () => {
    const defaults = ok(await h.gh(['alertconfig', 'list']));
    assert.match(defaults, /From:\s+\(default\)/);
    assert.match(defaults, /TLS handshake failures:\s+more than 20 in 10 minutes/);
    assert.match(defaults, /Queue growth:\s+more than 1000 messages/);
    assert.match(defaults, /Check interval:\s+300 seconds/);
    ok(await h.gh(['alertconfig', 'setup', '--tls-failure-threshold', '50', '--tls-failure-window-minutes', '5', '--queue-threshold', '0', '--check-interval-seconds', '60']));
    const a = h.staged().alerts;
    assert.deepEqual([a.tlsFailureThreshold, a.tlsFailureWindowMinutes, a.queueThreshold, a.checkIntervalSeconds], [50, 5, 0, 60]);
    const list = ok(await h.gh(['alertconfig', 'list']));
    assert.match(list, /TLS handshake failures:\s+more than 50 in 5 minutes/);
    assert.match(list, /Queue growth:\s+off/);
    const [negative, zeroWindow, nothing, notNumber] = await Promise.all([
      h.gh(['alertconfig', 'setup', '--queue-threshold', '-1']),
      h.gh(['alertconfig', 'setup', '--tls-failure-window-minutes', '0']),
      h.gh(['alertconfig', 'setup']),
      h.gh(['alertconfig', 'setup', '--queue-threshold', 'many']),
    ]);
    refused(negative, 1, /alerts\.queueThreshold: must be 0 or more/);
    refused(zeroWindow, 1, /alerts\.tlsFailureWindowMinutes: must be greater than 0/);
    refused(nothing, 2, /--from, --debounce-minutes, --check-interval-seconds/);
    refused(notNumber, 2, /"many" is not a whole number/);
  });

  test('history: an alert nobody subscribed to is listed as not sent', async () => {
    const line = { time: '2026-01-02T00:00:00.000Z', key: 'queue-growth', class: 'queue', classes: ['queue'], severity: 'warning', subject: '1001 messages in the queue (threshold 1000)', recipients: [], sent: false, mid: null, note: 'no recipient subscribes to this class and severity' };
    fs.writeFileSync(path.join(h.home, 'state', 'alert-history.jsonl'), `${JSON.stringify(line)}\n`);
    const text = ok(await h.gh(['alertconfig', 'history']));
    assert.match(text, /\n2026-01-02T00:00:00\.000Z\s+queue\s+warning\s+1001 messages in the queue \(threshold 1000\)\s+\(not sent: no recipient subscribes to this class and severity\)\n/);
  });
});
