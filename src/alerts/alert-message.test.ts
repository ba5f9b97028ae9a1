/** Unit tests of alert email composition: RFC 5322 headers, MIME, encodings, header injection. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { composeAlertMessage, encodeHeaderText, rfc5322Date } from './alert-message.js';

const now = new Date(Date.UTC(2030, 0, 2, 3, 4, 5));

function split(body: Buffer): { headers: Map<string, string>; text: string } {
  const s = body.toString('utf8');
  const end = s.indexOf('\r\n\r\n');
  const headers = new Map<string, string>();
  for (const h of s.slice(0, end).replace(/\r\n[ \t]/g, ' ').split('\r\n')) {
    const i = h.indexOf(':');
    headers.set(h.slice(0, i), h.slice(i + 2));
  }
  return { headers, text: s.slice(end + 4) };
}

describe('composeAlertMessage', () => {
  test('RFC 5322 headers, text/plain, 7bit for ASCII, CRLF only', () => {
    const m = composeAlertMessage({
      alert: { key: 'queue-growth', classes: ['queue'], severity: 'warning', subject: '1200 messages in the queue', lines: ['The queue holds 1200 messages.'] },
      from: 'gatehouse@gw.test',
      to: ['a@ops.test', 'b@ops.test'],
      hostname: 'gw.test',
      now,
    });
    const { headers, text } = split(m.body);
    assert.equal(headers.get('Date'), 'Wed, 02 Jan 2030 03:04:05 +0000');
    assert.equal(headers.get('From'), 'gatehouse@gw.test');
    assert.equal(headers.get('To'), 'a@ops.test, b@ops.test');
    assert.equal(headers.get('Subject'), '[Gatehouse warning] 1200 messages in the queue');
    assert.match(headers.get('Message-ID') ?? '', /^<alert\.[0-9a-z]+\.[0-9a-f]{12}@gw\.test>$/);
    assert.equal(headers.get('Message-ID'), m.messageId);
    assert.equal(headers.get('MIME-Version'), '1.0');
    assert.equal(headers.get('Content-Type'), 'text/plain; charset=utf-8');
    assert.equal(headers.get('Content-Transfer-Encoding'), '7bit');
    assert.equal(headers.get('Auto-Submitted'), 'auto-generated');
    assert.equal(headers.get('X-Gatehouse-Alert-Key'), 'queue-growth');
    assert.match(text, /^The queue holds 1200 messages\.\r\n/);
    assert.ok(!/[^\r]\n/.test(m.body.toString('latin1')), 'no bare LF');
    assert.ok(m.body.every((b) => b < 0x80), '7-bit');
  });

  test('outside text cannot inject headers; non-ASCII subject is RFC 2047, non-ASCII body is base64', () => {
    const m = composeAlertMessage({
      alert: { key: 'k', classes: ['certificates'], severity: 'info', subject: 'Zertifikat "Grüße"\r\nBcc: evil@x.test', lines: ['CN=Bücher\r\nX-Evil: 1'] },
      from: 'gatehouse@gw.test',
      to: ['a@ops.test'],
      hostname: 'gw.test',
      now,
    });
    const { headers, text } = split(m.body);
    assert.ok(!headers.has('Bcc') && !headers.has('X-Evil'));
    assert.ok(m.body.every((b) => b < 0x80), '7-bit');
    const subject = headers.get('Subject') ?? '';
    const decoded = [...subject.matchAll(/=\?UTF-8\?B\?([^?]+)\?=/g)].map((x) => Buffer.from(x[1]!, 'base64').toString('utf8')).join('');
    assert.equal(decoded, '[Gatehouse info] Zertifikat "Grüße" Bcc: evil@x.test');
    assert.equal(headers.get('Content-Transfer-Encoding'), 'base64');
    assert.match(Buffer.from(text.replace(/\r\n/g, ''), 'base64').toString('utf8'), /^CN=Bücher X-Evil: 1\r\n/);
  });

  test('encoded words stay within 75 characters; dates are RFC 5322', () => {
    for (const w of encodeHeaderText('ü'.repeat(200)).split('\r\n ')) assert.ok(w.length <= 75, w);
    assert.equal(encodeHeaderText('plain'), 'plain');
    assert.equal(rfc5322Date(new Date(Date.UTC(2026, 10, 9, 23, 0, 1))), 'Mon, 09 Nov 2026 23:00:01 +0000');
  });
});
