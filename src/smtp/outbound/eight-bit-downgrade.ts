/**
 * 8-bit to 7-bit conversion for a next hop without 8BITMIME (RFC 6152 §3:
 * the sender must convert the message or not deliver it; RFC 1652 §4, RFC
 * 2045 §6.7). Converted: a single-part text/* message whose header section is
 * 7-bit and whose body is 7bit/8bit (or unlabelled): the body becomes
 * quoted-printable (76-character lines, soft breaks, trailing white space and
 * every 8-bit, `=` and stray CR/LF byte encoded, so decoding gives back the
 * exact bytes) and the header says so. A message without Content-Type gets
 * `text/plain; charset=unknown-8bit` (RFC 1428: 8-bit text of unknown
 * charset) and `MIME-Version: 1.0` when missing.
 *
 * Refused (the caller bounces with 554 5.6.3): 8-bit bytes in the header
 * section (that needs SMTPUTF8), multipart and message/* bodies, non-text
 * types, `binary`, and bodies labelled quoted-printable/base64 that still hold
 * 8-bit bytes (already malformed). Pure: bytes in, bytes out.
 */

export type DowngradeResult = { kind: 'converted'; body: Buffer } | { kind: 'refused'; reason: string };

const CRLF = Buffer.from('\r\n');
const MAX_LINE = 76;
const HEX = '0123456789ABCDEF';

interface HeaderField {
  /** Lower-case field name. */
  name: string;
  /** The whole field, folded lines included, without its final CRLF. */
  raw: string;
  /** The unfolded value. */
  value: string;
}

function parseHeader(section: string): HeaderField[] {
  const fields: HeaderField[] = [];
  for (const line of section.split('\r\n')) {
    if (line === '') continue;
    const last = fields[fields.length - 1];
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      last.raw += `\r\n${line}`;
      last.value += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    const name = (colon < 0 ? line : line.slice(0, colon)).trim().toLowerCase();
    fields.push({ name, raw: line, value: colon < 0 ? '' : line.slice(colon + 1).trim() });
  }
  return fields;
}

/** `text/plain; charset=utf-8` → `text/plain`. */
function mediaType(value: string): string {
  return (value.split(';')[0] ?? '').trim().toLowerCase();
}

/** Quoted-printable of one line (without its CRLF), with soft line breaks at 76 characters. */
function encodeLine(line: Buffer): string {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const b = line[i]!;
    const last = i === line.length - 1;
    let token: string;
    if ((b === 0x20 || b === 0x09) && !last) token = String.fromCharCode(b);
    else if (b >= 0x21 && b <= 0x7e && b !== 0x3d) token = String.fromCharCode(b);
    else token = `=${HEX[b >> 4]}${HEX[b & 15]}`;
    // Room for the token and, unless this is the end of the line, a soft break `=`.
    if (current.length + token.length > (last ? MAX_LINE : MAX_LINE - 1)) {
      out.push(`${current}=`);
      current = '';
    }
    current += token;
  }
  out.push(current);
  return out.join('\r\n');
}

/** The body as quoted-printable: CRLF line ends kept, everything else encoded per line. */
export function quotedPrintable(body: Buffer): string {
  const lines: string[] = [];
  let start = 0;
  for (let i = body.indexOf(CRLF); i >= 0; i = body.indexOf(CRLF, start)) {
    lines.push(encodeLine(body.subarray(start, i)));
    start = i + 2;
  }
  const tail = body.subarray(start);
  if (tail.length > 0) lines.push(encodeLine(tail));
  return lines.join('\r\n') + (body.length > 0 && tail.length === 0 ? '\r\n' : '');
}

export function downgradeTo7bit(message: Buffer): DowngradeResult {
  const end = message.indexOf('\r\n\r\n');
  if (end < 0) return { kind: 'refused', reason: 'no header/body separator' };
  const headerBytes = message.subarray(0, end + 2);
  for (const b of headerBytes) if (b >= 0x80) return { kind: 'refused', reason: '8-bit bytes in the header section' };
  const fields = parseHeader(headerBytes.toString('latin1'));
  const contentType = fields.find((f) => f.name === 'content-type');
  const type = contentType ? mediaType(contentType.value) : null;
  if (type !== null && !type.startsWith('text/')) return { kind: 'refused', reason: `${type} bodies are not converted` };
  const cte = fields.find((f) => f.name === 'content-transfer-encoding');
  const encoding = cte ? cte.value.trim().toLowerCase() : '7bit';
  if (encoding !== '7bit' && encoding !== '8bit') return { kind: 'refused', reason: `8-bit bytes in a ${encoding} body` };

  const kept = fields.filter((f) => f.name !== 'content-transfer-encoding').map((f) => f.raw);
  if (!fields.some((f) => f.name === 'mime-version')) kept.push('MIME-Version: 1.0');
  if (!contentType) kept.push('Content-Type: text/plain; charset=unknown-8bit');
  kept.push('Content-Transfer-Encoding: quoted-printable');
  const body = message.subarray(end + 4);
  return { kind: 'converted', body: Buffer.from(`${kept.join('\r\n')}\r\n\r\n${quotedPrintable(body)}`, 'latin1') };
}
