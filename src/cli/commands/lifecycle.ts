/**
 * The configuration lifecycle (SPEC §3) and the running gateway's state:
 * showchanges, commit, clearchanges, rollbackconfig, saveconfig, loadconfig,
 * reload, status. Commit and reload reach a running gateway through the
 * control socket (control-client.ts).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { UserError } from '../../core/errors.js';
import { homeLayout, type HomeLayout } from '../../core/home-layout.js';
import type { ControlResponse, GatewayStatus } from '../../core/control-protocol.js';
import type { PasswordMode } from '../../services/config-export.js';
import { clearChanges, commitStaged, listVersions, loadConfig, rollbackTo, saveConfig, showChanges } from '../../services/config-lifecycle.js';
import { openHome } from '../../services/staging.js';
import { gatewayPid, sendControl } from '../control-client.js';
import { globalOptions } from '../global-options.js';
import { printJson, printLines } from '../output.js';
import { obtainPassphrase } from '../secret-input.js';
import { cliUser } from '../staged-edit.js';
import { formatTable } from '../text-table.js';

/** `--passwords` values (services/config-export.ts loads only when saveconfig/loadconfig run). */
const PASSWORD_CHOICES: readonly PasswordMode[] = ['mask', 'encrypt', 'plain'];

function parseVersionNumber(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new InvalidArgumentError(`"${value}" is not a version number (1, 2, ...).`);
  return Number(value);
}

function controlError(response: Extract<ControlResponse, { ok: false }>): string {
  return response.errors && response.errors.length > 0 ? `${response.error}:\n  ${response.errors.join('\n  ')}` : response.error;
}

function formatUptime(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [d > 0 ? `${d}d` : '', d > 0 || h > 0 ? `${h}h` : '', d > 0 || h > 0 || m > 0 ? `${m}m` : '', `${s}s`].filter((x) => x !== '').join(' ');
}

function statusLines(status: GatewayStatus): string[] {
  const lines = [
    `Gatehouse running (pid ${status.pid}, up ${formatUptime(status.uptimeSeconds)}, since ${status.startedAt})`,
    `Home: ${status.home}`,
    status.committedVersion > status.version
      ? `Configuration version ${status.version} (version ${status.committedVersion} is committed but not applied: run "gatehouse reload")`
      : `Configuration version ${status.version}`,
    `Host name: ${status.hostname}`,
    'Listeners:',
    ...status.listeners.map((l) => `  ${l.type.padEnd(7)} ${l.name} on ${l.address}:${l.port}, ${l.openSessions} open session${l.openSessions === 1 ? '' : 's'}`),
    `Open sessions: ${status.openSessions}`,
    `Spool: ${status.spool.messages} message${status.spool.messages === 1 ? '' : 's'}`,
  ];
  const s = status.syslog;
  if (s) {
    lines.push(`Syslog: ${s.target}${s.connected ? '' : ' (not connected)'}, ${s.sent} sent, ${s.dropped} dropped, ${s.queued} queued, ${s.errors} errors${s.lastError ? ` (last: ${s.lastError})` : ''}`);
  }
  return lines;
}

/** Tells a running gateway to apply the newest committed version. */
async function applyToRunningGateway(layout: HomeLayout): Promise<{ running: false } | { running: true; response: ControlResponse }> {
  const response = await sendControl(layout, 'commit');
  return response === null ? { running: false } : { running: true, response };
}

export function registerLifecycle(program: Command): void {
  program
    .command('showchanges')
    .description('Show the staged changes (staged vs committed), one line per change: "+ path: value", "- path", "~ path: old -> new".\nExample: gatehouse showchanges')
    .action((_opts: unknown, cmd: Command) => {
      const { home, json } = globalOptions(cmd);
      const changes = showChanges(openHome(home));
      if (json) printJson({ changes });
      else printLines(...(changes.length === 0 ? ['No changes'] : changes));
    });

  program
    .command('commit')
    .description('Validate the staged changes, store them as a new configuration version, and apply it to the running gateway (open sessions finish on the old settings).\nExample: gatehouse commit -m "accept mail for example.com"')
    .option('-m, --message <text>', 'comment stored with the version', '')
    .action(async (opts: { message: string }, cmd: Command) => {
      const { home, json } = globalOptions(cmd);
      const h = openHome(home);
      const result = commitStaged(h, cliUser(), opts.message);
      if (!result.committed) {
        if (json) printJson({ committed: false });
        else printLines('No changes to commit');
        return;
      }
      const { info, warnings, changes } = result;
      const applied = await applyToRunningGateway(h.layout);
      if (applied.running && !applied.response.ok) {
        if (json) printJson({ committed: true, ...info, warnings, changes, applied: false, error: applied.response.error });
        else printLines(...warnings.map((w) => `Warning: ${w}`), `Committed configuration version ${info.version}.`);
        throw new UserError(`the running gateway did not apply version ${info.version}: ${controlError(applied.response)}`);
      }
      if (json) {
        printJson({ committed: true, ...info, warnings, changes, applied: applied.running, running: applied.running });
        return;
      }
      printLines(
        ...warnings.map((w) => `Warning: ${w}`),
        `Committed configuration version ${info.version}.`,
        applied.running && applied.response.ok && 'pid' in applied.response
          ? `Applied to the running gateway (pid ${applied.response.pid}); new sessions use it, open sessions finish on the old settings.`
          : `No gateway is running; version ${info.version} applies at the next start.`,
      );
    });

  program
    .command('clearchanges')
    .description('Drop the staged changes; the committed configuration stays as it is.\nExample: gatehouse clearchanges')
    .action((_opts: unknown, cmd: Command) => {
      const { home, json } = globalOptions(cmd);
      const cleared = clearChanges(openHome(home), cliUser());
      if (json) printJson({ cleared });
      else printLines(cleared ? 'Staged changes cleared.' : 'No changes to clear.');
    });

  program
    .command('rollbackconfig')
    .description('List the committed configuration versions (number, time, user, comment), or stage version N (certificate contents included) for the next commit.\nExample: gatehouse rollbackconfig 3 && gatehouse commit -m "back to version 3"')
    .argument('[N]', 'version to stage', parseVersionNumber)
    .action((n: number | undefined, _opts: unknown, cmd: Command) => {
      const { home, json } = globalOptions(cmd);
      const h = openHome(home);
      if (n === undefined) {
        const { versions, current } = listVersions(h);
        if (json) {
          printJson({ current, versions });
          return;
        }
        const rows = versions.map((v) => [v.version === current ? '*' : '', String(v.version), v.committedAt, v.user, v.comment]);
        printLines(...formatTable(['', 'Version', 'Committed', 'User', 'Comment'], rows), '(* = committed, running after the next start or commit)');
        return;
      }
      const r = rollbackTo(h, n, cliUser());
      if (json) {
        printJson({ staged: r.staged, version: r.version, changes: r.changes });
        return;
      }
      if (!r.staged) printLines(`Version ${n} is the committed configuration; nothing staged.`);
      else {
        printLines(
          `Staged configuration version ${n} (committed ${r.version.committedAt} by ${r.version.user}${r.version.comment === '' ? '' : `: ${r.version.comment}`}), ${r.changes.length} change${r.changes.length === 1 ? '' : 's'}.`,
          'Review them with "gatehouse showchanges", then "gatehouse commit -m TEXT".',
        );
      }
    });

  program
    .command('saveconfig')
    .description(
      'Export the committed configuration, certificates included, as YAML (mode 0600). --passwords encrypt (default) stores each private key as a PKCS#12 under the passphrase; mask leaves out every secret; plain writes PEM keys.\nExample: gatehouse saveconfig -o backup.yaml --passphrase-file pass.txt',
    )
    .option('-o, --output <file>', 'where to write (default: <home>/configuration/config-<timestamp>.yaml)')
    .addOption(new Option('--passwords <mode>', 'how secrets are written').choices([...PASSWORD_CHOICES]).default('encrypt'))
    .option('--passphrase-file <file>', 'passphrase for --passwords encrypt (else asked on the terminal)')
    .action(async (opts: { output?: string; passwords: PasswordMode; passphraseFile?: string }, cmd: Command) => {
      const { home, json } = globalOptions(cmd);
      const h = openHome(home);
      let passphrase: string | undefined;
      if (opts.passwords === 'encrypt') passphrase = await obtainPassphrase(opts.passphraseFile, 'saveconfig --passwords encrypt', { confirm: true });
      else if (opts.passphraseFile !== undefined) process.stderr.write(`gatehouse: note: --passphrase-file is used only with --passwords encrypt; ignored\n`);
      const r = await saveConfig(h, { mode: opts.passwords, passphrase, output: opts.output, user: cliUser() });
      if (json) {
        printJson({ file: r.file, version: r.version, passwords: r.mode, missingSecrets: r.missingSecrets });
        return;
      }
      const lines = [`Saved configuration version ${r.version} to ${r.file}`];
      if (r.mode === 'encrypt') lines.push('Private keys are encrypted (PKCS#12) with the passphrase; loadconfig needs it.');
      if (r.mode === 'plain') lines.push('Warning: the file holds private keys in clear text; keep it secret.');
      if (r.mode === 'mask') lines.push('Secrets were left out; the file loads only where they exist already, or re-enter them:', ...r.missingSecrets.map((m) => `  ${m}`));
      printLines(...lines);
    });

  program
    .command('loadconfig')
    .description(
      'Stage a configuration file written by saveconfig (or a plain configuration document). Everything is checked first: an invalid file changes nothing and every error is listed with its path.\nExample: gatehouse loadconfig backup.yaml --passphrase-file pass.txt && gatehouse showchanges',
    )
    .argument('<file>', 'the saved configuration (YAML)')
    .option('--passphrase-file <file>', 'passphrase of the encrypted private keys (else asked on the terminal)')
    .action(async (file: string, opts: { passphraseFile?: string }, cmd: Command) => {
      const { home, json } = globalOptions(cmd);
      const r = await loadConfig(openHome(home), file, { user: cliUser(), passphrase: () => obtainPassphrase(opts.passphraseFile, `${file} holds encrypted private keys; loadconfig`) });
      if (json) {
        printJson({ file: r.file, staged: r.changes.length > 0, changes: r.changes, warnings: r.warnings });
        return;
      }
      printLines(
        ...r.warnings.map((w) => `Warning: ${w}`),
        r.changes.length === 0
          ? `Loaded ${file}: identical to the committed configuration; nothing staged.`
          : `Loaded ${file}: ${r.changes.length} change${r.changes.length === 1 ? '' : 's'} staged. Review them with "gatehouse showchanges", then "gatehouse commit -m TEXT".`,
      );
    });

  program
    .command('reload')
    .description('Make the running gateway re-read the committed configuration and reopen its log files (as SIGHUP does).\nExample: gatehouse reload')
    .action(async (_opts: unknown, cmd: Command) => {
      const { home, json } = globalOptions(cmd);
      const layout = homeLayout(home);
      const response = await sendControl(layout, 'reload');
      if (response === null) {
        const pid = gatewayPid(layout);
        if (pid === null) throw new UserError(`no gateway is running on ${layout.root}`);
        process.kill(pid, 'SIGHUP');
        if (json) printJson({ reloaded: true, pid, via: 'SIGHUP' });
        else printLines(`Sent SIGHUP to the gateway (pid ${pid}); its control socket did not answer.`);
        return;
      }
      if (!response.ok) throw new UserError(`reload failed: ${controlError(response)}`);
      const version = 'version' in response ? response.version : undefined;
      if (json) printJson({ reloaded: true, ...response });
      else printLines(`Reloaded: the gateway runs configuration version ${version ?? '?'}.`);
    });

  program
    .command('status')
    .description('Show the running gateway: pid, uptime, configuration version, listeners, open sessions, spool size, syslog forwarding. Exit 1 when no gateway runs.\nExample: gatehouse status --json')
    .action(async (_opts: unknown, cmd: Command) => {
      const { home, json } = globalOptions(cmd);
      const layout = homeLayout(home);
      const response = await sendControl(layout, 'status');
      if (response === null) {
        if (json) printJson({ running: false, home: layout.root });
        throw new UserError(`no gateway is running on ${layout.root}`);
      }
      if (!response.ok) throw new UserError(`status failed: ${controlError(response)}`);
      if (!('status' in response)) throw new UserError('the gateway sent an unexpected status reply');
      if (json) printJson({ running: true, ...response.status });
      else printLines(...statusLines(response.status));
    });
}
