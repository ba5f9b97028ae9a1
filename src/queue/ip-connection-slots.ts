/**
 * A cap on delivery connections per next-hop IP address, across destination
 * domains (`queue.maxConnectionsPerIp`): two domains served by the same MX
 * host share its slots, so their per-domain `maxConcurrency` values cannot add
 * up past what one remote host is asked to take. A worker that finds the IP
 * full waits (first come, first served) until a connection to it closes. The
 * limit is read on every acquire, so a new configuration applies at once.
 */

export class IpConnectionSlots {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(private readonly limit: () => number) {}

  /** Connections now open (or being opened) to `ip`. */
  inUse(ip: string): number {
    return this.active.get(ip) ?? 0;
  }

  /** Waits for a slot for `ip`; returns its release function (calling it twice is harmless). */
  async acquire(ip: string): Promise<() => void> {
    while (this.inUse(ip) >= Math.max(1, this.limit())) {
      await new Promise<void>((resolve) => {
        const q = this.waiting.get(ip) ?? [];
        q.push(resolve);
        this.waiting.set(ip, q);
      });
    }
    this.active.set(ip, this.inUse(ip) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = this.inUse(ip) - 1;
      if (n > 0) this.active.set(ip, n);
      else this.active.delete(ip);
      const q = this.waiting.get(ip);
      const next = q?.shift();
      if (q && q.length === 0) this.waiting.delete(ip);
      next?.();
    };
  }
}
