/**
 * Open inbound connections, counted globally and per remote IP, for the global
 * cap (`smtp.maxConnections`) and each policy's `maxConnectionsPerIp`.
 */
export class ConnectionTracker {
  private total = 0;
  private readonly perIp = new Map<string, number>();

  get count(): number {
    return this.total;
  }

  countFor(ip: string): number {
    return this.perIp.get(ip) ?? 0;
  }

  /** Registers a connection; call the returned function exactly once when it closes. */
  open(ip: string): () => void {
    this.total++;
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const n = (this.perIp.get(ip) ?? 1) - 1;
      if (n <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, n);
    };
  }
}
