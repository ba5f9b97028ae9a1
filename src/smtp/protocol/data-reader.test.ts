import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DataReader, type DataReaderOptions, type DataResult } from './data-reader.js';
import { seededRandom as rng } from '../../../test/harness/seeded-random.js';

const OPTS: DataReaderOptions = { maxBytes: 10 * 1024 * 1024, bareLineEndings: 'normalize' };

/** Feeds `chunks` until done; returns the result and the rest (or null if never done). */
function run(chunks: readonly Buffer[], opts: DataReaderOptions = OPTS): { result: DataResult; rest: Buffer; doneAt: number } | null {
  const r = new DataReader(opts);
  for (let i = 0; i < chunks.length; i++) {
    const out = r.push(chunks[i]!);
    if (out.done) {
      const tail = Buffer.concat([out.rest, ...chunks.slice(i + 1)]);
      return { result: r.result(), rest: tail, doneAt: i };
    }
  }
  return null;
}

function runAll(data: Buffer | string, opts?: DataReaderOptions): { result: DataResult; rest: Buffer } {
  const out = run([typeof data === 'string' ? Buffer.from(data, 'latin1') : data], opts);
  assert.ok(out !== null, 'expected end of data');
  return out;
}

/** Every CR is followed by LF and every LF preceded by CR. */
function assertNoBareCrLf(b: Buffer): void {
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x0d) assert.equal(b[i + 1], 0x0a, `bare CR at ${i} in ${JSON.stringify(b.toString('latin1'))}`);
    if (b[i] === 0x0a) assert.equal(b[i - 1], 0x0d, `bare LF at ${i} in ${JSON.stringify(b.toString('latin1'))}`);
  }
}

/** RFC 5321 §4.5.2 dot-stuffing of a CRLF body (what a compliant client sends), plus the terminator. */
function stuff(body: Buffer): Buffer {
  const s = body.toString('latin1');
  const stuffed = s.replace(/^\./, '..').replace(/\r\n\./g, '\r\n..');
  const withEnd = stuffed.length === 0 || stuffed.endsWith('\r\n') ? stuffed : `${stuffed}\r\n`;
  return Buffer.from(`${withEnd}.\r\n`, 'latin1');
}


function splitRandom(data: Buffer, rand: () => number, maxPiece: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; ) {
    const n = 1 + Math.floor(rand() * maxPiece);
    out.push(data.subarray(i, i + n));
    i += n;
  }
  return out;
}

// ---- basics ---------------------------------------------------------------------

test('simple message, pipelined rest returned', () => {
  const { result, rest } = runAll('Subject: hi\r\n\r\nHello\r\n.\r\nQUIT\r\n');
  assert.equal(result.body.toString(), 'Subject: hi\r\n\r\nHello\r\n');
  assert.equal(result.size, result.body.length);
  assert.equal(result.sizeExceeded, false);
  assert.equal(result.bareLineEndings, 0);
  assert.equal(result.longLines, 0);
  assert.equal(result.nulBytes, 0);
  assert.equal(rest.toString(), 'QUIT\r\n');
});

test('terminator as the very first bytes: empty body', () => {
  const { result, rest } = runAll('.\r\nMAIL FROM:<a@b>\r\n');
  assert.equal(result.body.length, 0);
  assert.equal(rest.toString(), 'MAIL FROM:<a@b>\r\n');
});

test('not done without the terminator; push after done throws; result before done throws', () => {
  const r = new DataReader(OPTS);
  assert.deepEqual(r.push(Buffer.from('abc\r\n')), { done: false });
  assert.throws(() => r.result());
  assert.equal(r.done, false);
  const out = r.push(Buffer.from('.\r\n'));
  assert.equal(out.done, true);
  assert.equal(r.done, true);
  assert.throws(() => r.push(Buffer.from('x')));
});

test('empty pushes are harmless', () => {
  const r = new DataReader(OPTS);
  assert.equal(r.push(Buffer.alloc(0)).done, false);
  assert.equal(r.push(Buffer.from('a\r\n.\r')).done, false);
  assert.equal(r.push(Buffer.alloc(0)).done, false);
  const out = r.push(Buffer.from('\n'));
  assert.ok(out.done && out.rest.length === 0);
  assert.equal(r.result().body.toString(), 'a\r\n');
});

// ---- dot-unstuffing ---------------------------------------------------------------

test('dot-unstuffing', () => {
  const cases: Array<[string, string]> = [
    ['..\r\n.\r\n', '.\r\n'],
    ['...\r\n.\r\n', '..\r\n'],
    ['..foo\r\n.\r\n', '.foo\r\n'],
    ['a\r\n..\r\nb\r\n.\r\n', 'a\r\n.\r\nb\r\n'],
    ['a\r\n..b\r\n..\r\n.\r\n', 'a\r\n.b\r\n.\r\n'],
    ['a.\r\n b..\r\n.\r\n', 'a.\r\n b..\r\n'],
    // RFC 5321 §4.5.2: a leading '.' on any longer line is removed (unstuffed by a sloppy client)
    ['.foo\r\n.\r\n', 'foo\r\n'],
  ];
  for (const [input, body] of cases) {
    assert.equal(runAll(input).result.body.toString('latin1'), body, JSON.stringify(input));
  }
});

test('last line "." (stuffed as "..") before the terminator', () => {
  const { result } = runAll('line\r\n..\r\n.\r\n');
  assert.equal(result.body.toString(), 'line\r\n.\r\n');
});

test('round trip: random dot-rich bodies, stuffed, random segmentation', () => {
  const rand = rng(42);
  const alphabet = ['.', '.', '.', '\r\n', '\r\n', 'a', 'b', ' ', '\0'];
  for (let iter = 0; iter < 400; iter++) {
    let s = '';
    const len = Math.floor(rand() * 200);
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    if (s.length > 0 && !s.endsWith('\r\n')) s += '\r\n';
    const body = Buffer.from(s, 'latin1');
    const wire = Buffer.concat([stuff(body), Buffer.from('NEXT\r\n')]);
    const pieces = splitRandom(wire, rand, 1 + Math.floor(rand() * 64));
    const out = run(pieces);
    assert.ok(out !== null, `not done for ${JSON.stringify(s)}`);
    assert.deepEqual(out.result.body, body, JSON.stringify(s));
    assert.equal(out.rest.toString(), 'NEXT\r\n');
    assert.equal(out.result.bareLineEndings, 0);
  }
});

// ---- terminator split --------------------------------------------------------------

test('terminator split at every byte position (two and three pieces)', () => {
  const wire = Buffer.from('Subject: x\r\n\r\nbody line\r\n..dot\r\n.\r\nRSET\r\n');
  const expected = 'Subject: x\r\n\r\nbody line\r\n.dot\r\n';
  for (let a = 0; a <= wire.length; a++) {
    const two = run([wire.subarray(0, a), wire.subarray(a)]);
    assert.ok(two !== null);
    assert.equal(two.result.body.toString(), expected, `split at ${a}`);
    assert.equal(two.rest.toString(), 'RSET\r\n', `split at ${a}`);
    for (let b = a; b <= wire.length; b++) {
      const three = run([wire.subarray(0, a), wire.subarray(a, b), wire.subarray(b)]);
      assert.ok(three !== null);
      assert.equal(three.result.body.toString(), expected, `split at ${a},${b}`);
      assert.equal(three.rest.toString(), 'RSET\r\n', `split at ${a},${b}`);
    }
  }
});

test('one byte at a time', () => {
  const wire = Buffer.from('a\r\n..\r\n.b\r\nc\nd\re\r\n.\r\nQUIT\r\n', 'latin1');
  const out = run([...wire].map((b) => Buffer.from([b])));
  assert.ok(out !== null);
  assert.equal(out.result.body.toString(), 'a\r\n.\r\nb\r\nc\r\nd\r\ne\r\n');
  assert.equal(out.result.bareLineEndings, 2);
  assert.equal(out.rest.toString(), 'QUIT\r\n');
});

// ---- SMTP smuggling matrix ------------------------------------------------------------

const SMUGGLE_SEQUENCES: Record<string, string> = {
  lflf: '\n.\n',
  crcr: '\r.\r',
  crlflf: '\r\n.\n',
  lfcrlf: '\n.\r\n',
  crlf: '\r.\n',
  lfcr: '\n.\r',
  crlfcr: '\r\n.\r',
  crcrlf: '\r.\r\n',
  nullbefore: '\r\n\0.\r\n',
  nullafter: '\r\n.\0\r\n',
  crlfcrcrlf: '\r\n.\r\r\n',
  lflflf: '\n\n.\n\n',
};

const SMUGGLED = 'MAIL FROM:<smuggled@spoofed.test>\r\nRCPT TO:<b@rcpt.test>\r\nDATA\r\nFrom: smuggled@spoofed.test\r\nSubject: smuggled\r\n\r\nevil';

for (const [name, seq] of Object.entries(SMUGGLE_SEQUENCES)) {
  test(`smuggling: ${name} does not end DATA`, () => {
    const wire = Buffer.from(`From: a@sender.test\r\nSubject: carrier\r\n\r\ncarrier body${seq}${SMUGGLED}\r\n.\r\nQUIT\r\n`, 'latin1');
    // whole, and split at every byte
    const variants: Buffer[][] = [[wire]];
    for (let k = 1; k < wire.length; k++) variants.push([wire.subarray(0, k), wire.subarray(k)]);
    for (const chunks of variants) {
      const out = run(chunks);
      assert.ok(out !== null, 'must end at the real terminator');
      assert.equal(out.rest.toString(), 'QUIT\r\n', 'done only at the real terminator');
      const body = out.result.body;
      assertNoBareCrLf(body);
      assert.ok(body.includes('MAIL FROM:<smuggled@spoofed.test>'), 'smuggled text stays inside the carrier');
      assert.ok(body.toString('latin1').endsWith('evil\r\n'));
    }
    const whole = run([wire]);
    assert.ok(whole !== null);
    const hasBare = /\r(?!\n)|(?<!\r)\n/.test(seq);
    assert.equal(whole.result.bareLineEndings > 0, hasBare, `bare count ${whole.result.bareLineEndings}`);
    if (seq.includes('\0')) assert.equal(whole.result.nulBytes, 1);
  });
}

test('smuggling: normalised bodies of each sequence', () => {
  const expect: Record<string, string> = {
    lflf: 'x\r\n.\r\ny\r\n',
    crcr: 'x\r\n.\r\ny\r\n',
    crlflf: 'x\r\n.\r\ny\r\n',
    lfcrlf: 'x\r\n.\r\ny\r\n',
    crlf: 'x\r\n.\r\ny\r\n',
    lfcr: 'x\r\n.\r\ny\r\n',
    crlfcr: 'x\r\n.\r\ny\r\n',
    crcrlf: 'x\r\n.\r\ny\r\n',
    nullbefore: 'x\r\n\0.\r\ny\r\n',
    nullafter: 'x\r\n\0\r\ny\r\n',
    crlfcrcrlf: 'x\r\n.\r\n\r\ny\r\n',
    lflflf: 'x\r\n\r\n.\r\n\r\ny\r\n',
  };
  for (const [name, seq] of Object.entries(SMUGGLE_SEQUENCES)) {
    const { result } = runAll(`x${seq}y\r\n.\r\n`);
    assert.equal(result.body.toString('latin1'), expect[name], name);
  }
});

test('bare CR and bare LF are normalised and counted; reject mode counts the same', () => {
  for (const mode of ['normalize', 'reject'] as const) {
    const { result } = runAll('a\nb\rc\r\r\nd\n\r\n.\r\n', { maxBytes: 1000, bareLineEndings: mode });
    assert.equal(result.body.toString(), 'a\r\nb\r\nc\r\n\r\nd\r\n\r\n');
    assert.equal(result.bareLineEndings, 4);
    assertNoBareCrLf(result.body);
  }
});

test('random hostile bytes never produce a bare CR/LF and end exactly at the first raw CRLF.CRLF', () => {
  const rand = rng(7);
  const alphabet = [0x2e, 0x2e, 0x0d, 0x0d, 0x0a, 0x0a, 0x41, 0x00];
  for (let iter = 0; iter < 2000; iter++) {
    const bytes: number[] = [];
    const len = Math.floor(rand() * 60);
    for (let i = 0; i < len; i++) bytes.push(alphabet[Math.floor(rand() * alphabet.length)]!);
    const data = Buffer.concat([Buffer.from(bytes), Buffer.from('\r\n.\r\nZ')]);
    const s = `\r\n${data.toString('latin1')}`;
    const expectedEnd = s.indexOf('\r\n.\r\n') + 5 - 2; // offset in data just after the terminator
    const out = run(splitRandom(data, rand, 8));
    assert.ok(out !== null);
    assert.equal(out.rest.length, data.length - expectedEnd, JSON.stringify(data.toString('latin1')));
    assertNoBareCrLf(out.result.body);
  }
});

// ---- limits ----------------------------------------------------------------------------

test('size limit: exact fit is fine, one more byte exceeds; scanning continues', () => {
  const body = 'x'.repeat(98) + '\r\n'; // 100 octets
  const ok = runAll(`${body}.\r\n`, { maxBytes: 100, bareLineEndings: 'normalize' });
  assert.equal(ok.result.sizeExceeded, false);
  assert.equal(ok.result.size, 100);
  const big = runAll(`${body}y\r\nmore\r\n.\r\nQUIT\r\n`, { maxBytes: 100, bareLineEndings: 'normalize' });
  assert.equal(big.result.sizeExceeded, true);
  assert.equal(big.result.size, 109);
  assert.ok(big.result.body.length <= 100);
  assert.equal(big.rest.toString(), 'QUIT\r\n');
});

test('a body cut at the limit never ends with a bare CR', () => {
  const { result } = runAll('abcd\r\nefgh\r\n.\r\n', { maxBytes: 5, bareLineEndings: 'normalize' });
  assert.equal(result.sizeExceeded, true);
  assert.equal(result.body.toString(), 'abcd');
});

test('30 MiB stream over a 1 MiB limit: memory bounded, terminator still found', () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const limit = 1024 * 1024;
  const r = new DataReader({ maxBytes: limit, bareLineEndings: 'normalize' });
  const line = Buffer.from(`${'z'.repeat(78)}\r\n`);
  const block = Buffer.concat(Array.from({ length: 800 }, () => line)); // 64000 bytes
  gc();
  const before = process.memoryUsage().arrayBuffers;
  let maxGrowth = 0;
  for (let sent = 0, k = 0; sent < 30 * 1024 * 1024; sent += block.length, k++) {
    assert.equal(r.push(Buffer.from(block)).done, false);
    if (k % 64 === 63) {
      gc();
      gc();
      maxGrowth = Math.max(maxGrowth, process.memoryUsage().arrayBuffers - before);
    }
  }
  const out = r.push(Buffer.from('.\r\nQUIT\r\n'));
  assert.ok(out.done);
  const res = r.result();
  assert.equal(res.sizeExceeded, true);
  assert.ok(res.body.length <= limit);
  assert.ok(res.size >= 30 * 1024 * 1024);
  assert.equal(out.rest.toString(), 'QUIT\r\n');
  // Retained: the kept 1 MiB plus at most one partly kept chunk; allow slack for
  // lazily freed backing stores. Keeping the stream would show ~30 MiB here.
  assert.ok(maxGrowth < limit + 8 * 1024 * 1024, `buffers grew ${maxGrowth}`);
});

test('long lines are counted (1000 octets incl CRLF is fine, 1001 is long)', () => {
  const ok = 'a'.repeat(998);
  const long = 'b'.repeat(999);
  const { result } = runAll(`${ok}\r\n${long}\r\n${'c'.repeat(5000)}\r\n.\r\n`);
  assert.equal(result.longLines, 2);
  assert.equal(result.body.toString(), `${ok}\r\n${long}\r\n${'c'.repeat(5000)}\r\n`);
  const custom = runAll('12345678\r\n123456789\r\n.\r\n', { maxBytes: 100, maxLineBytes: 10, bareLineEndings: 'normalize' });
  assert.equal(custom.result.longLines, 1);
});

test('a 1 MiB line split across many chunks counts once', () => {
  const wire = Buffer.concat([Buffer.alloc(1024 * 1024, 0x61), Buffer.from('\r\n.\r\n')]);
  const out = run(splitRandom(wire, rng(3), 4096));
  assert.ok(out !== null);
  assert.equal(out.result.longLines, 1);
  assert.equal(out.result.body.length, 1024 * 1024 + 2);
});

test('NUL bytes are counted and kept; the rest after the terminator is not counted', () => {
  const { result, rest } = runAll('a\0b\r\n\0\r\n.\r\n\0\0');
  assert.equal(result.nulBytes, 2);
  assert.equal(result.body.toString('latin1'), 'a\0b\r\n\0\r\n');
  assert.equal(rest.length, 2);
});

// ---- headers -----------------------------------------------------------------------------

test('Received: headers are counted only in the header section', () => {
  const msg =
    'Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n' +
    'RECEIVED: from c\r\n' +
    '\tby d; folded\r\n' +
    'received : obsolete spacing\r\n' +
    'X-Received: not counted\r\n' +
    'Subject: Received: not counted\r\n' +
    '\r\n' +
    'Received: in the body, not counted\r\n' +
    '.\r\n';
  const { result } = runAll(msg);
  assert.equal(result.receivedHeaderCount, 3);
  // one byte at a time gives the same count
  const out = run([...Buffer.from(msg)].map((b) => Buffer.from([b])));
  assert.equal(out?.result.receivedHeaderCount, 3);
});

test('30 Received headers (mail loop) are counted', () => {
  const msg = `${'Received: from x\r\n'.repeat(30)}Subject: loop\r\n\r\nbody\r\n.\r\n`;
  const r = new DataReader(OPTS);
  assert.ok(r.push(Buffer.from(msg)).done);
  assert.equal(r.receivedHeaderCount, 30);
  assert.equal(r.result().receivedHeaderCount, 30);
});

// ---- speed -------------------------------------------------------------------------------

test('a 2 KiB message costs microseconds', () => {
  const lines: string[] = ['From: a@b.example', 'To: c@d.example', 'Subject: speed', ''];
  while (lines.join('\r\n').length < 2048) lines.push('The quick brown fox jumps over the lazy dog. 0123456789 .. ok');
  const wire = Buffer.from(`${lines.join('\r\n')}\r\n.\r\n`);
  const iterations = 20000;
  for (let i = 0; i < 2000; i++) new DataReader(OPTS).push(wire); // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const r = new DataReader(OPTS);
    r.push(wire);
    r.result();
  }
  const perMessageUs = Number(process.hrtime.bigint() - t0) / 1000 / iterations;
  assert.ok(perMessageUs < 100, `${perMessageUs.toFixed(2)} µs per 2 KiB message`);
});
