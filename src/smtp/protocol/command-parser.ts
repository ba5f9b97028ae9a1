/**
 * RFC 5321 command-line parser: one line (without CRLF) in, one `Command` out.
 * Pure syntax: it never decides whether an ESMTP parameter is supported, whether
 * a domain is local, or whether a sender is allowed — that is the session's job.
 * Hostile input is answered with a precise `INVALID` reply instead of throwing.
 */
import { isUtf8 } from 'node:buffer';
import { isIPv6 } from 'node:net';
import { reply, type SmtpReply } from '../../core/smtp-reply.js';
import type { Command, EsmtpParams, Mailbox } from './command.js';

type KnownVerb = 'EHLO' | 'HELO' | 'MAIL' | 'RCPT' | 'DATA' | 'RSET' | 'NOOP' | 'QUIT' | 'STARTTLS' | 'HELP' | 'VRFY' | 'EXPN';

const KNOWN_VERBS: ReadonlySet<string> = new Set<KnownVerb>([
  'EHLO', 'HELO', 'MAIL', 'RCPT', 'DATA', 'RSET', 'NOOP', 'QUIT', 'STARTTLS', 'HELP', 'VRFY', 'EXPN',
]);

const HTTP_METHOD = /^(?:GET|POST|HEAD|PUT|CONNECT|OPTIONS|DELETE|PATCH|TRACE) /i;

/** RFC 5321 limits (§4.5.3.1.1–3), in octets. */
export const MAX_LOCAL_PART = 64;
export const MAX_DOMAIN = 255;
export const MAX_PATH = 256;

/** Dot-string = Atom *("." Atom), Atom = 1*atext (RFC 5321 §4.1.2). */
const DOT_STRING = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/;
/** A domain label: letters, digits, underscore, hyphen; no leading or trailing hyphen. */
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$/;
const ESMTP_KEYWORD = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
/** esmtp-value = 1*(%d33-60 / %d62-126) */
const ESMTP_VALUE = /^[\x21-\x3c\x3e-\x7e]+$/;
/** Invisible or format characters that make two addresses look identical: C1 controls, zero-width, bidi, BOM, soft hyphen. */
const INVISIBLE = /[\u0080-\u009f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\ufff9-\ufffb]/u;
const NON_ASCII = /[^\x00-\x7f]/;

// ---- replies --------------------------------------------------------------

const R_CONTROL = reply(501, '5.5.2', 'Syntax error: control characters are not allowed in commands');
const R_UTF8 = reply(501, '5.5.2', 'Syntax error: invalid UTF-8 in command');
const R_INVISIBLE = reply(553, '5.1.3', 'Address contains invisible or control characters');
const R_SMTPUTF8 = reply(553, '5.6.7', 'SMTPUTF8 not supported');
const R_TOO_LONG_LOCAL = reply(553, '5.1.3', `Address local part exceeds ${MAX_LOCAL_PART} octets`);
const R_TOO_LONG_DOMAIN = reply(553, '5.1.3', `Address domain exceeds ${MAX_DOMAIN} octets`);
const R_TOO_LONG_PATH = reply(553, '5.1.3', `Address path exceeds ${MAX_PATH} octets`);
const R_PARAMS = reply(501, '5.5.4', 'Syntax error in parameters');
const R_PARAM_CTL = reply(501, '5.5.4', 'Syntax error: control characters in parameter value');
const R_PARAM_DUP = reply(501, '5.5.4', 'Syntax error: duplicate parameter');

// ---- public -----------------------------------------------------------------

/**
 * Parses one command line (without its CRLF). Never throws.
 * Known verbs with bad syntax give `INVALID` with the reply to send;
 * anything else gives `UNKNOWN` (flagging HTTP and TLS ClientHello input).
 */
export function parseCommand(line: Buffer): Command {
  // The verb is the leading run of ASCII letters; it must be followed by SP,
  // the end of the line, or a control character (rejected below as 501 5.5.2).
  let v = 0;
  while (v < line.length && isLetter(line[v]!)) v++;
  const after = line[v];
  if (v === 0 || v > 16 || (after !== undefined && after !== 0x20 && after >= 0x20 && after !== 0x7f)) {
    const sp0 = line.indexOf(0x20);
    return unknown(line, sp0 === -1 ? line : line.subarray(0, sp0));
  }
  const verb = line.subarray(0, v).toString('latin1').toUpperCase();
  if (!KNOWN_VERBS.has(verb)) return unknown(line, line.subarray(0, v));
  const name = verb as KnownVerb;
  const sp = after === 0x20 ? v : -1;

  for (let i = 0; i < line.length; i++) {
    const b = line[i]!;
    if (b < 0x20 || b === 0x7f) return invalid(name, R_CONTROL);
  }
  let text: string;
  if (isAscii(line)) text = line.toString('latin1');
  else if (isUtf8(line)) text = line.toString('utf8');
  else return invalid(name, R_UTF8);

  // Argument: everything after the verb's space; surrounding spaces are tolerated.
  const arg = sp === -1 ? '' : trimSpaces(text.slice(sp + 1));

  switch (name) {
    case 'EHLO':
    case 'HELO':
      return parseHelo(name, arg);
    case 'MAIL':
      return parseMail(arg);
    case 'RCPT':
      return parseRcpt(arg);
    case 'DATA':
    case 'RSET':
    case 'QUIT':
    case 'STARTTLS':
      if (arg !== '') return invalid(name, reply(501, '5.5.4', `Syntax error: ${name} takes no parameters`));
      return { verb: name };
    case 'NOOP':
    case 'HELP':
      return { verb: name };
    case 'VRFY':
    case 'EXPN':
      if (arg === '') return invalid(name, reply(501, '5.5.4', `Syntax: ${name} <address>`));
      return { verb: name, argument: arg };
  }
}

/**
 * True when `domain` is a syntactically valid domain (labels of letters, digits,
 * hyphen, underscore; at most 63 octets each, 255 in total) or address literal.
 */
export function isValidDomainOrLiteral(domain: string): boolean {
  if (domain.startsWith('[')) return normalizeAddressLiteral(domain) !== null;
  return isValidDomain(domain);
}

// ---- verbs ------------------------------------------------------------------

function parseHelo(name: 'EHLO' | 'HELO', arg: string): Command {
  const bad = (): Command => invalid(name, reply(501, '5.5.4', `Syntax: ${name} hostname`));
  if (arg === '' || arg.includes(' ') || arg.length > MAX_DOMAIN) return bad();
  if (arg.startsWith('[')) {
    const lit = normalizeAddressLiteral(arg);
    return lit === null ? bad() : { verb: name, domain: lit };
  }
  return isValidDomain(arg) ? { verb: name, domain: arg } : bad();
}

function parseMail(arg: string): Command {
  const rest = stripPrefix(arg, 'FROM:');
  if (rest === null) return invalid('MAIL', reply(501, '5.5.4', 'Syntax: MAIL FROM:<address>'));
  const path = parsePath(rest, 'MAIL');
  if ('reply' in path) return invalid('MAIL', path.reply);
  const params = parseParams(path.after);
  if ('reply' in params) return invalid('MAIL', params.reply);
  return { verb: 'MAIL', from: path.mailbox, params };
}

function parseRcpt(arg: string): Command {
  const rest = stripPrefix(arg, 'TO:');
  if (rest === null) return invalid('RCPT', reply(501, '5.5.4', 'Syntax: RCPT TO:<address>'));
  const path = parsePath(rest, 'RCPT');
  if ('reply' in path) return invalid('RCPT', path.reply);
  if (path.mailbox === null) return invalid('RCPT', reply(501, '5.1.3', 'Bad recipient address syntax: empty address'));
  const params = parseParams(path.after);
  if ('reply' in params) return invalid('RCPT', params.reply);
  return { verb: 'RCPT', to: path.mailbox, params };
}

/** `FROM:` / `TO:` case-insensitively, then at most one space (the common `MAIL FROM: <a@b>`). */
function stripPrefix(arg: string, prefix: string): string | null {
  if (arg.length < prefix.length || arg.slice(0, prefix.length).toUpperCase() !== prefix) return null;
  let rest = arg.slice(prefix.length);
  if (rest.startsWith(' ')) rest = rest.slice(1);
  return rest;
}

// ---- paths and mailboxes ------------------------------------------------------

type PathResult = { mailbox: Mailbox | null; after: string } | { reply: SmtpReply };

/**
 * Parses `<...>` at the start of `s` (Reverse-path / Forward-path, RFC 5321 §4.1.2).
 * `after` is what follows the closing `>` (must be empty or start with a space).
 */
function parsePath(s: string, kind: 'MAIL' | 'RCPT'): PathResult {
  const syntax = (why: string): PathResult =>
    kind === 'MAIL'
      ? { reply: reply(501, '5.1.7', `Bad sender address syntax: ${why}`) }
      : { reply: reply(501, '5.1.3', `Bad recipient address syntax: ${why}`) };

  if (!s.startsWith('<')) return syntax('address must be enclosed in <>');
  // Find the closing '>' outside a quoted string.
  let end = -1;
  let inQuote = false;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (inQuote) {
      if (c === '\\') i++;
      else if (c === '"') inQuote = false;
    } else if (c === '"') inQuote = true;
    else if (c === '>') {
      end = i;
      break;
    }
  }
  const inner = end === -1 ? s.slice(1) : s.slice(1, end);
  // Character-class checks first: they give the most precise answer.
  if (INVISIBLE.test(inner)) return { reply: R_INVISIBLE };
  if (NON_ASCII.test(inner)) return { reply: R_SMTPUTF8 };
  if (end === -1) return syntax('missing closing >');
  if (end + 1 > MAX_PATH) return { reply: R_TOO_LONG_PATH };

  const after = s.slice(end + 1);
  const mailbox = parseMailboxInner(inner, kind);
  if (typeof mailbox === 'string') return syntax(mailbox);
  if ('reply' in mailbox) return mailbox;
  if (after !== '' && !after.startsWith(' ')) return { reply: R_PARAMS };
  return { mailbox: mailbox.mailbox, after };
}

/** Parses the text between `<` and `>`. A string result is a syntax-error reason. */
function parseMailboxInner(inner: string, kind: 'MAIL' | 'RCPT'): string | { mailbox: Mailbox | null } | { reply: SmtpReply } {
  if (inner === '') {
    return kind === 'MAIL' ? { mailbox: null } : 'empty address';
  }
  let rest = inner;
  let hadSourceRoute = false;
  if (rest.startsWith('@')) {
    // A-d-l ":" — a source route, accepted and ignored (RFC 5321 §4.1.1.3, appendix C).
    const colon = rest.indexOf(':');
    if (colon === -1) return 'malformed source route';
    for (const hop of rest.slice(0, colon).split(',')) {
      if (!hop.startsWith('@') || !isValidDomainOrLiteral(hop.slice(1))) return 'malformed source route';
    }
    hadSourceRoute = true;
    rest = rest.slice(colon + 1);
  }

  let local: string;
  let localRaw: string;
  let quoted = false;
  let domainPart: string;
  if (rest.startsWith('"')) {
    const q = parseQuotedString(rest);
    if (q === null) return 'malformed quoted local part';
    local = q.value;
    localRaw = rest.slice(0, q.end);
    quoted = true;
    domainPart = rest.slice(q.end);
    if (domainPart === '') return 'address must be fully qualified';
    if (!domainPart.startsWith('@')) return 'malformed quoted local part';
    domainPart = domainPart.slice(1);
  } else {
    const at = rest.lastIndexOf('@');
    if (at === -1) {
      if (kind === 'RCPT' && !hadSourceRoute && rest.toLowerCase() === 'postmaster') {
        return { mailbox: { local: rest, domain: '', quoted: false, hadSourceRoute: false } };
      }
      return DOT_STRING.test(rest) ? 'address must be fully qualified' : 'invalid local part';
    }
    localRaw = rest.slice(0, at);
    local = localRaw;
    domainPart = rest.slice(at + 1);
    if (!DOT_STRING.test(local)) return 'invalid local part';
  }

  let domain: string;
  if (domainPart.startsWith('[')) {
    const lit = normalizeAddressLiteral(domainPart);
    if (lit === null) return 'invalid address literal';
    domain = lit;
  } else {
    if (domainPart.length > MAX_DOMAIN) return { reply: R_TOO_LONG_DOMAIN };
    if (!isValidDomain(domainPart)) return 'invalid domain';
    domain = domainPart.toLowerCase();
  }
  if (localRaw.length > MAX_LOCAL_PART) return { reply: R_TOO_LONG_LOCAL };
  if (domainPart.length > MAX_DOMAIN) return { reply: R_TOO_LONG_DOMAIN };
  return { mailbox: { local, domain, quoted, hadSourceRoute } };
}

/** Quoted-string (RFC 5321 §4.1.2) at the start of `s`: decoded value and index after the closing quote. */
function parseQuotedString(s: string): { value: string; end: number } | null {
  let value = '';
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return { value, end: i + 1 };
    if (c === 0x5c) {
      // quoted-pairSMTP = %d92 %d32-126
      const n = s.charCodeAt(i + 1);
      if (!(n >= 0x20 && n <= 0x7e)) return null;
      value += s[i + 1];
      i++;
      continue;
    }
    // qtextSMTP = %d32-33 / %d35-91 / %d93-126
    if (c < 0x20 || c > 0x7e) return null;
    value += s[i];
  }
  return null;
}

function isValidDomain(d: string): boolean {
  if (d === '' || d.length > MAX_DOMAIN) return false;
  for (const label of d.split('.')) {
    if (label.length > 63 || !LABEL.test(label)) return false;
  }
  return true;
}

/**
 * `[1.2.3.4]` or `[IPv6:...]` (tag case-insensitive); returns the canonical
 * bracketed form (`[IPv6:` + lower-case address + `]`) or null.
 * General address literals (`[tag:...]`) are not accepted.
 */
function normalizeAddressLiteral(s: string): string | null {
  if (!s.startsWith('[') || !s.endsWith(']') || s.length < 3) return null;
  const body = s.slice(1, -1);
  if (isIPv4Literal(body)) return `[${body}]`;
  if (body.slice(0, 5).toLowerCase() === 'ipv6:') {
    const addr = body.slice(5);
    if (addr.includes('%') || !isIPv6(addr)) return null;
    return `[IPv6:${addr.toLowerCase()}]`;
  }
  return null;
}

/** IPv4-address-literal = Snum 3("." Snum), Snum = 1*3DIGIT (0-255). */
function isIPv4Literal(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  return parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
}

// ---- ESMTP parameters ---------------------------------------------------------

/** `*(SP esmtp-param)`; keyword upper-cased; syntax only (RFC 5321 §4.1.2). */
function parseParams(s: string): EsmtpParams | { reply: SmtpReply } {
  const params = new Map<string, string | true>();
  for (const token of s.split(' ')) {
    if (token === '') continue; // tolerate repeated spaces
    const eq = token.indexOf('=');
    const keyword = eq === -1 ? token : token.slice(0, eq);
    if (!ESMTP_KEYWORD.test(keyword)) return { reply: R_PARAMS };
    const key = keyword.toUpperCase();
    if (params.has(key)) return { reply: R_PARAM_DUP };
    if (eq === -1) {
      params.set(key, true);
      continue;
    }
    const value = token.slice(eq + 1);
    if (!ESMTP_VALUE.test(value)) return { reply: R_PARAMS };
    if (decodesToControl(value)) return { reply: R_PARAM_CTL };
    params.set(key, value);
  }
  return params;
}

/**
 * True when the value, read as xtext (`+XX`, RFC 3461 §4) or as RFC 6533
 * unitext (`\x{HEX}`), would decode to a control character such as CR or LF.
 * Applied to every value, whichever parameter it belongs to.
 */
function decodesToControl(v: string): boolean {
  for (const m of v.matchAll(/\+([0-9A-Fa-f]{2})/g)) {
    const c = parseInt(m[1]!, 16);
    if (c < 0x20 || c === 0x7f) return true;
  }
  for (const m of v.matchAll(/\\x\{([0-9A-Fa-f]{1,6})\}/g)) {
    const c = parseInt(m[1]!, 16);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

// ---- helpers ------------------------------------------------------------------

function invalid(name: string, r: SmtpReply): Command {
  return { verb: 'INVALID', name, reply: r };
}

function unknown(line: Buffer, verbBytes: Buffer): Command {
  const first = line[0];
  const looksLikeTls = first === 0x16 || first === 0x80;
  const head = line.subarray(0, 1024).toString('latin1');
  const looksLikeHttp = !looksLikeTls && (HTTP_METHOD.test(head) || line.includes(' HTTP/1.'));
  return { verb: 'UNKNOWN', name: printableName(verbBytes), looksLikeHttp, looksLikeTls };
}

/** The verb as safe text for logs: printable ASCII only, upper-cased, at most 32 characters. */
function printableName(b: Buffer): string {
  let s = '';
  const n = Math.min(b.length, 32);
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    s += c > 0x20 && c < 0x7f ? String.fromCharCode(c) : '?';
  }
  if (b.length > n) s += '...';
  return s.toUpperCase();
}

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isAscii(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i]! >= 0x80) return false;
  return true;
}

function trimSpaces(s: string): string {
  let a = 0;
  let z = s.length;
  while (a < z && s.charCodeAt(a) === 0x20) a++;
  while (z > a && s.charCodeAt(z - 1) === 0x20) z--;
  return s.slice(a, z);
}
