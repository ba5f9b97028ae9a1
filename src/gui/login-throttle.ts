/**
 * Login rate limiting with lockout: 5 failed logins within 15 minutes, counted
 * per client address and per user name, lock that address (or name) out for
 * 15 minutes. A locked-out attempt is refused before the password is checked,
 * so guessing costs nothing but time. A successful login clears the address's
 * and the name's failures.
 */
export const MAX_FAILURES = 5;
export const WINDOW_MS = 15 * 60 * 1000;
export const LOCKOUT_MS = 15 * 60 * 1000;

interface Record {
  failures: number[];
  lockedUntil: number;
}

export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class LoginThrottle {
  private readonly records = new Map<string, Record>();

  constructor(private readonly now: () => number = Date.now) {}

  private keys(address: string, user: string): string[] {
    return [`ip:${address}`, `user:${user.toLowerCase()}`];
  }

  check(address: string, user: string): ThrottleVerdict {
    const t = this.now();
    let until = 0;
    for (const k of this.keys(address, user)) {
      const r = this.records.get(k);
      if (r !== undefined && r.lockedUntil > t) until = Math.max(until, r.lockedUntil);
    }
    return until === 0 ? { allowed: true } : { allowed: false, retryAfterSeconds: Math.ceil((until - t) / 1000) };
  }

  /** Records a failure; returns true when it started a lockout. */
  fail(address: string, user: string): boolean {
    const t = this.now();
    let locked = false;
    for (const k of this.keys(address, user)) {
      const r = this.records.get(k) ?? { failures: [], lockedUntil: 0 };
      r.failures = [...r.failures.filter((f) => t - f < WINDOW_MS), t];
      if (r.failures.length >= MAX_FAILURES && r.lockedUntil <= t) {
        r.lockedUntil = t + LOCKOUT_MS;
        r.failures = [];
        locked = true;
      }
      this.records.set(k, r);
    }
    if (this.records.size > 10_000) this.prune(t);
    return locked;
  }

  succeed(address: string, user: string): void {
    for (const k of this.keys(address, user)) this.records.delete(k);
  }

  private prune(t: number): void {
    for (const [k, r] of this.records) if (r.lockedUntil <= t && r.failures.every((f) => t - f >= WINDOW_MS)) this.records.delete(k);
  }
}
