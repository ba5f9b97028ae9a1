/**
 * `gatehouse tail [-f] [-n N]`, `gatehouse grep REGEX`, `gatehouse track
 * --mid N | --from A | --to A` (SPEC §9, §12): thin over
 * services/mail-log-search.ts and services/message-tracking.ts. They read the
 * files in the home, so they work whether or not a gateway runs.
 */
import type { Command } from 'commander';
import { UserError } from '../../core/errors.js';
import { compileSearch, followMailLog, grepMailLogs, tailMailLog } from '../../services/mail-log-search.js';
import { trackMessages, type DeliveryAttemptStory, type MessageStory, type TrackQuery } from '../../services/message-tracking.js';
import { parseDuration } from '../duration.js';
import { globalOptions } from '../global-options.js';
import { parseInteger } from '../option-parsers.js';
import { printJson, printLines } from '../output.js';

const addr = (a: string): string => `<${a}>`;

function describeAttempt(a: DeliveryAttemptStory): string[] {
  const where = [a.domain ?? 'unknown domain', a.host && a.host !== a.ip ? `via ${a.host}` : null, a.ip ? `${a.ip}:${a.port ?? '?'}` : null].filter(Boolean).join(' ');
  const wanted = a.tlsWanted ? `, TLS wanted ${a.tlsWanted}${a.destination ? ` (destination ${a.destination})` : ''}` : '';
  const out = [`DCID ${a.dcid} at ${a.time}: ${where}${a.interface ? ` from ${a.interface}` : ''}${wanted}${a.retryOf !== null ? `, plaintext retry after DCID ${a.retryOf}` : ''}`];
  const tls: string[] = [];
  if (a.tls) tls.push(`TLS ${a.tls.protocol} ${a.tls.cipher}`);
  if (a.verification?.verified === true) tls.push(`certificate verified: matched ${a.verification.identifier}`);
  if (a.verification?.verified === false) tls.push(`certificate verification failed: ${a.verification.reason}`);
  if (a.starttlsUnsupported) tls.push('STARTTLS not offered');
  if (a.tlsFailure) tls.push(`TLS failed: ${a.tlsFailure}`);
  if (a.downgraded) tls.push(`downgraded to plaintext: ${a.downgraded}`);
  if (a.requiredTlsFailed) tls.push('TLS was required but could not be negotiated: nothing sent');
  if (!a.tls && !a.starttlsUnsupported && !a.tlsFailure && !a.requiredTlsFailed && !a.connectionError) tls.push('plaintext');
  if (tls.length > 0) out.push(`  ${tls.join('; ')}`);
  if (a.connectionError) out.push(`  connection error: ${a.connectionError.reason}: ${a.connectionError.details}`);
  if (a.started.length > 0) out.push(`  delivery start RID [${a.started.join(', ')}]`);
  if (a.delivered.length > 0) out.push(`  message done RID [${a.delivered.join(', ')}]`);
  for (const d of a.delayed) out.push(`  delayed RID ${d.rid}: ${d.reason}`);
  for (const b of a.bounced) out.push(`  bounced RID ${b.rid}: ${b.reason}`);
  return out;
}

/** The text form of one story: a summary block, then the log lines. */
export function formatStory(s: MessageStory): string[] {
  const pad = (label: string): string => `  ${label.padEnd(14)}`;
  const lines = [`MID ${s.mid}: ${s.outcome}`];
  if (s.receivedAt) lines.push(`${pad('Received')}${s.receivedAt}`);
  if (s.dsnFor !== null) lines.push(`${pad('DSN for')}MID ${s.dsnFor}`);
  const c = s.connection;
  if (c) {
    lines.push(`${pad('Connection')}ICID ${c.icid} on ${c.listener} (${c.listenerAddress}) from ${c.ip}, reverse DNS ${c.reverseDns ?? 'unknown'} (${c.reverseDnsVerified ? 'verified' : 'not verified'})`);
  }
  const g = s.senderGroup;
  if (g) {
    const policy = g.policy ? `, policy ${g.policy}${g.tls ? ` (TLS ${g.tls})` : ''}` : '';
    lines.push(`${pad('Sender group')}${g.group} match ${g.rule}, ${g.behavior}${policy}, SBRS ${g.sbrs ?? 'None'}`);
  }
  if (s.tlsIn) {
    const t = s.tlsIn;
    lines.push(`${pad('TLS in')}${t.status === 'encrypted' ? `${t.protocol} ${t.cipher}` : t.status === 'failed' ? `failed: ${t.failure}` : 'plaintext'}`);
  }
  if (s.from !== null) lines.push(`${pad('From')}${addr(s.from)}`);
  s.recipients.forEach((r, i) => lines.push(`${pad(i === 0 ? 'To' : '')}RID ${r.rid} ${addr(r.to)}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`));
  if (s.bytes !== null) lines.push(`${pad('Size')}${s.bytes} bytes`);
  if (s.rejected) lines.push(`${pad('Rejected')}${s.rejected}`);
  s.attempts.forEach((a, i) => describeAttempt(a).forEach((l, j) => lines.push(`${pad(i === 0 && j === 0 ? 'Attempts' : '')}${l}`)));
  for (const d of s.dsns) lines.push(`${pad('DSN')}MID ${d} generated`);
  lines.push(`${pad('Outcome')}${s.outcome}`);
  lines.push('  Log:');
  for (const l of s.lines) lines.push(`    ${l.time} ${l.level}: ${l.text}`);
  return lines;
}

export function registerMailLogs(program: Command): void {
  program
    .command('tail')
    .description('Print the last lines of the mail log (mail.current); -f keeps printing new lines, across rotation.\nExample: gatehouse tail -n 50 -f')
    .option('-n, --lines <n>', 'how many lines', parseInteger, 20)
    .option('-f, --follow', 'keep printing lines as they are written (Ctrl-C to stop)')
    .action(async (opts: { lines: number; follow?: boolean }, cmd: Command) => {
      const { home } = globalOptions(cmd);
      if (!opts.follow) {
        const last = tailMailLog(home, opts.lines);
        if (last.length > 0) printLines(...last);
        return;
      }
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      await followMailLog(home, (line) => process.stdout.write(`${line}\n`), { lines: opts.lines, signal: stop.signal });
    });

  program
    .command('grep <regex>')
    .description('Print the mail-log lines that match a regular expression (JavaScript syntax), over the rotated logs and mail.current, oldest first. Exit 1 when nothing matches.\nExample: gatehouse grep "TLS (failed|was required)"')
    .option('-i, --ignore-case', 'match without regard to case')
    .action(async (pattern: string, opts: { ignoreCase?: boolean }, cmd: Command) => {
      const { home } = globalOptions(cmd);
      const re = compileSearch(pattern, opts.ignoreCase === true);
      let found = 0;
      for await (const line of grepMailLogs(home, re)) {
        found++;
        process.stdout.write(`${line}\n`);
      }
      if (found === 0) process.exitCode = 1;
    });

  program
    .command('track')
    .description(
      "A message's whole story from the mail log: inbound connection, sender group and policy, TLS in, sender and recipients, every delivery attempt with its TLS, DSNs, outcome.\n" +
        'Addresses match exactly (a@b) or by domain (@b). Exit 1 when no message matches.\nExamples: gatehouse track --mid 42\n          gatehouse track --to bob@example.com --since 24h --json',
    )
    .option('--mid <n>', 'message ID', parseInteger)
    .option('--from <address>', 'envelope sender (a@b, or @b for a domain)')
    .option('--to <address>', 'envelope recipient (a@b, or @b for a domain)')
    .option('--since <duration>', 'only messages received in this past period (90m, 24h, 7d)', parseDuration)
    .option('--json', 'print JSON')
    .action(async (opts: { mid?: number; from?: string; to?: string; since?: number; json?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      if (opts.mid === undefined && opts.from === undefined && opts.to === undefined) throw new UserError('track needs --mid N, --from ADDRESS or --to ADDRESS', 2);
      const query: TrackQuery = {};
      if (opts.mid !== undefined) query.mid = opts.mid;
      if (opts.from !== undefined) query.from = opts.from;
      if (opts.to !== undefined) query.to = opts.to;
      if (opts.since !== undefined) query.since = Date.now() - opts.since;
      const stories = await trackMessages(g.home, query);
      if (opts.json || g.json) printJson(stories);
      else if (stories.length > 0) printLines(...stories.flatMap((s, i) => [...(i > 0 ? [''] : []), ...formatStory(s)]));
      if (stories.length === 0) throw new UserError('no message in the mail log matches');
    });
}
