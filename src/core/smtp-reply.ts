/**
 * An SMTP reply: code, optional enhanced status (RFC 3463) and text lines.
 * Every reply the server sends and every reply the client receives is one of these.
 */
export interface SmtpReply {
  readonly code: number;
  /** Enhanced status code such as "5.7.1"; omitted for banners and 221/354-style replies. */
  readonly enhanced?: string;
  /** One or more text lines; a multi-line reply renders as `code-line` ... `code line`. */
  readonly lines: readonly string[];
}

export function reply(code: number, enhanced: string | undefined, ...lines: string[]): SmtpReply {
  return enhanced === undefined ? { code, lines } : { code, enhanced, lines };
}

export function isPositive(r: SmtpReply): boolean {
  return r.code >= 200 && r.code < 400;
}

export function isTemporary(r: SmtpReply): boolean {
  return r.code >= 400 && r.code < 500;
}

export function isPermanent(r: SmtpReply): boolean {
  return r.code >= 500;
}

/** The reply as the text lines on the wire (each ends with CRLF). */
export function renderReply(r: SmtpReply): string {
  const lines = r.lines.length === 0 ? [''] : r.lines;
  let out = '';
  for (let i = 0; i < lines.length; i++) {
    const sep = i === lines.length - 1 ? ' ' : '-';
    const prefix = r.enhanced !== undefined ? `${r.enhanced} ` : '';
    const text = lines[i] ?? '';
    out += `${r.code}${sep}${prefix}${text}`.trimEnd() + '\r\n';
  }
  return out;
}

/** One line summary of a reply, for logs: `550 5.7.1 Recipient address rejected`. */
export function replyText(r: SmtpReply): string {
  return [String(r.code), r.enhanced, r.lines.join(' / ')].filter((x) => x !== undefined && x !== '').join(' ');
}
