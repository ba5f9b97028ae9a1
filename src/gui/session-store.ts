/**
 * GUI sessions, in memory (a restart logs everyone out). A session id is 256
 * random bits sent only in the `__Host-gatehouse_session` cookie (Secure,
 * HttpOnly, SameSite=Strict, Path=/); each session has its own CSRF token.
 * A session ends at logout, after the configured idle time without a request,
 * or after 12 hours whatever happens.
 */
import crypto from 'node:crypto';

export const SESSION_COOKIE = '__Host-gatehouse_session';
const ABSOLUTE_LIFETIME_MS = 12 * 3600 * 1000;

/** What a page shows once after a redirect: a message, or the errors of the form that was sent. */
export interface Flash {
  message?: string;
  warnings?: string[];
  error?: string;
  /** Which form the errors belong to (action id plus its target). */
  form?: string;
  fields?: Record<string, string>;
  values?: Record<string, string>;
  /** A secret shown once (a new API token). */
  secret?: { label: string; value: string };
}

export interface GuiSession {
  id: string;
  user: string;
  csrfToken: string;
  createdAt: number;
  lastSeen: number;
  flash?: Flash;
}

export class SessionStore {
  private readonly sessions = new Map<string, GuiSession>();

  constructor(
    private readonly idleMs: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  create(user: string): GuiSession {
    const t = this.now();
    const session: GuiSession = { id: crypto.randomBytes(32).toString('base64url'), user, csrfToken: crypto.randomBytes(32).toString('base64url'), createdAt: t, lastSeen: t };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id (its idle clock restarts), or null when unknown or expired. */
  touch(id: string | undefined): GuiSession | null {
    if (id === undefined) return null;
    const s = this.sessions.get(id);
    if (s === undefined) return null;
    const t = this.now();
    if (t - s.lastSeen > this.idleMs() || t - s.createdAt > ABSOLUTE_LIFETIME_MS) {
      this.sessions.delete(id);
      return null;
    }
    s.lastSeen = t;
    return s;
  }

  destroy(id: string): void {
    this.sessions.delete(id);
  }

  /** Sessions still open (for tests and status). */
  get size(): number {
    return this.sessions.size;
  }
}

/** Constant-time comparison of two tokens. */
export function sameToken(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
