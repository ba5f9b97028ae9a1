/**
 * The DATA transparency of the outbound client (RFC 5321 §4.5.2; catalogue
 * #15, #16): the body goes out with CRLF line endings only (a stray CR or LF
 * becomes CRLF, so no downstream parser can see a different end of data) and
 * every line that starts with `.` gets another `.`. The result always ends
 * with CRLF; the caller appends the terminating `.` CRLF.
 */

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

export function dotStuff(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(body.length * 2 + 2);
  let o = 0;
  let lineStart = true;
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    if (b === CR || b === LF) {
      // CRLF, a bare CR and a bare LF all end the line with CRLF.
      if (b === CR && body[i + 1] === LF) i++;
      out[o++] = CR;
      out[o++] = LF;
      lineStart = true;
      continue;
    }
    if (lineStart && b === DOT) out[o++] = DOT;
    out[o++] = b;
    lineStart = false;
  }
  if (!lineStart || o === 0) {
    out[o++] = CR;
    out[o++] = LF;
  }
  return out.subarray(0, o);
}

/** Whether a body holds 8-bit bytes (needs 8BITMIME at the next hop). */
export function has8BitBytes(body: Buffer): boolean {
  for (let i = 0; i < body.length; i++) if (body[i]! >= 0x80) return true;
  return false;
}
