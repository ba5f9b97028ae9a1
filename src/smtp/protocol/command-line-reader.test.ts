import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandLineReader, type LineReadResult } from './command-line-reader.js';

function drain(r: CommandLineReader): LineReadResult[] {
  const out: LineReadResult[] = [];
  for (let x = r.next(); x !== null; x = r.next()) out.push(x);
  return out;
}

function lines(results: LineReadResult[]): string[] {
  return results.map((x) => (x.kind === 'line' ? `${x.line.toString('latin1')}${x.bareLf ? '<LF>' : ''}` : '<too-long>'));
}

test('splits CRLF lines, including pipelined groups in one chunk', () => {
  const r = new CommandLineReader();
  r.push(Buffer.from('EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n'));
  assert.deepEqual(lines(drain(r)), ['EHLO a', 'MAIL FROM:<a@b>', 'RCPT TO:<c@d>', 'DATA']);
  assert.equal(r.buffered(), 0);
});

test('returns null until a line is complete, across byte-by-byte pushes', () => {
  const r = new CommandLineReader();
  const input = Buffer.from('NOOP\r\nQUIT\r\n');
  const got: LineReadResult[] = [];
  for (const b of input) {
    r.push(Buffer.from([b]));
    got.push(...drain(r));
  }
  assert.deepEqual(lines(got), ['NOOP', 'QUIT']);
});

test('CR split from LF across chunks still makes a CRLF line', () => {
  const r = new CommandLineReader();
  r.push(Buffer.from('NOOP\r'));
  assert.equal(r.next(), null);
  r.push(Buffer.from('\n'));
  assert.deepEqual(lines(drain(r)), ['NOOP']);
});

test('bare LF ends a line but is flagged', () => {
  const r = new CommandLineReader();
  r.push(Buffer.from('NOOP\nRSET\r\n'));
  const out = drain(r);
  assert.deepEqual(lines(out), ['NOOP<LF>', 'RSET']);
  const first = out[0];
  assert.ok(first !== undefined && first.kind === 'line' && first.bareLf);
});

test('a bare CR inside a line does not end it (left for the parser to reject)', () => {
  const r = new CommandLineReader();
  r.push(Buffer.from('NOOP\rRSET\r\n'));
  assert.deepEqual(lines(drain(r)), ['NOOP\rRSET']);
});

test('empty lines are returned as empty lines', () => {
  const r = new CommandLineReader();
  r.push(Buffer.from('\r\n\r\n'));
  assert.deepEqual(lines(drain(r)), ['', '']);
});

test('NUL bytes are passed through to the parser', () => {
  const r = new CommandLineReader();
  r.push(Buffer.from('NO\0OP\r\n'));
  const out = drain(r);
  assert.equal(out.length, 1);
  assert.ok(out[0]?.kind === 'line' && out[0].line.equals(Buffer.from('NO\0OP')));
});

test('512 octets including CRLF is accepted; 513 is too long', () => {
  const r = new CommandLineReader();
  const ok = 'A'.repeat(510);
  const bad = 'B'.repeat(511);
  r.push(Buffer.from(`${ok}\r\n${bad}\r\nNOOP\r\n`));
  assert.deepEqual(lines(drain(r)), [ok, '<too-long>', 'NOOP']);
});

test('bare-LF line of 512 octets including LF is accepted; 513 is too long', () => {
  const r = new CommandLineReader();
  r.push(Buffer.from(`${'A'.repeat(511)}\n${'B'.repeat(512)}\nNOOP\r\n`));
  assert.deepEqual(lines(drain(r)), [`${'A'.repeat(511)}<LF>`, '<too-long>', 'NOOP']);
});

test('maxLineBytes option is honoured', () => {
  const r = new CommandLineReader({ maxLineBytes: 10 });
  r.push(Buffer.from('12345678\r\n123456789\r\nok\r\n'));
  assert.deepEqual(lines(drain(r)), ['12345678', '<too-long>', 'ok']);
});

test('a 10 KB line gives one too-long and the next line is intact', () => {
  const r = new CommandLineReader();
  r.push(Buffer.from(`MAIL FROM:<${'x'.repeat(10_000)}@a.example>\r\nNOOP\r\n`));
  assert.deepEqual(lines(drain(r)), ['<too-long>', 'NOOP']);
});

test('a 10 KB line pushed in small pieces gives exactly one too-long', () => {
  const r = new CommandLineReader();
  const got: LineReadResult[] = [];
  const data = Buffer.from(`${'y'.repeat(10_000)}\r\nQUIT\r\n`);
  for (let i = 0; i < data.length; i += 7) {
    r.push(data.subarray(i, i + 7));
    got.push(...drain(r));
    assert.ok(r.buffered() <= 512, `buffered ${r.buffered()}`);
  }
  assert.deepEqual(lines(got), ['<too-long>', 'QUIT']);
});

test('10 MiB without a newline: memory stays bounded, too-long reported once', () => {
  const r = new CommandLineReader();
  const block = Buffer.alloc(64 * 1024, 0x41);
  let tooLong = 0;
  for (let sent = 0; sent < 10 * 1024 * 1024; sent += block.length) {
    r.push(block);
    assert.ok(r.buffered() <= 512, `buffered ${r.buffered()}`);
    for (let x = r.next(); x !== null; x = r.next()) {
      assert.equal(x.kind, 'too-long');
      tooLong++;
    }
  }
  assert.equal(tooLong, 1);
  r.push(Buffer.from('tail of the long line\r\nNOOP\r\n'));
  assert.deepEqual(lines(drain(r)), ['NOOP']);
});

test('10 MiB in one chunk without draining between pushes stays bounded', () => {
  const r = new CommandLineReader();
  r.push(Buffer.alloc(10 * 1024 * 1024, 0x42));
  assert.equal(r.buffered(), 0);
  r.push(Buffer.alloc(1024 * 1024, 0x42));
  assert.equal(r.buffered(), 0);
  r.push(Buffer.from('\r\nNOOP\r\n'));
  assert.deepEqual(lines(drain(r)), ['<too-long>', 'NOOP']);
});

test('takeRest returns the unconsumed bytes (DATA switch) and clears the buffer', () => {
  const r = new CommandLineReader();
  r.push(Buffer.from('DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n'));
  assert.deepEqual(lines([r.next()!]), ['DATA']);
  const rest = r.takeRest();
  assert.equal(rest.toString(), 'Subject: x\r\n\r\nbody\r\n.\r\n');
  assert.equal(r.buffered(), 0);
  assert.equal(r.next(), null);
});

test('takeRest discards plaintext pipelined after STARTTLS', () => {
  const r = new CommandLineReader();
  r.push(Buffer.from('STARTTLS\r\nMAIL FROM:<evil@x.example>\r\n'));
  assert.deepEqual(lines([r.next()!]), ['STARTTLS']);
  assert.equal(r.takeRest().toString(), 'MAIL FROM:<evil@x.example>\r\n');
  assert.equal(r.next(), null);
  r.push(Buffer.from('EHLO a\r\n'));
  assert.deepEqual(lines(drain(r)), ['EHLO a']);
});

test('takeRest also resets the over-long-line state', () => {
  const r = new CommandLineReader();
  r.push(Buffer.alloc(600, 0x41));
  r.takeRest();
  r.push(Buffer.from('EHLO a\r\n'));
  assert.deepEqual(lines(drain(r)), ['EHLO a']);
});

test('rejects a nonsensical maxLineBytes', () => {
  assert.throws(() => new CommandLineReader({ maxLineBytes: 0 }), RangeError);
});
