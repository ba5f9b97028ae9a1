/** `gatehouse logconfig`: the mail log's settings and its forwarding to a remote syslog server (SPEC §9). */
import type { Command } from 'commander';
import { openHome } from '../../services/staging.js';
import { describeSyslog, editSyslog } from '../../services/edit-logging.js';
import { SYSLOG_FACILITIES } from '../../config/syslog-settings.js';
import { globalOptions } from '../global-options.js';
import { examples, parseInteger } from '../option-parsers.js';
import { printJson, printLines } from '../output.js';
import { nothingToChange, runStagedEdit } from '../staged-edit.js';

interface EditOptions {
  syslog?: string;
  syslogFacility?: string;
  syslogTag?: string;
  syslogQueueLines?: number;
}

export function registerLogconfig(program: Command): void {
  const log = program
    .command('logconfig')
    .description('The mail log: rotation settings and forwarding of every line to a remote syslog server (UDP or TCP; /dev/log is not supported).')
    .addHelpText('after', examples('gatehouse logconfig edit --syslog udp:192.0.2.10:514', 'gatehouse logconfig list'));

  log
    .command('list')
    .description('Show the mail log settings (from the staged configuration when changes are staged).')
    .addHelpText('after', examples('gatehouse logconfig list', 'gatehouse logconfig list --json'))
    .action((_opts: unknown, cmd: Command) => {
      const { home, json } = globalOptions(cmd);
      const m = openHome(home).store.working().logging.mailLog;
      if (json) return printJson(m);
      const s = m.syslog;
      printLines(
        `Rotate at:         ${m.maxBytes} bytes${m.rotateDaily ? ' and daily' : ''}`,
        `Rotated kept:      ${m.retain}`,
        `JSON lines:        ${m.json ? 'on' : 'off'}`,
        `Syslog:            ${s.target ?? 'off'}`,
        `Syslog facility:   ${s.facility}`,
        `Syslog tag:        ${s.tag}`,
        `Syslog queue:      ${s.queueLines} lines`,
      );
    });

  log
    .command('edit')
    .description('Forward every mail-log line to a syslog server (RFC 3164 form; TCP uses RFC 6587 octet counting), or stop it with --syslog off.')
    .option('--syslog <target>', 'udp:HOST:PORT, tcp:HOST:PORT (HOST an IP address, IPv6 in brackets) or off')
    .option('--syslog-facility <name>', `facility: ${SYSLOG_FACILITIES.join(', ')} (default mail)`)
    .option('--syslog-tag <tag>', 'the TAG field, 1-32 letters, digits, _ . / - (default mail_logs)')
    .option('--syslog-queue-lines <n>', 'lines kept while the server is unreachable; the oldest beyond are dropped (default 10000)', parseInteger)
    .addHelpText(
      'after',
      examples('gatehouse logconfig edit --syslog udp:192.0.2.10:514', 'gatehouse logconfig edit --syslog tcp:[2001:db8::10]:514 --syslog-facility local3 --syslog-tag gatehouse', 'gatehouse logconfig edit --syslog off'),
    )
    .action((opts: EditOptions, cmd: Command) => {
      if (opts.syslog === undefined && opts.syslogFacility === undefined && opts.syslogTag === undefined && opts.syslogQueueLines === undefined) {
        throw nothingToChange('--syslog, --syslog-facility, --syslog-tag, --syslog-queue-lines');
      }
      const flags = [
        opts.syslog !== undefined ? `--syslog ${opts.syslog}` : '',
        opts.syslogFacility !== undefined ? `--syslog-facility ${opts.syslogFacility}` : '',
        opts.syslogTag !== undefined ? `--syslog-tag ${opts.syslogTag}` : '',
        opts.syslogQueueLines !== undefined ? `--syslog-queue-lines ${opts.syslogQueueLines}` : '',
      ].filter((f) => f !== '');
      runStagedEdit(cmd, `logconfig edit ${flags.join(' ')}`, (draft) =>
        describeSyslog(editSyslog(draft, { target: opts.syslog, facility: opts.syslogFacility, tag: opts.syslogTag, queueLines: opts.syslogQueueLines })),
      );
    });
}
