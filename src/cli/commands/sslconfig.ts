/** `gatehouse sslconfig`: minimum TLS version and TLS 1.2 cipher list per service (inbound SMTP, outbound SMTP, GUI). */
import { Argument, type Command } from 'commander';
import { openHome } from '../../services/staging.js';
import { editTlsService, toTlsVersion, TLS_SERVICES, type TlsService } from '../../services/edit-settings.js';
import { globalOptions } from '../global-options.js';
import { examples } from '../option-parsers.js';
import { printJson, printLines } from '../output.js';
import { nothingToChange, runStagedEdit } from '../staged-edit.js';
import { formatTable } from '../text-table.js';

export function registerSslconfig(program: Command): void {
  const ssl = program
    .command('sslconfig')
    .description('TLS versions and ciphers per service: inbound (listeners), outbound (delivery), gui. TLS 1.0 and 1.1 are not supported.')
    .addHelpText('after', examples('gatehouse sslconfig edit inbound --min-version TLSv1.2 --ciphers "ECDHE+AESGCM:ECDHE+CHACHA20"', 'gatehouse sslconfig list'));

  ssl
    .command('list')
    .description('Show the TLS settings of each service (from the staged configuration when changes are staged).')
    .addHelpText('after', examples('gatehouse sslconfig list', 'gatehouse sslconfig list --json'))
    .action((_opts: unknown, cmd: Command) => {
      const { home, json } = globalOptions(cmd);
      const sslSettings = openHome(home).store.working().ssl;
      if (json) return printJson(sslSettings);
      printLines(...formatTable(['Service', 'Minimum version', 'Ciphers (TLS 1.2)'], TLS_SERVICES.map((s) => [s, sslSettings[s].minVersion, sslSettings[s].ciphers])));
    });

  ssl
    .command('edit')
    .description('Set the minimum TLS version (TLSv1.2 or TLSv1.3) and/or the OpenSSL cipher list for TLS 1.2 of one service.')
    .addArgument(new Argument('<service>', 'inbound, outbound or gui').choices(TLS_SERVICES))
    .option('--min-version <version>', 'TLSv1.2 or TLSv1.3')
    .option('--ciphers <list>', 'OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are fixed)')
    .addHelpText('after', examples('gatehouse sslconfig edit inbound --min-version TLSv1.3', 'gatehouse sslconfig edit outbound --ciphers "ECDHE+AESGCM:!aNULL"'))
    .action((service: TlsService, opts: { minVersion?: string; ciphers?: string }, cmd: Command) => {
      if (opts.minVersion === undefined && opts.ciphers === undefined) throw nothingToChange('--min-version, --ciphers');
      const minVersion = opts.minVersion === undefined ? undefined : toTlsVersion(opts.minVersion);
      runStagedEdit(cmd, `sslconfig edit ${service}`, (draft) => {
        const s = editTlsService(draft, service, { minVersion, ciphers: opts.ciphers });
        return `TLS settings of ${service} changed (minimum ${s.minVersion})`;
      });
    });
}
