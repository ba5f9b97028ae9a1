/** `gatehouse alertconfig`: alert recipients (classes × severities), From address, debounce, history (SPEC §8). */
import type { Command } from 'commander';
import { openHome } from '../../services/staging.js';
import { addAlertRecipient, ALERT_CLASSES, ALERT_SEVERITIES, deleteAlertRecipient, setupAlerts } from '../../services/edit-alerts.js';
import { readAlertHistory } from '../../services/alert-history.js';
import { globalOptions } from '../global-options.js';
import { examples, parseInteger, parseList } from '../option-parsers.js';
import { printJson, printLines } from '../output.js';
import { nothingToChange, runStagedEdit } from '../staged-edit.js';
import { formatTable } from '../text-table.js';

export function registerAlertconfig(program: Command): void {
  const ac = program
    .command('alertconfig')
    .description(`Alert recipients and settings. Classes: ${ALERT_CLASSES.join(', ')}; severities: ${ALERT_SEVERITIES.join(', ')}.`)
    .addHelpText('after', examples('gatehouse alertconfig new security@example.com --classes tls,certificates --severities critical,warning', 'gatehouse alertconfig list'));

  ac.command('list')
    .description('List the alert recipients and settings (from the staged configuration when changes are staged).')
    .addHelpText('after', examples('gatehouse alertconfig list', 'gatehouse alertconfig list --json'))
    .action((_opts: unknown, cmd: Command) => {
      const { home, json } = globalOptions(cmd);
      const alerts = openHome(home).store.working().alerts;
      if (json) return printJson(alerts);
      const table =
        alerts.recipients.length === 0
          ? ['No alert recipients: alerts are only kept in the history.']
          : formatTable(['Recipient', 'Classes', 'Severities'], alerts.recipients.map((r) => [r.address, r.classes.join(', '), r.severities.join(', ')]));
      printLines(...table, '', `From:      ${alerts.from ?? '(default)'}`, `Debounce:  ${alerts.debounceMinutes} minutes`);
    });

  ac.command('new')
    .description('Add an alert recipient; without --classes / --severities it gets every class / severity.')
    .argument('<address>', 'email address')
    .option('--classes <list>', `comma-separated: ${ALERT_CLASSES.join(', ')} or all`, parseList)
    .option('--severities <list>', `comma-separated: ${ALERT_SEVERITIES.join(', ')} or all`, parseList)
    .addHelpText('after', examples('gatehouse alertconfig new postmaster@example.com', 'gatehouse alertconfig new noc@example.com --classes system,tls --severities critical'))
    .action((address: string, opts: { classes?: string[]; severities?: string[] }, cmd: Command) => {
      runStagedEdit(cmd, `alertconfig new ${address}`, (draft) => {
        const r = addAlertRecipient(draft, address, opts);
        return `${r.address} receives ${r.classes.join(', ')} alerts of severity ${r.severities.join(', ')}`;
      });
    });

  ac.command('delete')
    .description('Remove an alert recipient.')
    .argument('<address>', 'email address as listed')
    .addHelpText('after', examples('gatehouse alertconfig delete noc@example.com'))
    .action((address: string, _opts: unknown, cmd: Command) => {
      runStagedEdit(cmd, `alertconfig delete ${address}`, (draft) => `${deleteAlertRecipient(draft, address).address} no longer receives alerts`);
    });

  ac.command('setup')
    .description('Set the From address of alert mail and the debounce interval (a repeating condition is not re-sent within it).')
    .option('--from <address>', 'From address ("" for the default)')
    .option('--debounce-minutes <n>', 'minutes before the same alert is sent again', parseInteger)
    .addHelpText('after', examples('gatehouse alertconfig setup --from gatehouse@example.com --debounce-minutes 30'))
    .action((opts: { from?: string; debounceMinutes?: number }, cmd: Command) => {
      if (opts.from === undefined && opts.debounceMinutes === undefined) throw nothingToChange('--from, --debounce-minutes');
      runStagedEdit(cmd, 'alertconfig setup', (draft) => {
        const a = setupAlerts(draft, opts);
        return `Alert settings changed (from ${a.from ?? '(default)'}, debounce ${a.debounceMinutes} minutes)`;
      });
    });

  ac.command('history')
    .description('List the alerts sent, oldest first.')
    .addHelpText('after', examples('gatehouse alertconfig history', 'gatehouse alertconfig history --json'))
    .action((_opts: unknown, cmd: Command) => {
      const { home, json } = globalOptions(cmd);
      const entries = readAlertHistory(openHome(home).layout);
      if (json) return printJson(entries.map((e) => e.raw));
      if (entries.length === 0) return printLines('No alerts sent');
      printLines(...formatTable(['Time', 'Class', 'Severity', 'Subject', 'Recipients'], entries.map((e) => [e.time, e.class, e.severity, e.subject, e.recipients.join(', ')])));
    });
}
