import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSyslogMessage, formatSyslogTimestamp, octetCountingFrame, syslogPri, utf8Truncated } from './syslog-message.js';

test('PRI is facility × 8 + severity: Info 6, Warning 4, Critical 2', () => {
  assert.equal(syslogPri('mail', 'Info'), 22);
  assert.equal(syslogPri('mail', 'Warning'), 20);
  assert.equal(syslogPri('mail', 'Critical'), 18);
  assert.equal(syslogPri('local0', 'Info'), 134);
  assert.equal(syslogPri('local7', 'Warning'), 188);
  assert.equal(syslogPri('local3', 'Critical'), 154);
});

test('timestamp: local time, month name, day of month space-padded, two-digit clock', () => {
  assert.equal(formatSyslogTimestamp(new Date(2026, 10, 9, 8, 5, 3)), 'Nov  9 08:05:03');
  assert.equal(formatSyslogTimestamp(new Date(2026, 0, 31, 23, 59, 59)), 'Jan 31 23:59:59');
  assert.equal(formatSyslogTimestamp(new Date(2027, 4, 1, 0, 0, 0)), 'May  1 00:00:00');
});

test('message: <PRI>timestamp HOST TAG: Level: text', () => {
  const time = new Date(2026, 3, 7, 0, 57, 53).getTime();
  const header = { facility: 'mail' as const, hostname: 'gw.example.com', tag: 'mail_logs' };
  assert.equal(
    formatSyslogMessage(header, { time, level: 'Info', text: 'Start MID 7 ICID 3' }),
    '<22>Apr  7 00:57:53 gw.example.com mail_logs: Info: Start MID 7 ICID 3',
  );
  assert.equal(
    formatSyslogMessage({ ...header, facility: 'local5', tag: 'gatehouse' }, { time, level: 'Warning', text: 'ICID 3 TLS client certificate rejected: none' }),
    '<172>Apr  7 00:57:53 gw.example.com gatehouse: Warning: ICID 3 TLS client certificate rejected: none',
  );
});

test('truncation keeps whole UTF-8 characters and says whether it cut', () => {
  assert.deepEqual(utf8Truncated('abc', 3), { bytes: Buffer.from('abc'), truncated: false });
  assert.deepEqual(utf8Truncated('abcdef', 4), { bytes: Buffer.from('abcd'), truncated: true });
  // 'é' is 2 bytes, '€' is 3: a cut inside either drops the whole character.
  assert.equal(utf8Truncated('aé', 2).bytes.toString('utf8'), 'a');
  assert.equal(utf8Truncated('ab€', 4).bytes.toString('utf8'), 'ab');
  assert.equal(utf8Truncated('ab€', 5).bytes.toString('utf8'), 'ab€');
  assert.equal(utf8Truncated('ab€x', 5).bytes.toString('utf8'), 'ab€');
  // A 4-byte character (emoji) cut at each position.
  for (const max of [2, 3, 4]) assert.equal(utf8Truncated('a😀', max).bytes.toString('utf8'), 'a');
  const long = utf8Truncated('é'.repeat(3000), 2048);
  assert.ok(long.bytes.length <= 2048);
  assert.equal(long.bytes.toString('utf8'), 'é'.repeat(1024));
});

test('octet-counting frame: byte length, a space, the message', () => {
  assert.equal(octetCountingFrame(Buffer.from('<22>hello')).toString('utf8'), '9 <22>hello');
  assert.equal(octetCountingFrame(Buffer.from('€')).toString('utf8'), '3 €');
});
