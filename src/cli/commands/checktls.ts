/**
 * `gatehouse checktls DOMAIN [--assure] [--port N] [--json]` (SPEC §7): the
 * MX matrix (per MX: preference, address, each stage with its time) and the
 * confidence score; `--json` gives the data. Exit 0 when the check ran
 * (whatever the score), 1 when DNS says the domain takes no mail.
 */
import type { Command } from 'commander';
import { runCheckTls, type CheckTlsResult, type StageOutcome } from '../../services/check-tls.js';
import { openHome } from '../../services/staging.js';
import { globalOptions } from '../global-options.js';
import { examples, parseInteger } from '../option-parsers.js';
import { printJson, printLines } from '../output.js';
import { formatTable } from '../text-table.js';

const HEADINGS: Record<StageOutcome['stage'], string> = {
  answer: 'Answer',
  connect: 'Connect',
  ehlo: 'EHLO',
  starttls: 'STARTTLS',
  certificate: 'Cert OK',
  secure: 'Secure',
  assure: 'Assure',
};

function cell(s: StageOutcome): string {
  if (s.status === 'not-run') return '-';
  return `${s.status === 'pass' ? 'ok' : 'FAIL'} ${s.ms ?? 0}ms`;
}

/** The readable report: header line, the matrix, one line per problem, the score. */
export function formatCheckTls(r: CheckTlsResult): string[] {
  const stages = r.mx[0]?.stages.map((s) => s.stage) ?? [];
  const rows = r.mx.map((m) => [m.host, String(m.preference), m.ip ?? m.addresses[0] ?? '-', ...m.stages.map(cell), String(m.score)]);
  const lines = [`TLS check of ${r.domain}: ${r.mx.length} MX host${r.mx.length === 1 ? '' : 's'}, port ${r.port}${r.assure ? ', assure (plaintext MAIL FROM must be refused)' : ''}.`, ''];
  lines.push(...formatTable(['MX host', 'Pref', 'Address', ...stages.map((s) => HEADINGS[s]), 'Score'], rows), '');
  for (const m of r.mx) {
    if (m.failure !== null) lines.push(`${m.host}: ${m.failure}`);
    else lines.push(`${m.host}: verified (${m.protocol ?? '?'}, ${m.cipher ?? '?'}; matched ${m.identifier?.name ?? '?'})`);
    if (m.assure) lines.push(`${m.host}: plaintext MAIL FROM ${m.assure.refused ? 'refused' : 'accepted'}: ${m.assure.detail}`);
  }
  lines.push(`Confidence score: ${r.score}/100 (each MX 100 x stages passed / stages; mean weighted 1/rank by preference).`);
  return lines;
}

export function registerChecktls(program: Command): void {
  program
    .command('checktls')
    .description('Check every MX of DOMAIN: address, connect, EHLO, STARTTLS, certificate chain, name; with a confidence score 0-100.')
    .argument('<domain>', 'the domain whose MX hosts to check')
    .option('--assure', 'also check that each MX refuses MAIL FROM without TLS (mandatory TLS); no message is ever sent')
    .option('--port <n>', 'port of the MX hosts (default 25)', parseInteger)
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples('gatehouse checktls example.com', 'gatehouse checktls example.com --assure --json'))
    .action(async (domain: string, opts: { assure?: boolean; port?: number; json?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const home = openHome(g.home);
      const result = await runCheckTls(home, { domain, assure: opts.assure === true, ...(opts.port !== undefined ? { port: opts.port } : {}) });
      if (opts.json === true || g.json) printJson(result);
      else printLines(...formatCheckTls(result));
    });
}
