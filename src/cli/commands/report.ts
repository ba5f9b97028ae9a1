/**
 * `gatehouse report tls [--since DURATION] [--json]` (SPEC §9, §12): the TLS
 * connections report, inbound and outbound, from services/tls-report.ts.
 */
import type { Command } from 'commander';
import { encryptedConnections, type TlsCounts } from '../../reports/tls-counts.js';
import { tlsReport, type TlsDirectionReport } from '../../services/tls-report.js';
import { parseDuration } from '../duration.js';
import { globalOptions } from '../global-options.js';
import { printJson, printLines } from '../output.js';
import { formatTable } from '../text-table.js';

const percent = (part: number, whole: number): string => (whole === 0 ? '-' : `${Math.round((100 * part) / whole)}%`);

function summary(title: string, c: TlsCounts): string {
  const enc = encryptedConnections(c);
  return `${title}: ${c.connections} connection${c.connections === 1 ? '' : 's'}, ${enc} encrypted (${percent(enc, c.connections)}); ${c.messages} message${c.messages === 1 ? '' : 's'}, ${c.encryptedMessages} encrypted (${percent(c.encryptedMessages, c.messages)})`;
}

function section(title: string, r: TlsDirectionReport, outbound: boolean): string[] {
  const lines = [summary(title, r.totals)];
  if (r.domains.length === 0) return [...lines, '  (no connections)'];
  const headers = ['Domain', 'Required OK', 'Required failed', 'Preferred OK', 'Preferred failed', 'Plaintext', ...(outbound ? ['Verified'] : []), 'Connections', 'Messages', 'Encrypted msgs', '% encrypted'];
  const rows = r.domains.map((d) => [
    d.domain,
    String(d.requiredSuccess),
    String(d.requiredFailure),
    String(d.preferredSuccess),
    String(d.preferredFailure),
    String(d.plaintext),
    ...(outbound ? [String(d.verified)] : []),
    String(d.connections),
    String(d.messages),
    String(d.encryptedMessages),
    percent(d.encryptedMessages, d.messages),
  ]);
  return [...lines, ...formatTable(headers, rows).map((l) => `  ${l}`)];
}

export function registerReport(program: Command): void {
  const report = program.command('report').description('Reports over the mail the gateway handled.');
  report
    .command('tls')
    .description(
      'The TLS connections report: inbound and outbound connections per domain (required / preferred x success / failure, plaintext), messages and the share encrypted, in hourly buckets. ' +
        'Reads <home>/state/tls-report; a running gateway writes it every 10 s and at stop.\nExamples: gatehouse report tls\n          gatehouse report tls --since 7d --json',
    )
    .option('--since <duration>', 'the past period to report on (90m, 24h, 7d, 2w)', parseDuration, 24 * 3_600_000)
    .option('--json', 'print JSON (totals, per-hour series, per-domain table)')
    .action(async (opts: { since: number; json?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const now = Date.now();
      const r = await tlsReport(g.home, { since: now - opts.since, now });
      if (opts.json || g.json) return printJson(r);
      printLines(`TLS connections from ${r.since} to ${r.until} (hourly buckets)`, '', ...section('Inbound', r.inbound, false), '', ...section('Outbound', r.outbound, true));
    });
}
