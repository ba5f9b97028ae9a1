/**
 * `maxRecipientsPerHour` of a mail flow policy: recipients accepted per remote
 * host over a sliding hour. Counts live in memory (per gateway process), in
 * one-minute buckets so memory stays small however busy a host is.
 */
import type { Clock } from '../core/clock.js';

const HOUR_MS = 3_600_000;
const BUCKET_MS = 60_000;

export class RecipientRateLimiter {
  private readonly buckets = new Map<string, Map<number, number>>();

  constructor(private readonly clock: Clock) {}

  /** Records one recipient for `host` if it fits under `limit` (null = unlimited); returns whether it fit. */
  tryConsume(host: string, limit: number | null): boolean {
    if (limit === null) return true;
    const now = this.clock.now();
    const counts = this.buckets.get(host) ?? new Map<number, number>();
    let total = 0;
    for (const [start, n] of counts) {
      if (start <= now - HOUR_MS) counts.delete(start);
      else total += n;
    }
    if (total >= limit) {
      this.buckets.set(host, counts);
      return false;
    }
    const bucket = Math.floor(now / BUCKET_MS) * BUCKET_MS;
    counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
    this.buckets.set(host, counts);
    return true;
  }

  /** Drops hosts with nothing in the last hour (call now and then). */
  sweep(): void {
    const cutoff = this.clock.now() - HOUR_MS;
    for (const [host, counts] of this.buckets) {
      for (const start of counts.keys()) if (start <= cutoff) counts.delete(start);
      if (counts.size === 0) this.buckets.delete(host);
    }
  }
}
