/**
 * API tokens for scripts (`Authorization: Bearer <token>` on /api/). A token is
 * shown once when it is created; only its SHA-256 is kept, in
 * `<home>/state/api-tokens.json` (mode 0600), with a name, the user it acts
 * as and when it was created and last used. Tokens are 256 random bits, so a
 * plain SHA-256 (not a slow password hash) is the right check. Created and
 * revoked from the GUI (Configuration page) or the API; both are audited.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../core/atomic-file.js';
import { UserError } from '../core/errors.js';
import type { HomeLayout } from '../core/home-layout.js';
import { appendAudit } from './audit-log.js';

export const API_TOKEN_PREFIX = 'ghk_';
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface ApiTokenRecord {
  name: string;
  user: string;
  /** Hex SHA-256 of the whole token. */
  sha256: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** What may be shown of a token: everything but its hash. */
export type ApiTokenSummary = Omit<ApiTokenRecord, 'sha256'>;

function tokensFile(layout: HomeLayout): string {
  return path.join(layout.stateDir, 'api-tokens.json');
}

function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

function readTokens(layout: HomeLayout): ApiTokenRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(tokensFile(layout), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const parsed = JSON.parse(text) as { tokens?: ApiTokenRecord[] };
  return Array.isArray(parsed.tokens) ? parsed.tokens : [];
}

function writeTokens(layout: HomeLayout, tokens: ApiTokenRecord[]): void {
  fs.mkdirSync(layout.stateDir, { recursive: true, mode: 0o700 });
  writeFileAtomicSync(tokensFile(layout), `${JSON.stringify({ tokens }, null, 2)}\n`, 0o600);
}

export function listApiTokens(layout: HomeLayout): ApiTokenSummary[] {
  return readTokens(layout).map(({ sha256: _h, ...rest }) => rest);
}

/** Creates a token for `user`; returns the token itself, which is never stored or shown again. */
export function createApiToken(layout: HomeLayout, user: string, name: string, now = new Date()): { token: string; summary: ApiTokenSummary } {
  if (!TOKEN_NAME.test(name)) throw new UserError('token name: must be letters, digits, _ . or - (at most 64), starting with a letter or digit');
  const tokens = readTokens(layout);
  if (tokens.some((t) => t.name === name)) throw new UserError(`an API token named ${name} exists already; revoke it first`);
  const token = `${API_TOKEN_PREFIX}${crypto.randomBytes(32).toString('base64url')}`;
  const record: ApiTokenRecord = { name, user, sha256: hashToken(token), createdAt: now.toISOString(), lastUsedAt: null };
  writeTokens(layout, [...tokens, record]);
  appendAudit(layout, { user, action: `apitoken new ${name}` });
  const { sha256: _h, ...summary } = record;
  return { token, summary };
}

export function revokeApiToken(layout: HomeLayout, user: string, name: string): void {
  const tokens = readTokens(layout);
  if (!tokens.some((t) => t.name === name)) throw new UserError(`no API token named ${name}`);
  writeTokens(layout, tokens.filter((t) => t.name !== name));
  appendAudit(layout, { user, action: `apitoken revoke ${name}` });
}

/** The token's record when `token` is a valid token (compared by hash in constant time), else null. */
export function verifyApiToken(layout: HomeLayout, token: string, now = new Date()): ApiTokenSummary | null {
  if (!token.startsWith(API_TOKEN_PREFIX)) return null;
  const wanted = Buffer.from(hashToken(token), 'hex');
  const tokens = readTokens(layout);
  const match = tokens.find((t) => {
    const stored = Buffer.from(t.sha256, 'hex');
    return stored.length === wanted.length && crypto.timingSafeEqual(stored, wanted);
  });
  if (match === undefined) return null;
  match.lastUsedAt = now.toISOString();
  writeTokens(layout, tokens);
  const { sha256: _h, ...summary } = match;
  return summary;
}
