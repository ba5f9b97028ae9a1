/**
 * `gatehouse destconfig`: destination controls (SPEC §5.2): per-domain TLS
 * level and delivery limits, the default entry, the global outbound settings,
 * export and import as YAML.
 */
import fs from 'node:fs';
import { Option, type Command } from 'commander';
import { UserError, errorMessage } from '../../core/errors.js';
import { OUTBOUND_TLS_LEVELS } from '../../core/tls-levels.js';
import type { DestinationSettings } from '../../config/schema.js';
import { openHome } from '../../services/staging.js';
import {
  addDestination,
  deleteDestination,
  editDefaultDestination,
  editDestination,
  exportDestinations,
  findDestination,
  importDestinations,
  describeSetup,
  parseSourceAddressText,
  setupDestinations,
  type DestinationChanges,
} from '../../services/edit-destinations.js';
import { globalOptions } from '../global-options.js';
import { examples, parseInteger, parseLimit, toLimit, parseOnOff } from '../option-parsers.js';
import { printJson, printLines } from '../output.js';
import { nothingToChange, runStagedEdit } from '../staged-edit.js';
import { formatTable } from '../text-table.js';

const IP_PREFERENCES = ['prefer-v4', 'prefer-v6', 'require-v4', 'require-v6'] as const;

interface DestinationFlags {
  tls?: DestinationSettings['tls'];
  maxConcurrency?: number;
  maxMessagesPerConnection?: number;
  maxRecipientsPerPeriod?: number | 'unlimited';
  periodMinutes?: number;
  ipPreference?: DestinationSettings['ipPreference'];
}

function changesOf(opts: DestinationFlags): DestinationChanges {
  const changes: DestinationChanges = {
    tls: opts.tls,
    maxConcurrency: opts.maxConcurrency,
    maxMessagesPerConnection: opts.maxMessagesPerConnection,
    maxRecipientsPerPeriod: toLimit(opts.maxRecipientsPerPeriod),
    periodMinutes: opts.periodMinutes,
    ipPreference: opts.ipPreference,
  };
  return Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) as DestinationChanges;
}

const ALL_FLAGS = '--tls, --max-concurrency, --max-messages-per-connection, --max-recipients-per-period, --period-minutes, --ip-preference';

/** The flags of `new`, `edit` and `default`. */
function withSettingFlags(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--tls <level>', 'no | preferred | required | preferred-verify | required-verify | required-verify-hosted').choices(OUTBOUND_TLS_LEVELS),
    )
    .option('--max-concurrency <n>', 'concurrent connections to the destination', parseInteger)
    .option('--max-messages-per-connection <n>', 'messages sent over one connection before it is closed', parseInteger)
    .option('--max-recipients-per-period <n>', 'recipients per period, or unlimited', parseLimit)
    .option('--period-minutes <m>', 'length of that period in minutes', parseInteger)
    .addOption(new Option('--ip-preference <pref>', 'address family to use').choices(IP_PREFERENCES));
}

function settingsRow(name: string, s: DestinationSettings): string[] {
  return [
    name,
    s.tls,
    s.dane,
    String(s.maxConcurrency),
    String(s.maxMessagesPerConnection),
    s.maxRecipientsPerPeriod === null ? 'unlimited' : `${s.maxRecipientsPerPeriod} per ${s.periodMinutes} min`,
    s.ipPreference,
  ];
}

function detailLines(name: string, s: DestinationSettings): string[] {
  return [
    `Destination:                  ${name}`,
    `TLS:                          ${s.tls}`,
    `DANE:                         ${s.dane}`,
    `Max concurrent connections:   ${s.maxConcurrency}`,
    `Max messages per connection:  ${s.maxMessagesPerConnection}`,
    `Max recipients per period:    ${s.maxRecipientsPerPeriod === null ? 'unlimited' : s.maxRecipientsPerPeriod}`,
    `Period:                       ${s.periodMinutes} minutes`,
    `IP preference:                ${s.ipPreference}`,
  ];
}

export function registerDestconfig(program: Command): void {
  const dc = program
    .command('destconfig')
    .description('Destination controls: TLS level and delivery limits per destination domain, the default entry, and global outbound TLS settings.')
    .addHelpText(
      'after',
      examples('gatehouse destconfig new bank.example --tls required-verify', 'gatehouse destconfig default --tls preferred-verify', 'gatehouse destconfig list'),
    );

  dc.command('list')
    .description('List the destination controls (from the staged configuration when changes are staged).')
    .addHelpText('after', examples('gatehouse destconfig list', 'gatehouse destconfig list --json'))
    .action((_opts: unknown, cmd: Command) => {
      const { home, json } = globalOptions(cmd);
      const controls = openHome(home).store.working().destinationControls;
      if (json) return printJson(controls);
      printLines(
        ...formatTable(
          ['Destination', 'TLS', 'DANE', 'Max conc.', 'Msgs/conn', 'Recipients', 'IP preference'],
          [settingsRow('Default', controls.default), ...controls.domains.map((d) => settingsRow(d.domain, d))],
        ),
        '',
        `Outbound client certificate:       ${controls.certificate ?? 'none'}`,
        `Alert on required TLS failure:     ${controls.alertOnRequiredTlsFailure ? 'on' : 'off'}`,
        `Source address IPv4:               ${controls.sourceAddressV4 ?? 'none (the OS chooses)'}`,
        `Source address IPv6:               ${controls.sourceAddressV6 ?? 'none (the OS chooses)'}`,
      );
    });

  dc.command('detail')
    .description('Show every setting of one destination control ("default" for the default entry).')
    .argument('<domain>', 'example.com, .example.com, [192.0.2.1] or default')
    .addHelpText('after', examples('gatehouse destconfig detail bank.example', 'gatehouse destconfig detail default --json'))
    .action((domain: string, _opts: unknown, cmd: Command) => {
      const { home, json } = globalOptions(cmd);
      const config = openHome(home).store.working();
      if (domain.trim().toLowerCase() === 'default') {
        const d = config.destinationControls.default;
        return json ? printJson({ domain: 'default', ...d }) : printLines(...detailLines('Default', d));
      }
      const entry = findDestination(config, domain);
      if (json) return printJson(entry);
      printLines(...detailLines(entry.domain, entry));
    });

  withSettingFlags(
    dc
      .command('new')
      .description('Add a destination control; settings not given are copied from the default entry.')
      .argument('<domain>', 'example.com, .example.com (its subdomains) or [192.0.2.1]'),
  )
    .addHelpText('after', examples('gatehouse destconfig new bank.example --tls required-verify --max-concurrency 5', 'gatehouse destconfig new .partner.example --tls required'))
    .action((domain: string, opts: DestinationFlags, cmd: Command) => {
      runStagedEdit(cmd, `destconfig new ${domain}`, (draft) => {
        const d = addDestination(draft, domain, changesOf(opts));
        return `Destination control ${d.domain} added (tls ${d.tls})`;
      });
    });

  withSettingFlags(dc.command('edit').description('Change settings of a destination control.').argument('<domain>', 'the destination as listed'))
    .addHelpText('after', examples('gatehouse destconfig edit bank.example --tls required-verify-hosted', 'gatehouse destconfig edit bank.example --max-recipients-per-period 500 --period-minutes 60'))
    .action((domain: string, opts: DestinationFlags, cmd: Command) => {
      const changes = changesOf(opts);
      if (Object.keys(changes).length === 0) throw nothingToChange(ALL_FLAGS);
      runStagedEdit(cmd, `destconfig edit ${domain}`, (draft) => `Destination control ${editDestination(draft, domain, changes).domain} changed`);
    });

  withSettingFlags(dc.command('default').description('Change the default entry (used by every destination without its own).'))
    .addHelpText('after', examples('gatehouse destconfig default --tls preferred-verify --max-concurrency 20'))
    .action((opts: DestinationFlags, cmd: Command) => {
      const changes = changesOf(opts);
      if (Object.keys(changes).length === 0) throw nothingToChange(ALL_FLAGS);
      runStagedEdit(cmd, 'destconfig default', (draft) => `Default destination control changed (tls ${editDefaultDestination(draft, changes).tls})`);
    });

  dc.command('delete')
    .description('Remove a destination control (the destination then uses the default entry).')
    .argument('<domain>', 'the destination as listed')
    .addHelpText('after', examples('gatehouse destconfig delete bank.example'))
    .action((domain: string, _opts: unknown, cmd: Command) => {
      runStagedEdit(cmd, `destconfig delete ${domain}`, (draft) => `Destination control ${deleteDestination(draft, domain).domain} deleted`);
    });

  dc.command('setup')
    .description(
      'Global outbound settings: the client certificate offered to servers that ask, the alert on required-TLS failures, and the source addresses delivery connects from.',
    )
    .option('--certificate <profile>', 'certificate profile to present as TLS client ("none" for none)')
    .option('--alert-on-required-tls-failure <on|off>', 'alert when a required TLS level fails for a destination', parseOnOff)
    .option('--source-address-v4 <address|none>', 'local IPv4 address to connect to IPv4 next hops from ("none": the OS chooses)')
    .option('--source-address-v6 <address|none>', 'local IPv6 address to connect to IPv6 next hops from ("none": the OS chooses)')
    .addHelpText(
      'after',
      examples('gatehouse destconfig setup --certificate Main --alert-on-required-tls-failure on', 'gatehouse destconfig setup --source-address-v4 192.0.2.25 --source-address-v6 none'),
    )
    .action((opts: { certificate?: string; alertOnRequiredTlsFailure?: boolean; sourceAddressV4?: string; sourceAddressV6?: string }, cmd: Command) => {
      if (opts.certificate === undefined && opts.alertOnRequiredTlsFailure === undefined && opts.sourceAddressV4 === undefined && opts.sourceAddressV6 === undefined) {
        throw nothingToChange('--certificate, --alert-on-required-tls-failure, --source-address-v4, --source-address-v6');
      }
      const certificate = opts.certificate === undefined ? undefined : /^(none|)$/i.test(opts.certificate.trim()) ? null : opts.certificate.trim();
      // `none` → null here, not in a commander parser: commander turns a parser's null into ''.
      const source = (v: string | undefined): string | null | undefined => (v === undefined ? undefined : parseSourceAddressText(v));
      runStagedEdit(cmd, 'destconfig setup', (draft) => {
        setupDestinations(draft, { certificate, alertOnRequiredTlsFailure: opts.alertOnRequiredTlsFailure, sourceAddressV4: source(opts.sourceAddressV4), sourceAddressV6: source(opts.sourceAddressV6) });
        return `Destination settings changed (${describeSetup(draft.destinationControls)})`;
      });
    });

  dc.command('export')
    .description('Write the destination controls (default entry and domains) as YAML, to FILE or to stdout.')
    .option('-o, --output <file>', 'file to write (default: stdout)')
    .addHelpText('after', examples('gatehouse destconfig export -o destinations.yaml'))
    .action((opts: { output?: string }, cmd: Command) => {
      const { home } = globalOptions(cmd);
      const yaml = exportDestinations(openHome(home).store.working());
      if (opts.output === undefined) return void process.stdout.write(yaml);
      try {
        fs.writeFileSync(opts.output, yaml);
      } catch (err) {
        throw new UserError(`cannot write ${opts.output}: ${errorMessage(err)}`);
      }
      printLines(`Destination controls written to ${opts.output}.`);
    });

  dc.command('import')
    .description('Replace the destination controls (default entry and domains) with those of a YAML file; an invalid file changes nothing.')
    .argument('<file>', 'YAML file as written by destconfig export')
    .addHelpText('after', examples('gatehouse destconfig import destinations.yaml'))
    .action((file: string, _opts: unknown, cmd: Command) => {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        throw new UserError(`cannot read ${file}: ${errorMessage(err)}`);
      }
      runStagedEdit(cmd, `destconfig import ${file}`, (draft) => {
        const { domains } = importDestinations(draft, text, file);
        return `Destination controls replaced from ${file} (default entry and ${domains} domain entr${domains === 1 ? 'y' : 'ies'})`;
      });
    });
}
