/**
 * Composes an alert email (RFC 5322 + MIME): Date, From, To, Subject,
 * Message-ID, MIME-Version, a text/plain body, `Auto-Submitted:
 * auto-generated` (RFC 3834) and `X-Gatehouse-Alert-*` headers naming the
 * key, classes and severity. Text that came from outside (a remote reply, a
 * certificate subject) never breaks a header: line breaks and control
 * characters become spaces. Non-ASCII subjects are RFC 2047 encoded words;
 * non-ASCII bodies are sent base64 so the message stays 7-bit (a next hop
 * without 8BITMIME would otherwise bounce it).
 */
import crypto from 'node:crypto';
import type { Alert } from './alert.js';

export interface AlertMessageInput {
  alert: Alert;
  from: string;
  to: readonly string[];
  /** Host name for the Message-ID. */
  hostname: string;
  now: Date;
}

export interface AlertMessage {
  messageId: string;
  subject: string;
  /** CRLF line endings, ends with CRLF. */
  body: Buffer;
}

const MAX_LINE = 990;

/** One line of text, safe inside a header or a body line (leading spaces kept: indented lists). */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trimEnd();
  return flat.length > MAX_LINE ? `${flat.slice(0, MAX_LINE - 3)}...` : flat;
}

/** RFC 5322 date-time in UTC: `Sun, 29 Nov 2026 10:46:07 +0000`. */
export function rfc5322Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

const isAscii = (s: string): boolean => /^[\x20-\x7e]*$/.test(s);

/** RFC 2047 `=?UTF-8?B?...?=` words (each at most 75 characters), folded; ASCII text unchanged. */
export function encodeHeaderText(text: string): string {
  if (isAscii(text)) return text;
  const words: string[] = [];
  let chunk = '';
  for (const ch of Array.from(text)) {
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk !== '') words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`).join('\r\n ');
}

export function newMessageId(hostname: string, now: Date): string {
  return `<alert.${now.getTime().toString(36)}.${crypto.randomBytes(6).toString('hex')}@${hostname}>`;
}

export function composeAlertMessage(input: AlertMessageInput): AlertMessage {
  const { alert } = input;
  const subject = oneLine(`[Gatehouse ${alert.severity}] ${alert.subject}`);
  const messageId = newMessageId(input.hostname, input.now);
  const text = [...alert.lines.map(oneLine), '', `Alert key: ${oneLine(alert.key)}`, `Classes: ${alert.classes.join(', ')}; severity: ${alert.severity}`, `Sent by Gatehouse on ${input.hostname}.`].join('\r\n') + '\r\n';
  const ascii = text.split('\r\n').every(isAscii);
  const headers = [
    `Date: ${rfc5322Date(input.now)}`,
    `From: ${input.from}`,
    `To: ${input.to.join(', ')}`,
    `Subject: ${encodeHeaderText(subject)}`,
    `Message-ID: ${messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Transfer-Encoding: ${ascii ? '7bit' : 'base64'}`,
    'Auto-Submitted: auto-generated',
    `X-Gatehouse-Alert-Key: ${oneLine(alert.key)}`,
    `X-Gatehouse-Alert-Class: ${alert.classes.join(', ')}`,
    `X-Gatehouse-Alert-Severity: ${alert.severity}`,
  ];
  const encoded = ascii
    ? text
    : (Buffer.from(text, 'utf8')
        .toString('base64')
        .match(/.{1,76}/g) ?? []
      ).join('\r\n') + '\r\n';
  return { messageId, subject, body: Buffer.from(`${headers.join('\r\n')}\r\n\r\n${encoded}`, 'utf8') };
}
