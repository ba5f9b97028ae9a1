/**
 * The TLS connections report (SPEC §9; the appliance's Monitor > TLS
 * Connections) for the CLI (`gatehouse report tls`) and the GUI charts: read
 * from the hour files in `<home>/state/tls-report/` (see
 * reports/tls-report-store.ts), so it works whether or not a gateway runs; a
 * running gateway flushes its counters every 10 s and at stop.
 *
 * The window is [since, now]; every UTC hour bucket that overlaps it is
 * included whole (hourly resolution). Per direction it gives the totals, a
 * dense per-hour series in columns (uPlot's data layout: `time` in Unix
 * seconds, then one array per counter, zeros for empty hours) and a
 * per-domain table, busiest first.
 */
import { homeLayout } from '../core/home-layout.js';
import { UserError } from '../core/errors.js';
import { addCounts, emptyCounts, encryptedShare, hourOf, TLS_COUNT_NAMES, type TlsCountName, type TlsCounts, type TlsDirection } from '../reports/tls-counts.js';
import { readTlsReport, tlsReportDir } from '../reports/tls-report-store.js';

export interface TlsReportQuery {
  /** Start of the window (ms since the epoch). */
  since: number;
  /** End of the window (default: now). */
  now?: number;
}

export type TlsSeries = { time: number[] } & Record<TlsCountName, number[]>;

export interface TlsDomainRow extends TlsCounts {
  domain: string;
  /** encryptedMessages / messages, 0..1; null without messages. */
  encryptedShare: number | null;
}

export interface TlsDirectionReport {
  totals: TlsCounts;
  encryptedShare: number | null;
  series: TlsSeries;
  domains: TlsDomainRow[];
}

export interface TlsReport {
  /** First hour bucket included and the end of the window (ISO 8601). */
  since: string;
  until: string;
  inbound: TlsDirectionReport;
  outbound: TlsDirectionReport;
}

/** Longest window: the retention of the hour files. */
const MAX_WINDOW_MS = 400 * 86_400_000;

export async function tlsReport(home: string, query: TlsReportQuery): Promise<TlsReport> {
  const now = query.now ?? Date.now();
  if (!Number.isFinite(query.since) || query.since > now) throw new UserError('the report window must start in the past');
  const since = Math.max(query.since, now - MAX_WINDOW_MS);
  const first = hourOf(since);
  const last = hourOf(now);
  const stored = await readTlsReport(tlsReportDir(homeLayout(home).stateDir), first, last);
  const byHour = new Map(stored.map((s) => [s.hour, s.counts]));
  const direction = (d: TlsDirection): TlsDirectionReport => {
    const totals = emptyCounts();
    const domains = new Map<string, TlsCounts>();
    const series = { time: [] as number[] } as TlsSeries;
    for (const k of TLS_COUNT_NAMES) series[k] = [];
    for (let h = first; h <= last; h += 3_600_000) {
      const hourTotals = emptyCounts();
      for (const [domain, c] of byHour.get(h)?.[d] ?? []) {
        addCounts(hourTotals, c);
        let row = domains.get(domain);
        if (!row) domains.set(domain, (row = emptyCounts()));
        addCounts(row, c);
      }
      addCounts(totals, hourTotals);
      series.time.push(h / 1000);
      for (const k of TLS_COUNT_NAMES) series[k].push(hourTotals[k]);
    }
    const rows = [...domains.entries()]
      .map(([domain, c]): TlsDomainRow => ({ domain, ...c, encryptedShare: encryptedShare(c) }))
      .sort((a, b) => b.connections - a.connections || b.messages - a.messages || (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
    return { totals, encryptedShare: encryptedShare(totals), series, domains: rows };
  };
  return { since: new Date(first).toISOString(), until: new Date(now).toISOString(), inbound: direction('inbound'), outbound: direction('outbound') };
}
