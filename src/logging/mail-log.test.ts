import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { formatCtime, formatRotationStamp, parseCtime } from './ctime.js';
import { MAIL_EVENTS, type MailEvent, type MailEventName } from './mail-events.js';
import { MailLog, ROTATED_JSON_RE, ROTATED_TEXT_RE, escapeControls, type MailLogOptions } from './mail-log.js';
import { exampleEvent } from './render-log-events-doc.js';

const CT = String.raw`(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d \d{4}`;
const line = (level: 'Info' | 'Warning', body: string): RegExp => new RegExp(`^${CT} ${level}: ${body}$`);

/** The exact line form of every catalogue event: SPEC §9's code block plus the catalogue's extra events. */
const LINE_FORMS: { [K in MailEventName]: RegExp } = {
  'icid.new': line('Info', String.raw`New SMTP ICID \d+ interface \S+ \(\S+\) address \S+ reverse dns host \S+ verified (yes|no)`),
  'icid.policy': line('Info', String.raw`ICID \d+ (ACCEPT|RELAY|REJECT|TCPREFUSE) SG \S+ match \S+ SBRS (-?\d+(\.\d+)?|None)`),
  'icid.tls.success': line('Info', String.raw`ICID \d+ TLS success protocol TLSv1\.[23] cipher \S+`),
  'icid.tls.failed': line('Info', String.raw`ICID \d+ TLS failed: .+`),
  'icid.tls.required': line('Info', String.raw`ICID \d+ TLS was required but remote host did not initiate it`),
  'icid.tls.client-cert-rejected': line('Warning', String.raw`ICID \d+ TLS client certificate rejected: .+`),
  'icid.starttls.injection': line('Warning', String.raw`ICID \d+ STARTTLS: discarded \d+ bytes sent before the TLS handshake`),
  'icid.limit': line('Info', String.raw`ICID \d+ limit \S+: .+`),
  'icid.lost': line('Info', String.raw`ICID \d+ lost`),
  'icid.close': line('Info', String.raw`ICID \d+ close`),
  'mid.start': line('Info', String.raw`Start MID \d+ ICID \d+`),
  'mid.from': line('Info', String.raw`MID \d+ ICID \d+ From: <[^<>\s]*>`),
  'mid.rcpt': line('Info', String.raw`MID \d+ ICID \d+ RID \d+ To: <[^<>\s]+>`),
  'mid.ready': line('Info', String.raw`MID \d+ ready \d+ bytes from <[^<>\s]*>`),
  'mid.rejected': line('Info', String.raw`MID \d+ ICID \d+ rejected: .+`),
  'dcid.new': line('Info', String.raw`New SMTP DCID \d+ interface \S+ address \S+ port \d+`),
  'dcid.tls.success': line('Info', String.raw`DCID \d+ TLS success protocol \S+ cipher \S+`),
  'dcid.tls.verified': line('Info', String.raw`DCID \d+ TLS certificate verified: matched \S+`),
  'dcid.tls.verify-failed': line('Warning', String.raw`DCID \d+ TLS certificate verification failed: .+`),
  'dcid.tls.downgraded': line('Warning', String.raw`DCID \d+ TLS downgraded to plaintext: .+`),
  'dcid.tls.failed': line('Info', String.raw`DCID \d+ TLS failed: .+`),
  'dcid.tls.required-failed': line('Warning', String.raw`DCID \d+ IP \S+ TLS was required but could not be successfully negotiated`),
  'dcid.starttls.unsupported': line('Info', String.raw`DCID \d+ STARTTLS command not supported\.`),
  'dcid.connection-error': line(
    'Info',
    String.raw`Connection Error: DCID \d+ domain: \S+ IP:\S+ port: \d+ details: .+ interface: \S+ reason: (connection canceled|network error|connection timed out|unexpected SMTP response)`,
  ),
  'dcid.delivery.start': line('Info', String.raw`Delivery start DCID \d+ MID \d+ to RID \[\d+(, \d+)*\]`),
  'dcid.delivery.done': line('Info', String.raw`Message done DCID \d+ MID \d+ to RID \[\d+(, \d+)*\]`),
  'mid.delayed': line('Info', String.raw`Delayed: DCID \d+ MID \d+ to RID \d+ - .+`),
  'mid.bounced': line('Info', String.raw`Bounced: DCID \d+ MID \d+ to RID \d+ - .+`),
  'mid.dsn': line('Info', String.raw`MID \d+ DSN generated for MID \d+`),
  'dcid.close': line('Info', String.raw`DCID \d+ close`),
  system: line('Info', String.raw`[^\r\n]+`),
};

/** Variants that exercise the other branches of the templates, with the exact text expected. */
const VARIANTS: { event: MailEvent; text: string }[] = [
  {
    event: { event: 'icid.new', icid: 1, listener: 'Public', listenerAddress: '0.0.0.0', ip: '2001:db8::1', reverseDns: null, verified: false },
    text: 'New SMTP ICID 1 interface Public (0.0.0.0) address 2001:db8::1 reverse dns host unknown verified no',
  },
  { event: { event: 'icid.policy', icid: 1, behavior: 'RELAY', group: 'RELAYLIST', rule: '10.0.0.0/8', sbrs: 3.5 }, text: 'ICID 1 RELAY SG RELAYLIST match 10.0.0.0/8 SBRS 3.5' },
  { event: { event: 'icid.policy', icid: 1, behavior: 'TCPREFUSE', group: 'BLOCKED', rule: 'ALL', sbrs: -7 }, text: 'ICID 1 TCPREFUSE SG BLOCKED match ALL SBRS -7' },
  { event: { event: 'icid.tls.success', icid: 1, protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES256-GCM-SHA384' }, text: 'ICID 1 TLS success protocol TLSv1.2 cipher ECDHE-RSA-AES256-GCM-SHA384' },
  { event: { event: 'mid.from', mid: 2, icid: 1, from: '' }, text: 'MID 2 ICID 1 From: <>' },
  { event: { event: 'mid.ready', mid: 2, bytes: 10, from: '' }, text: 'MID 2 ready 10 bytes from <>' },
  { event: { event: 'dcid.delivery.start', dcid: 4, mid: 2, rids: [0] }, text: 'Delivery start DCID 4 MID 2 to RID [0]' },
  { event: { event: 'dcid.delivery.done', dcid: 4, mid: 2, rids: [0, 1, 2] }, text: 'Message done DCID 4 MID 2 to RID [0, 1, 2]' },
  {
    event: { event: 'dcid.connection-error', dcid: 4, domain: 'example.org', ip: '203.0.113.9', port: 25, details: 'connect ETIMEDOUT', interface: '192.0.2.10', reason: 'connection timed out' },
    text: 'Connection Error: DCID 4 domain: example.org IP:203.0.113.9 port: 25 details: connect ETIMEDOUT interface: 192.0.2.10 reason: connection timed out',
  },
];

const ALL_NAMES = Object.keys(MAIL_EVENTS) as MailEventName[];

/** A clock the test moves by hand. */
class FakeClock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
  set(d: Date): void {
    this.ms = d.getTime();
  }
}

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'gatehouse-maillog-'));
  dirs.push(d);
  return join(d, 'logs', 'mail_logs');
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function opts(clock: FakeClock, over: Partial<MailLogOptions> = {}): MailLogOptions {
  return { maxBytes: 10 * 1024 * 1024, retain: 10, rotateDaily: true, json: true, clock, ...over };
}

async function readLines(path: string): Promise<string[]> {
  const s = await readFile(path, 'utf8');
  if (s === '') return [];
  assert.ok(s.endsWith('\n'), `${path} ends with a newline`);
  return s.slice(0, -1).split('\n');
}

/** The text after `<ctime> <Level>: `. */
function textOf(l: string): string {
  const m = /^.{24} (Info|Warning|Critical): (.*)$/.exec(l);
  assert.ok(m, `line has a ctime and level prefix: ${l}`);
  return m[2]!;
}

const APR17 = new Date(2018, 3, 17, 0, 57, 53);

describe('ctime', () => {
  it('formats local time like C ctime, day of month space-padded', () => {
    assert.equal(formatCtime(APR17), 'Tue Apr 17 00:57:53 2018');
    assert.equal(formatCtime(new Date(2018, 3, 1, 9, 5, 3)), 'Sun Apr  1 09:05:03 2018');
    assert.equal(formatCtime(new Date(2019, 11, 31, 23, 59, 59)), 'Tue Dec 31 23:59:59 2019');
    assert.equal(formatCtime(new Date(2020, 0, 9, 12, 0, 0)), 'Thu Jan  9 12:00:00 2020');
  });

  it('formats rotation stamps and parses ctime back', () => {
    assert.equal(formatRotationStamp(APR17), '20180417T005753');
    assert.equal(formatRotationStamp(new Date(2018, 3, 1, 9, 5, 3)), '20180401T090503');
    assert.equal(parseCtime('Sun Apr  1 09:05:03 2018 Info: x')?.getTime(), new Date(2018, 3, 1, 9, 5, 3).getTime());
    assert.equal(parseCtime('garbage'), null);
  });
});

describe('MailLog line forms', () => {
  it('writes every catalogue event in its exact SPEC §9 form, prefixed by ctime and level', async () => {
    const clock = new FakeClock(APR17.getTime());
    const dir = await tempDir();
    const log = await MailLog.open(dir, opts(clock));
    const events: MailEvent[] = [...ALL_NAMES.map((n) => exampleEvent(n)), ...VARIANTS.map((v) => v.event)];
    for (const e of events) log.emit(e);
    await log.flush();
    const lines = await readLines(join(dir, 'mail.current'));
    assert.equal(lines.length, events.length);
    events.forEach((e, i) => {
      const l = lines[i]!;
      assert.match(l, LINE_FORMS[e.event], `${e.event}: ${l}`);
      assert.ok(l.startsWith(`Tue Apr 17 00:57:53 2018 ${MAIL_EVENTS[e.event].level}: `), l);
    });
    assert.equal(
      lines[0],
      'Tue Apr 17 00:57:53 2018 Info: New SMTP ICID 5 interface IncomingMail (192.0.2.10) address 198.51.100.7 reverse dns host mx.example.net verified yes',
    );
    VARIANTS.forEach((v, j) => assert.equal(textOf(lines[ALL_NAMES.length + j]!), v.text));
    await log.close();
  });

  it('has a line form for every catalogue event, and only for those', () => {
    assert.deepEqual(Object.keys(LINE_FORMS).sort(), [...ALL_NAMES].sort());
  });

  it('writes the same events as JSON lines with the same fields and text', async () => {
    const clock = new FakeClock(APR17.getTime());
    const dir = await tempDir();
    const log = await MailLog.open(dir, opts(clock));
    const events: MailEvent[] = [...ALL_NAMES.map((n) => exampleEvent(n)), ...VARIANTS.map((v) => v.event)];
    for (const e of events) log.emit(e);
    await log.flush();
    const lines = await readLines(join(dir, 'mail.current'));
    const json = (await readLines(join(dir, 'mail.current.jsonl'))).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(json.length, events.length);
    events.forEach((e, i) => {
      const obj = json[i]!;
      const keys = Object.keys(obj);
      assert.deepEqual(keys.slice(0, 3), ['time', 'level', 'event']);
      assert.equal(keys.at(-1), 'text');
      assert.equal(obj['time'], APR17.toISOString());
      assert.equal(obj['level'], MAIL_EVENTS[e.event].level);
      for (const [k, v] of Object.entries(e)) {
        if (e.event === 'system' && k === 'text') continue;
        assert.deepEqual(obj[k], v, `${e.event}.${k}`);
      }
      assert.equal(obj['text'], textOf(lines[i]!));
      assert.equal(keys.length, Object.keys(e).length + (e.event === 'system' ? 2 : 3)); // + time, level (and text)
    });
    await log.close();
  });

  it('writes no JSON file when json is off', async () => {
    const dir = await tempDir();
    const log = await MailLog.open(dir, opts(new FakeClock(APR17.getTime()), { json: false }));
    log.emit({ event: 'icid.close', icid: 1 });
    await log.close();
    assert.deepEqual(await readdir(dir), ['mail.current']);
  });
});

describe('MailLog sanitising', () => {
  it('keeps a hostile address on one line, escaped, in text and JSON', async () => {
    const dir = await tempDir();
    const log = await MailLog.open(dir, opts(new FakeClock(APR17.getTime())));
    const evil = 'evil@example.net\r\nTue Apr 17 00:57:53 2018 Info: New SMTP ICID 1 interface x (y) address z reverse dns host h verified yes';
    log.emit({ event: 'mid.from', mid: 1, icid: 1, from: evil });
    log.emit({ event: 'system', text: 'a\nb\u2028c\td\x7f\x00' });
    await log.flush();
    const lines = await readLines(join(dir, 'mail.current'));
    assert.equal(lines.length, 2);
    assert.equal(
      textOf(lines[0]!),
      'MID 1 ICID 1 From: <evil@example.net\\x0D\\x0ATue Apr 17 00:57:53 2018 Info: New SMTP ICID 1 interface x (y) address z reverse dns host h verified yes>',
    );
    assert.equal(textOf(lines[1]!), 'a\\x0Ab\\u2028c\\x09d\\x7F\\x00');
    const json = (await readLines(join(dir, 'mail.current.jsonl'))).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(json.length, 2);
    assert.equal(json[0]!['from'], escapeControls(evil));
    assert.doesNotMatch(String(json[0]!['from']), /[\r\n]/);
    await log.close();
  });

  it('escapes C0, DEL, C1 and line separators, leaving other text alone', () => {
    assert.equal(escapeControls('plain ü \\x41 text'), 'plain ü \\x41 text');
    assert.equal(escapeControls('\r\n\t\x1b\x7f\x85\u2029'), '\\x0D\\x0A\\x09\\x1B\\x7F\\x85\\u2029');
  });
});

describe('MailLog rotation', () => {
  it('rotates by size, keeps `retain` files of each kind with stamp names, never exceeds maxBytes', async () => {
    const clock = new FakeClock(APR17.getTime());
    const dir = await tempDir();
    const maxBytes = 300;
    const log = await MailLog.open(dir, opts(clock, { maxBytes, retain: 3 }));
    const total = 60;
    for (let i = 0; i < total; i++) {
      log.emit({ event: 'icid.close', icid: i });
      clock.ms += 1000;
    }
    await log.flush();
    const names = (await readdir(dir)).sort();
    const texts = names.filter((n) => ROTATED_TEXT_RE.test(n));
    const jsons = names.filter((n) => ROTATED_JSON_RE.test(n));
    assert.equal(texts.length, 3);
    assert.equal(jsons.length, 3);
    assert.deepEqual(names.sort(), [...texts, ...jsons, 'mail.current', 'mail.current.jsonl'].sort());
    // Oldest first, then the live file: a contiguous run ending with the last event.
    const icids: number[] = [];
    for (const name of [...texts, 'mail.current']) {
      const path = join(dir, name);
      assert.ok((await stat(path)).size <= maxBytes, `${name} within maxBytes`);
      const lines = await readLines(path);
      assert.ok(lines.length > 0);
      if (name !== 'mail.current') {
        // The stamp is the local time of the file's first line.
        assert.equal(name, `mail.@${formatRotationStamp(parseCtime(lines[0]!)!)}.s`);
        const jl = (await readLines(join(dir, name.replace(/\.s$/, '.jsonl')))).map((l) => (JSON.parse(l) as { icid: number }).icid);
        assert.deepEqual(jl, lines.map((l) => Number(/ICID (\d+)/.exec(l)![1])));
      }
      for (const l of lines) icids.push(Number(/ICID (\d+) close$/.exec(l)![1]));
    }
    assert.equal(icids.at(-1), total - 1);
    icids.forEach((v, i) => assert.equal(v, icids[0]! + i));
    assert.ok(log.stats().rotations >= 9, `rotations=${log.stats().rotations}`);
    assert.equal(log.stats().writeErrors, 0);
    await log.close();
  });

  it('gives rotations within one second distinct, ordered names', async () => {
    const clock = new FakeClock(APR17.getTime());
    const dir = await tempDir();
    const log = await MailLog.open(dir, opts(clock, { maxBytes: 50, retain: 5, json: false }));
    for (let i = 0; i < 8; i++) {
      log.emit({ event: 'icid.close', icid: i });
      await log.flush();
    }
    await log.close();
    const texts = (await readdir(dir)).filter((n) => ROTATED_TEXT_RE.test(n)).sort();
    assert.equal(texts.length, 5);
    const firsts: number[] = [];
    for (const n of texts) firsts.push(Number(/ICID (\d+)/.exec((await readLines(join(dir, n)))[0]!)![1]));
    assert.deepEqual(firsts, [...firsts].sort((a, b) => a - b));
    assert.equal(texts[0], 'mail.@20180417T005755.s');
  });

  it('rotates on the first write after local midnight', async () => {
    const clock = new FakeClock(new Date(2018, 3, 17, 23, 59, 58).getTime());
    const dir = await tempDir();
    const log = await MailLog.open(dir, opts(clock));
    log.emit({ event: 'icid.close', icid: 1 });
    await log.flush();
    clock.set(new Date(2018, 3, 17, 23, 59, 59));
    log.emit({ event: 'icid.close', icid: 2 });
    await log.flush();
    assert.deepEqual((await readdir(dir)).sort(), ['mail.current', 'mail.current.jsonl']);
    clock.set(new Date(2018, 3, 18, 0, 0, 2));
    log.emit({ event: 'icid.close', icid: 3 });
    await log.flush();
    assert.deepEqual((await readdir(dir)).sort(), ['mail.@20180417T235958.jsonl', 'mail.@20180417T235958.s', 'mail.current', 'mail.current.jsonl']);
    assert.deepEqual((await readLines(join(dir, 'mail.@20180417T235958.s'))).map(textOf), ['ICID 1 close', 'ICID 2 close']);
    assert.deepEqual(await readLines(join(dir, 'mail.current')), ['Wed Apr 18 00:00:02 2018 Info: ICID 3 close']);
    assert.equal((await readLines(join(dir, 'mail.current.jsonl'))).length, 1);
    await log.close();
  });

  it('splits one batch that crosses midnight', async () => {
    const clock = new FakeClock(new Date(2018, 3, 1, 23, 59, 59).getTime());
    const dir = await tempDir();
    const log = await MailLog.open(dir, opts(clock, { json: false }));
    log.emit({ event: 'icid.close', icid: 1 });
    clock.set(new Date(2018, 3, 2, 0, 0, 0));
    log.emit({ event: 'icid.close', icid: 2 });
    await log.close();
    assert.deepEqual(await readLines(join(dir, 'mail.@20180401T235959.s')), ['Sun Apr  1 23:59:59 2018 Info: ICID 1 close']);
    assert.deepEqual(await readLines(join(dir, 'mail.current')), ['Mon Apr  2 00:00:00 2018 Info: ICID 2 close']);
  });

  it('does not rotate by day when rotateDaily is off', async () => {
    const clock = new FakeClock(new Date(2018, 3, 17, 23, 59, 58).getTime());
    const dir = await tempDir();
    const log = await MailLog.open(dir, opts(clock, { rotateDaily: false, json: false }));
    log.emit({ event: 'icid.close', icid: 1 });
    clock.set(new Date(2018, 3, 18, 0, 0, 2));
    log.emit({ event: 'icid.close', icid: 2 });
    await log.close();
    assert.deepEqual(await readdir(dir), ['mail.current']);
    assert.equal((await readLines(join(dir, 'mail.current'))).length, 2);
  });

  it('rotates a mail.current left over from an earlier day on the first write, named by its first line', async () => {
    const dir = await tempDir();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'mail.current'), 'Mon Apr 16 10:00:00 2018 Info: ICID 1 close\n');
    const log = await MailLog.open(dir, opts(new FakeClock(APR17.getTime()), { json: false }));
    log.emit({ event: 'icid.close', icid: 2 });
    await log.close();
    assert.deepEqual((await readdir(dir)).sort(), ['mail.@20180416T100000.s', 'mail.current']);
    assert.deepEqual((await readLines(join(dir, 'mail.current'))).map(textOf), ['ICID 2 close']);
  });

  it('rotate() rotates on demand and skips an empty file', async () => {
    const dir = await tempDir();
    const log = await MailLog.open(dir, opts(new FakeClock(APR17.getTime())));
    await log.rotate();
    assert.deepEqual((await readdir(dir)).sort(), ['mail.current', 'mail.current.jsonl']);
    log.emit({ event: 'icid.close', icid: 1 });
    await log.rotate();
    assert.deepEqual((await readdir(dir)).sort(), ['mail.@20180417T005753.jsonl', 'mail.@20180417T005753.s', 'mail.current', 'mail.current.jsonl']);
    assert.equal((await readFile(join(dir, 'mail.current'), 'utf8')).length, 0);
    await log.close();
  });
});

describe('MailLog reopen, batching and errors', () => {
  it('reopen after an external rename (logrotate) writes a fresh mail.current', async () => {
    const dir = await tempDir();
    const log = await MailLog.open(dir, opts(new FakeClock(APR17.getTime())));
    log.emit({ event: 'icid.close', icid: 1 });
    await log.flush();
    await rename(join(dir, 'mail.current'), join(dir, 'mail.current.1'));
    await rename(join(dir, 'mail.current.jsonl'), join(dir, 'mail.current.jsonl.1'));
    log.emit({ event: 'icid.close', icid: 2 }); // buffered before the HUP: goes to the renamed file
    await log.reopen();
    log.emit({ event: 'icid.close', icid: 3 });
    await log.flush();
    assert.deepEqual((await readLines(join(dir, 'mail.current.1'))).map(textOf), ['ICID 1 close', 'ICID 2 close']);
    assert.deepEqual((await readLines(join(dir, 'mail.current'))).map(textOf), ['ICID 3 close']);
    assert.equal((await readLines(join(dir, 'mail.current.jsonl.1'))).length, 2);
    assert.equal((await readLines(join(dir, 'mail.current.jsonl'))).length, 1);
    await log.close();
  });

  it('buffers emits and writes them in few batches', async () => {
    const dir = await tempDir();
    const log = await MailLog.open(dir, opts(new FakeClock(APR17.getTime())));
    const n = 5000;
    for (let i = 0; i < n; i++) log.emit({ event: 'mid.rcpt', mid: i, icid: 1, rid: 0, to: 'someone@example.com' });
    assert.equal(log.stats().buffered, n); // nothing written synchronously
    await log.flush();
    const s = log.stats();
    assert.equal(s.linesWritten, n);
    assert.equal(s.buffered, 0);
    assert.ok(s.writes <= 10, `writes=${s.writes}`);
    assert.equal((await readLines(join(dir, 'mail.current'))).length, n);
    await log.close();
  });

  it('counts write errors instead of throwing, and recovers when the file can be opened again', async () => {
    const dir = await tempDir();
    const log = await MailLog.open(dir, opts(new FakeClock(APR17.getTime()), { json: false }));
    log.emit({ event: 'icid.close', icid: 1 });
    await log.flush();
    await rm(join(dir, 'mail.current'));
    await mkdir(join(dir, 'mail.current')); // opening it for writing now fails (EISDIR)
    await log.reopen();
    assert.ok(log.stats().writeErrors >= 1);
    log.emit({ event: 'icid.close', icid: 2 });
    await log.flush();
    assert.equal(log.stats().dropped, 1);
    assert.ok(log.stats().lastError);
    await rm(join(dir, 'mail.current'), { recursive: true });
    log.emit({ event: 'icid.close', icid: 3 });
    await log.flush();
    assert.deepEqual((await readLines(join(dir, 'mail.current'))).map(textOf), ['ICID 3 close']);
    await log.close();
  });

  it('drops (and counts) events after close and events that cannot be rendered', async () => {
    const dir = await tempDir();
    const log = await MailLog.open(dir, opts(new FakeClock(APR17.getTime())));
    log.emit({ event: 'no.such.event' } as unknown as MailEvent);
    assert.equal(log.stats().renderErrors, 1);
    await log.close();
    log.emit({ event: 'icid.close', icid: 1 });
    await log.flush();
    assert.equal(log.stats().dropped, 2);
    assert.equal((await readFile(join(dir, 'mail.current'), 'utf8')).length, 0);
  });

  it('appends to an existing mail.current on open', async () => {
    const dir = await tempDir();
    const clock = new FakeClock(APR17.getTime());
    const a = await MailLog.open(dir, opts(clock));
    a.emit({ event: 'icid.close', icid: 1 });
    await a.close();
    const b = await MailLog.open(dir, opts(clock));
    b.emit({ event: 'icid.close', icid: 2 });
    await b.close();
    assert.deepEqual((await readLines(join(dir, 'mail.current'))).map(textOf), ['ICID 1 close', 'ICID 2 close']);
    assert.equal((await readLines(join(dir, 'mail.current.jsonl'))).length, 2);
  });
});

describe('MailLog line listener (syslog forwarding)', () => {
  it('gets every line with its time, level and sanitised text, across size rotations; a throwing listener is counted', async () => {
    const clock = new FakeClock(APR17.getTime());
    const dir = await tempDir();
    const log = await MailLog.open(dir, opts(clock, { maxBytes: 200, retain: 50, json: false }));
    const seen: { time: number; level: string; text: string }[] = [];
    log.setLineListener((l) => seen.push(l));
    for (let i = 0; i < 20; i++) {
      log.emit({ event: 'icid.close', icid: i });
      clock.ms += 1000;
    }
    log.emit({ event: 'dcid.tls.downgraded', dcid: 5, reason: 'x\r\ny' });
    await log.flush();
    assert.ok(log.stats().rotations > 0, 'the file was rotated on the way');
    const fileLines: string[] = [];
    for (const name of (await readdir(dir)).filter((n) => ROTATED_TEXT_RE.test(n)).sort()) fileLines.push(...(await readLines(join(dir, name))));
    fileLines.push(...(await readLines(join(dir, 'mail.current'))));
    assert.equal(seen.length, 21);
    assert.deepEqual(
      seen.map((l) => `${formatCtime(new Date(l.time))} ${l.level}: ${l.text}`),
      fileLines,
    );
    assert.deepEqual(seen.at(-1), { time: clock.ms, level: 'Warning', text: 'DCID 5 TLS downgraded to plaintext: x\\x0D\\x0Ay' });

    log.setLineListener(() => {
      throw new Error('listener broke');
    });
    log.emit({ event: 'icid.close', icid: 99 });
    log.setLineListener(null);
    log.emit({ event: 'icid.close', icid: 100 });
    await log.close();
    assert.equal(log.stats().listenerErrors, 1);
    assert.equal(seen.length, 21, 'no listener after null');
    assert.deepEqual((await readLines(join(dir, 'mail.current'))).slice(-2).map(textOf), ['ICID 99 close', 'ICID 100 close'], 'the file still gets the lines');
  });
});
