import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dotStuff, has8BitBytes } from './dot-stuff.js';

const stuff = (s: string): string => dotStuff(Buffer.from(s, 'latin1')).toString('latin1');

test('leading dots are doubled, CRLF kept, final CRLF added', () => {
  assert.equal(stuff('.\r\n..\r\n.foo\r\nbar'), '..\r\n...\r\n..foo\r\nbar\r\n');
  assert.equal(stuff('a\r\n'), 'a\r\n');
  assert.equal(stuff(''), '\r\n');
});

test('outbound smuggling: bare CR and bare LF become CRLF and the dot after them is stuffed', () => {
  for (const sep of ['\n', '\r', '\r\n', '\r\r\n']) {
    const out = stuff(`a${sep}.\r\nMAIL FROM:<x@y>\r\n`);
    assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(out), `no bare CR/LF for ${JSON.stringify(sep)}: ${JSON.stringify(out)}`);
    assert.ok(!/(^|\r\n)\.\r\n/.test(out), `no lone dot line for ${JSON.stringify(sep)}: ${JSON.stringify(out)}`);
    assert.ok(out.includes('..\r\nMAIL FROM:<x@y>\r\n'));
  }
});

test('8-bit detection', () => {
  assert.equal(has8BitBytes(Buffer.from('plain ascii\r\n')), false);
  assert.equal(has8BitBytes(Buffer.from('caf\u00e9', 'utf8')), true);
});
