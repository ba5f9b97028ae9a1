import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MailEventTap } from './mail-event-tap.js';
import type { MailEvent } from './mail-events.js';

test('the tap logs each event, then hands it to subscribers with the time', () => {
  const logged: MailEvent[] = [];
  const tap = new MailEventTap({ emit: (e) => logged.push(e) }, { now: () => 42 });
  const seen: [string, number][] = [];
  const stop = tap.subscribe((e, t) => seen.push([e.event, t]));
  tap.emit({ event: 'system', text: 'one' });
  stop();
  tap.emit({ event: 'system', text: 'two' });
  assert.equal(logged.length, 2);
  assert.deepEqual(seen, [['system', 42]]);
});

test('a subscriber that throws is removed and reported; the others still run', () => {
  const logged: MailEvent[] = [];
  const tap = new MailEventTap({ emit: (e) => logged.push(e) }, { now: () => 0 });
  let good = 0;
  tap.subscribe(() => {
    throw new Error('boom');
  });
  tap.subscribe(() => good++);
  tap.emit({ event: 'system', text: 'a' });
  tap.emit({ event: 'system', text: 'b' });
  assert.equal(good, 2);
  const reports = logged.filter((e) => e.event === 'system' && e.text.includes('subscriber failed'));
  assert.equal(reports.length, 1);
  assert.match(reports[0]!.event === 'system' ? reports[0]!.text : '', /boom/);
});
