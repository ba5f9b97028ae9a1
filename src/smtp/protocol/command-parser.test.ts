import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand } from './command-parser.js';
import type { Command, Mailbox } from './command.js';

const p = (s: string | Buffer): Command => parseCommand(typeof s === 'string' ? Buffer.from(s, 'utf8') : s);

/** Asserts INVALID with the given code and enhanced status; returns the reply text. */
function invalid(s: string | Buffer, code: number, enhanced: string): string {
  const c = p(s);
  assert.equal(c.verb, 'INVALID', `expected INVALID for ${JSON.stringify(s.toString())}, got ${JSON.stringify(c)}`);
  if (c.verb !== 'INVALID') throw new Error('unreachable');
  assert.equal(c.reply.code, code, `code for ${JSON.stringify(s.toString())}: ${JSON.stringify(c.reply)}`);
  assert.equal(c.reply.enhanced, enhanced, `enhanced for ${JSON.stringify(s.toString())}: ${JSON.stringify(c.reply)}`);
  return c.reply.lines.join(' ');
}

function mail(s: string): { from: Mailbox | null; params: ReadonlyMap<string, string | true> } {
  const c = p(s);
  assert.equal(c.verb, 'MAIL', `expected MAIL for ${JSON.stringify(s)}, got ${JSON.stringify(c)}`);
  if (c.verb !== 'MAIL') throw new Error('unreachable');
  return c;
}

function rcpt(s: string): { to: Mailbox; params: ReadonlyMap<string, string | true> } {
  const c = p(s);
  assert.equal(c.verb, 'RCPT', `expected RCPT for ${JSON.stringify(s)}, got ${JSON.stringify(c)}`);
  if (c.verb !== 'RCPT') throw new Error('unreachable');
  return c;
}

// ---- verbs --------------------------------------------------------------------

test('verbs are case-insensitive', () => {
  assert.deepEqual(p('ehlo mx.example.com'), { verb: 'EHLO', domain: 'mx.example.com' });
  assert.deepEqual(p('HeLo mx'), { verb: 'HELO', domain: 'mx' });
  assert.deepEqual(p('data'), { verb: 'DATA' });
  assert.deepEqual(p('Quit'), { verb: 'QUIT' });
  assert.deepEqual(p('starttls'), { verb: 'STARTTLS' });
  assert.equal(p('mail from:<a@b.example>').verb, 'MAIL');
  assert.equal(p('rcpt to:<a@b.example>').verb, 'RCPT');
});

test('EHLO/HELO accept domains and address literals', () => {
  assert.deepEqual(p('EHLO [192.0.2.1]'), { verb: 'EHLO', domain: '[192.0.2.1]' });
  assert.deepEqual(p('EHLO [IPv6:2001:DB8::1]'), { verb: 'EHLO', domain: '[IPv6:2001:db8::1]' });
  assert.deepEqual(p('EHLO [ipv6:::1]'), { verb: 'EHLO', domain: '[IPv6:::1]' });
  assert.deepEqual(p('EHLO win_pc-01.corp.example'), { verb: 'EHLO', domain: 'win_pc-01.corp.example' });
  assert.deepEqual(p('EHLO mx.example.com '), { verb: 'EHLO', domain: 'mx.example.com' });
});

test('EHLO/HELO argument abuse → 501 5.5.4', () => {
  for (const s of [
    'EHLO',
    'EHLO ',
    'HELO',
    'EHLO two words',
    'EHLO a..b',
    'EHLO .a',
    'EHLO a.',
    'EHLO -a.example',
    'EHLO [300.1.1.1]',
    'EHLO [1.2.3]',
    'EHLO [IPv6:zz::1]',
    'EHLO [IPv6:fe80::1%eth0]',
    'EHLO [tag:foo]',
    'EHLO [1.2.3.4',
    'EHLO ${run{/bin/sh}}',
    'EHLO a;b',
    'EHLO bücher.example',
    `EHLO ${'a'.repeat(64)}.example`,
    `EHLO ${'abc.'.repeat(70)}com`,
  ]) {
    invalid(s, 501, '5.5.4');
  }
  assert.match(invalid('EHLO', 501, '5.5.4'), /EHLO/);
});

test('EHLO with CR, LF or NUL → 501 5.5.2', () => {
  invalid('EHLO a\rMAIL FROM:<x@y>', 501, '5.5.2');
  invalid('EHLO a\nb', 501, '5.5.2');
  invalid(Buffer.from('EHLO a\0b'), 501, '5.5.2');
  invalid('EHLO\ta', 501, '5.5.2');
});

test('verbs without parameters reject arguments with 501 5.5.4', () => {
  for (const v of ['DATA', 'RSET', 'QUIT', 'STARTTLS']) {
    const text = invalid(`${v} now`, 501, '5.5.4');
    assert.equal(text, `Syntax error: ${v} takes no parameters`);
    assert.deepEqual(p(`${v}`), { verb: v });
    assert.deepEqual(p(`${v} `), { verb: v }, 'trailing space tolerated');
  }
  const c = p('STARTTLS\rMAIL FROM:<a@b.example>');
  assert.equal(c.verb, 'INVALID');
});

test('NOOP and HELP ignore an argument', () => {
  assert.deepEqual(p('NOOP hello there'), { verb: 'NOOP' });
  assert.deepEqual(p('HELP MAIL'), { verb: 'HELP' });
  assert.deepEqual(p('HELP'), { verb: 'HELP' });
});

test('VRFY/EXPN carry their argument; none → 501 5.5.4', () => {
  assert.deepEqual(p('VRFY bob'), { verb: 'VRFY', argument: 'bob' });
  assert.deepEqual(p('EXPN staff list'), { verb: 'EXPN', argument: 'staff list' });
  invalid('VRFY', 501, '5.5.4');
  invalid('EXPN  ', 501, '5.5.4');
});

// ---- unknown / cross-protocol ------------------------------------------------------------

test('unknown verbs', () => {
  assert.deepEqual(p('XYZZY foo'), { verb: 'UNKNOWN', name: 'XYZZY', looksLikeHttp: false, looksLikeTls: false });
  assert.deepEqual(p('AUTH PLAIN AAAA'), { verb: 'UNKNOWN', name: 'AUTH', looksLikeHttp: false, looksLikeTls: false });
  assert.deepEqual(p('MAILFROM:<a@b>'), { verb: 'UNKNOWN', name: 'MAILFROM:<A@B>', looksLikeHttp: false, looksLikeTls: false });
  assert.deepEqual(p(''), { verb: 'UNKNOWN', name: '', looksLikeHttp: false, looksLikeTls: false });
  const c = p(Buffer.from([0xff, 0xfe, 0x00, 0x41]));
  assert.equal(c.verb, 'UNKNOWN');
  if (c.verb === 'UNKNOWN') assert.match(c.name, /^[\x21-\x7e]*$/, 'name is printable');
});

test('HTTP requests are flagged', () => {
  for (const s of ['GET / HTTP/1.1', 'POST /x HTTP/1.0', 'CONNECT mx.example:25 HTTP/1.1', 'HEAD /', 'PUT /a', 'OPTIONS * HTTP/1.1', 'get /']) {
    const c = p(s);
    assert.equal(c.verb, 'UNKNOWN');
    if (c.verb === 'UNKNOWN') {
      assert.equal(c.looksLikeHttp, true, s);
      assert.equal(c.looksLikeTls, false, s);
    }
  }
  const host = p('Host: example.com');
  assert.ok(host.verb === 'UNKNOWN' && !host.looksLikeHttp);
  const weird = p('FOO /index.html HTTP/1.1');
  assert.ok(weird.verb === 'UNKNOWN' && weird.looksLikeHttp);
});

test('TLS ClientHello and SSLv2 hello are flagged', () => {
  const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);
  const c = p(hello);
  assert.ok(c.verb === 'UNKNOWN' && c.looksLikeTls && !c.looksLikeHttp);
  const v2 = p(Buffer.from([0x80, 0x2e, 0x01, 0x00, 0x02]));
  assert.ok(v2.verb === 'UNKNOWN' && v2.looksLikeTls);
});

// ---- control characters and encoding --------------------------------------------

test('NUL or any control character anywhere in a known command → 501 5.5.2', () => {
  for (const s of [
    'MAIL FROM:<a\0b@c.example>',
    'MAIL FROM:<a@b.example>\0',
    'RCPT TO:<a\r\n@b.example>',
    'RCPT TO:<a\t@b.example>',
    'RCPT TO:<"a\tb"@b.example>',
    'MAIL FROM:<a@b.example> ENVID=a\x01b',
    'NOOP \x7f',
    'DATA\0',
    'QUIT\r',
    'MAIL\tFROM:<a@b.example>',
  ]) {
    invalid(Buffer.from(s, 'latin1'), 501, '5.5.2');
  }
});

test('invalid UTF-8 → 501 5.5.2', () => {
  const bad = Buffer.concat([Buffer.from('MAIL FROM:<'), Buffer.from([0xc3, 0x28]), Buffer.from('@b.example>')]);
  invalid(bad, 501, '5.5.2');
  invalid(Buffer.concat([Buffer.from('EHLO '), Buffer.from([0xed, 0xa0, 0x80])]), 501, '5.5.2'); // surrogate
});

test('invisible Unicode and C1 controls in addresses → 553 5.1.3', () => {
  for (const ch of ['\u200b', '\u2060', '\ufeff', '\u0085', '\u009b', '\u202e', '\u00ad']) {
    invalid(`MAIL FROM:<ad${ch}min@bank.example>`, 553, '5.1.3');
    invalid(`RCPT TO:<admin@ba${ch}nk.example>`, 553, '5.1.3');
  }
});

test('non-ASCII addresses → 553 5.6.7 SMTPUTF8 not supported', () => {
  assert.match(invalid('MAIL FROM:<jürgen@example.de>', 553, '5.6.7'), /SMTPUTF8 not supported/);
  invalid('RCPT TO:<user@bücher.example>', 553, '5.6.7');
  invalid('MAIL FROM:<δοκιμή@παράδειγμα.δοκιμή> SMTPUTF8', 553, '5.6.7');
});

// ---- MAIL FROM ---------------------------------------------------------------------

test('MAIL FROM basic, null sender, lenient space, domain lower-cased', () => {
  assert.deepEqual(mail('MAIL FROM:<Alice@Example.COM>').from, { local: 'Alice', domain: 'example.com', quoted: false, hadSourceRoute: false });
  assert.equal(mail('MAIL FROM:<>').from, null);
  assert.equal(mail('MAIL FROM: <>').from, null);
  assert.deepEqual(mail('MAIL FROM: <a@b.example>').from?.domain, 'b.example');
  assert.equal(mail('MAIL FROM:<> SIZE=100').params.get('SIZE'), '100');
});

test('MAIL syntax errors', () => {
  invalid('MAIL', 501, '5.5.4');
  invalid('MAIL TO:<a@b.example>', 501, '5.5.4');
  invalid('MAIL FROM <a@b.example>', 501, '5.5.4');
  invalid('MAIL FROM:a@b.example', 501, '5.1.7');
  invalid('MAIL FROM:  <a@b.example>', 501, '5.1.7');
  invalid('MAIL FROM:', 501, '5.1.7');
  invalid('MAIL FROM:<a@b.example', 501, '5.1.7');
  invalid('MAIL FROM:<a@>', 501, '5.1.7');
  invalid('MAIL FROM:<@b.example>', 501, '5.1.7');
  invalid('MAIL FROM:<a..b@c.example>', 501, '5.1.7');
  invalid('MAIL FROM:<.a@c.example>', 501, '5.1.7');
  invalid('MAIL FROM:<a@b@c.example>', 501, '5.1.7');
  invalid('MAIL FROM:<a b@c.example>', 501, '5.1.7');
  invalid('MAIL FROM:<a@b..example>', 501, '5.1.7');
  invalid('MAIL FROM:<a@-b.example>', 501, '5.1.7');
  invalid('MAIL FROM:<a@[1.2.3.400]>', 501, '5.1.7');
  assert.match(invalid('MAIL FROM:<bob>', 501, '5.1.7'), /fully qualified/);
  invalid('MAIL FROM:<postmaster>', 501, '5.1.7');
  invalid('MAIL FROM:<a@b.example>SIZE=1', 501, '5.5.4');
});

test('shell metacharacters and expansion syntax never parse into something dangerous', () => {
  invalid('MAIL FROM:<;sleep 10;@x.example>', 501, '5.1.7');
  invalid('MAIL FROM:<`id`@x.example>;', 501, '5.5.4');
  invalid('RCPT TO:<a@x.example;rm -rf>', 501, '5.1.3');
  invalid('RCPT TO:<${run{/bin/sh -c id}}@x.example>', 501, '5.1.3');
  // Legal atext: accepted as an ordinary local part; nothing here is ever executed.
  assert.equal(rcpt('RCPT TO:<${run{x}}@x.example>').to.local, '${run{x}}');
});

// ---- RCPT TO --------------------------------------------------------------------

test('RCPT TO basic and lenient', () => {
  assert.deepEqual(rcpt('RCPT TO:<bob@Rcpt.Example>').to, { local: 'bob', domain: 'rcpt.example', quoted: false, hadSourceRoute: false });
  assert.equal(rcpt('RCPT TO: <bob@rcpt.example>').to.local, 'bob');
  invalid('RCPT TO:<>', 501, '5.1.3');
  invalid('RCPT', 501, '5.5.4');
  invalid('RCPT FROM:<a@b.example>', 501, '5.5.4');
  invalid('RCPT TO:bob@rcpt.example', 501, '5.1.3');
});

test('bare postmaster is allowed in RCPT, any case', () => {
  assert.deepEqual(rcpt('RCPT TO:<postmaster>').to, { local: 'postmaster', domain: '', quoted: false, hadSourceRoute: false });
  assert.deepEqual(rcpt('RCPT TO:<PostMaster>').to.domain, '');
  assert.equal(rcpt('RCPT TO:<postmaster@example.com>').to.domain, 'example.com');
});

test('unqualified recipients → 501 5.1.3 address must be fully qualified', () => {
  assert.match(invalid('RCPT TO:<bob>', 501, '5.1.3'), /address must be fully qualified/);
  invalid('RCPT TO:<@a.example:bob>', 501, '5.1.3');
  invalid('RCPT TO:<"bob">', 501, '5.1.3');
});

test('source routes are accepted and flagged', () => {
  const r = rcpt('RCPT TO:<@a.example,@b.example:u@D.example>');
  assert.deepEqual(r.to, { local: 'u', domain: 'd.example', quoted: false, hadSourceRoute: true });
  assert.equal(mail('MAIL FROM:<@[192.0.2.1]:u@d.example>').from?.hadSourceRoute, true);
  invalid('RCPT TO:<@a.example,b.example:u@d.example>', 501, '5.1.3');
  invalid('RCPT TO:<@a..example:u@d.example>', 501, '5.1.3');
  invalid('RCPT TO:<@a.example u@d.example>', 501, '5.1.3');
});

test('quoted local parts', () => {
  assert.deepEqual(rcpt('RCPT TO:<"john doe"@example.com>').to, { local: 'john doe', domain: 'example.com', quoted: true, hadSourceRoute: false });
  assert.equal(rcpt('RCPT TO:<"a\\"b\\\\c"@example.com>').to.local, 'a"b\\c');
  assert.equal(rcpt('RCPT TO:<"a>b"@example.com> NOTIFY=NEVER').to.local, 'a>b');
  assert.equal(rcpt('RCPT TO:<"a@b"@example.com>').to.local, 'a@b');
  assert.equal(rcpt('RCPT TO:<""@example.com>').to.local, '');
  invalid('RCPT TO:<"unterminated@example.com>', 501, '5.1.3');
  invalid('RCPT TO:<"a"b@example.com>', 501, '5.1.3');
});

test('percent and bang addresses are ordinary local parts (relay policy decides later)', () => {
  assert.deepEqual(rcpt('RCPT TO:<user%victim.example@relay.example>').to, {
    local: 'user%victim.example',
    domain: 'relay.example',
    quoted: false,
    hadSourceRoute: false,
  });
  assert.equal(rcpt('RCPT TO:<victim.example!user@relay.example>').to.local, 'victim.example!user');
});

test('address literals in mailboxes', () => {
  assert.equal(rcpt('RCPT TO:<u@[192.0.2.7]>').to.domain, '[192.0.2.7]');
  assert.equal(rcpt('RCPT TO:<u@[IPv6:2001:DB8::7]>').to.domain, '[IPv6:2001:db8::7]');
  assert.equal(rcpt('RCPT TO:<u@[IPv6:::ffff:192.0.2.1]>').to.domain, '[IPv6:::ffff:192.0.2.1]');
  invalid('RCPT TO:<u@[IPv6:1::2::3]>', 501, '5.1.3');
  invalid('RCPT TO:<u@[example.com]>', 501, '5.1.3');
  invalid('RCPT TO:<u@[]>', 501, '5.1.3');
});

test('length limits (RFC 5321 §4.5.3.1) → 553 5.1.3', () => {
  const l64 = 'l'.repeat(64);
  assert.equal(rcpt(`RCPT TO:<${l64}@example.com>`).to.local, l64);
  invalid(`RCPT TO:<${'l'.repeat(65)}@example.com>`, 553, '5.1.3');
  invalid(`MAIL FROM:<"${'q'.repeat(63)}"@example.com>`, 553, '5.1.3');
  // path: '<' + local + '@' + domain + '>' = 256 ok, 257 too long
  const domain250 = `${'d'.repeat(63)}.${'d'.repeat(63)}.${'d'.repeat(63)}.${'d'.repeat(54)}.com`;
  assert.equal(domain250.length, 250);
  const local = 'x'.repeat(256 - 3 - domain250.length);
  assert.equal(`<${local}@${domain250}>`.length, 256);
  assert.equal(rcpt(`RCPT TO:<${local}@${domain250}>`).to.domain, domain250);
  assert.match(invalid(`RCPT TO:<${local}x@${domain250}>`, 553, '5.1.3'), /path/);
  invalid(`MAIL FROM:<a@${'d'.repeat(63)}.${'e'.repeat(260)}>`, 553, '5.1.3');
  // a label longer than 63 is a syntax error
  invalid(`RCPT TO:<a@${'d'.repeat(64)}.com>`, 501, '5.1.3');
});

// ---- ESMTP parameters ---------------------------------------------------------------

test('ESMTP params: keyword upper-cased, values raw, valueless = true', () => {
  const m = mail('MAIL FROM:<a@b.example> size=1024 Body=8BITMIME SMTPUTF8 ret=HDRS ENVID=QQ314159 AUTH=<>');
  assert.deepEqual([...m.params], [
    ['SIZE', '1024'],
    ['BODY', '8BITMIME'],
    ['SMTPUTF8', true],
    ['RET', 'HDRS'],
    ['ENVID', 'QQ314159'],
    ['AUTH', '<>'],
  ]);
  const r = rcpt('RCPT TO:<c@d.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c+40d.example');
  assert.equal(r.params.get('ORCPT'), 'rfc822;c+40d.example');
  assert.equal(r.params.get('NOTIFY'), 'SUCCESS,FAILURE');
});

test('unknown and bogus-but-well-formed params are parsed, not rejected', () => {
  const m = mail('MAIL FROM:<a@b.example> X-FOO=bar XYZZY 7BIT-THING=1');
  assert.equal(m.params.get('X-FOO'), 'bar');
  assert.equal(m.params.get('XYZZY'), true);
  assert.equal(m.params.get('7BIT-THING'), '1');
  assert.equal(mail('MAIL FROM:<a@b.example>  SIZE=1   BODY=7BIT ').params.size, 2);
});

test('param syntax errors → 501 5.5.4', () => {
  for (const s of [
    'MAIL FROM:<a@b.example> SIZE=',
    'MAIL FROM:<a@b.example> =1',
    'MAIL FROM:<a@b.example> -X=1',
    'MAIL FROM:<a@b.example> X_Y=1',
    'MAIL FROM:<a@b.example> SIZE=1=2',
    'MAIL FROM:<a@b.example> SIZE=1 size=2',
    'MAIL FROM:<a@b.example> ENVID=é',
    'RCPT TO:<a@b.example> NOTIFY=NEVER,\u200b',
  ]) {
    invalid(s, 501, '5.5.4');
  }
});

test('xtext-encoded CR/LF or other controls in a param value → 501 5.5.4', () => {
  invalid('MAIL FROM:<a@b.example> ENVID=a+0D+0Ab', 501, '5.5.4');
  invalid('MAIL FROM:<a@b.example> ENVID=ab+0acd', 501, '5.5.4');
  invalid('RCPT TO:<a@b.example> ORCPT=rfc822;a+0D+0A', 501, '5.5.4');
  invalid('RCPT TO:<a@b.example> ORCPT=rfc822;a+00', 501, '5.5.4');
  invalid('RCPT TO:<a@b.example> ORCPT=utf-8;a\\x{D}\\x{A}', 501, '5.5.4');
  invalid('MAIL FROM:<a@b.example> AUTH=a+7F', 501, '5.5.4');
  // ordinary xtext escapes are fine
  assert.equal(mail('MAIL FROM:<a@b.example> ENVID=a+2Bb+3Dc').params.get('ENVID'), 'a+2Bb+3Dc');
});
