import assert from 'node:assert/strict';
import { test } from 'node:test';
import { downgradeTo7bit, quotedPrintable } from './eight-bit-downgrade.js';

/** RFC 2045 §6.7 decoding (soft breaks removed, =XX decoded), for round trips. */
function decodeQp(s: string): Buffer {
  const unfolded = s.replace(/=\r\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < unfolded.length; i++) {
    if (unfolded[i] === '=') {
      out.push(parseInt(unfolded.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(unfolded.charCodeAt(i));
  }
  return Buffer.from(out);
}

const split = (b: Buffer): [string, string] => {
  const s = b.toString('latin1');
  const i = s.indexOf('\r\n\r\n');
  return [s.slice(0, i + 2), s.slice(i + 4)];
};

test('text/plain 8bit → quoted-printable: 7-bit only, lines of at most 76, exact round trip, header relabelled', () => {
  const text = `Grüße aus Köln = 100 €\r\n${'ä'.repeat(60)}\r\ntrailing space \r\ntab\t\r\n.dot line\r\nbare\nLF and bare\rCR\r\n`;
  const message = Buffer.concat([Buffer.from('Subject: hi\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'), Buffer.from(text, 'utf8')]);
  const r = downgradeTo7bit(message);
  assert.equal(r.kind, 'converted');
  if (r.kind !== 'converted') return;
  assert.ok(r.body.every((b) => b < 0x80), '7-bit only');
  const [head, body] = split(r.body);
  assert.equal(head, 'Subject: hi\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n');
  for (const line of body.split('\r\n')) assert.ok(line.length <= 76, `line of ${line.length}: ${line}`);
  assert.match(body, /^Gr=C3=BC=C3=9Fe aus K=C3=B6ln =3D 100 =E2=82=AC\r\n/);
  assert.match(body, /\r\ntrailing space=20\r\ntab=09\r\n\.dot line\r\nbare=0ALF and bare=0DCR\r\n$/);
  assert.deepEqual(decodeQp(body), Buffer.from(text, 'utf8'));
});

test('no Content-Type: labelled text/plain; charset=unknown-8bit (RFC 1428), MIME-Version added', () => {
  const r = downgradeTo7bit(Buffer.from('Subject: old\r\n\r\ncaf\xe9\r\n', 'latin1'));
  assert.equal(r.kind, 'converted');
  if (r.kind !== 'converted') return;
  assert.equal(r.body.toString('latin1'), 'Subject: old\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=unknown-8bit\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9\r\n');
});

test('refused: multipart, non-text, binary, 8-bit inside base64/qp, 8-bit headers, no separator', () => {
  const cases: [string, RegExp][] = [
    ['Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\n\xe9\r\n--x--\r\n', /multipart\/mixed/],
    ['Content-Type: message/rfc822\r\n\r\n\xe9\r\n', /message\/rfc822/],
    ['Content-Type: application/octet-stream\r\n\r\n\xe9\r\n', /application\/octet-stream/],
    ['Content-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\r\n\xe9\r\n', /binary/],
    ['Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n\xe9\r\n', /base64/],
    ['Subject: caf\xe9\r\n\r\nx\r\n', /header section/],
    ['Subject: no body separator\xe9', /separator/],
  ];
  for (const [m, reason] of cases) {
    const r = downgradeTo7bit(Buffer.from(m, 'latin1'));
    assert.equal(r.kind, 'refused', m);
    if (r.kind === 'refused') assert.match(r.reason, reason);
  }
});

test('soft breaks never split an =XX escape; a folded Content-Transfer-Encoding is replaced whole', () => {
  for (let n = 70; n < 80; n++) {
    const line = Buffer.concat([Buffer.from('a'.repeat(n)), Buffer.from([0xe9, 0xe9, 0xe9])]);
    const qp = quotedPrintable(Buffer.concat([line, Buffer.from('\r\n')]));
    for (const l of qp.split('\r\n')) {
      assert.ok(l.length <= 76);
      assert.doesNotMatch(l, /=[0-9A-F]?=$|=[0-9A-F]$/, `escape split: ${l}`);
    }
    assert.deepEqual(decodeQp(qp), Buffer.concat([line, Buffer.from('\r\n')]));
  }
  const r = downgradeTo7bit(Buffer.from('Content-Transfer-Encoding:\r\n 8bit\r\nSubject: s\r\n\r\n\xe9\r\n', 'latin1'));
  assert.equal(r.kind === 'converted' && r.body.toString('latin1').split('\r\n\r\n')[0], 'Subject: s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=unknown-8bit\r\nContent-Transfer-Encoding: quoted-printable');
});
