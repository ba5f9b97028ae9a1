/** `gatehouse alertconfig`: alert recipients (classes × severities), From address, debounce, history (SPEC §8). */
import type { Command } from 'commander';
import { openHome } from '../../services/staging.js';
import { addAlertRecipient, ALERT_CLASSES, ALERT_SETUP_FIELDS, ALERT_SEVERITIES, deleteAlertRecipient, setupAlerts, type AlertSetup } from '../../services/edit-alerts.js';
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
      const off = (n: number, what: string): string => (n === 0 ? 'off' : what);
      printLines(
        ...table,
        '',
        `From:                      ${alerts.from ?? '(default)'}`,
        `Debounce:                  ${alerts.debounceMinutes} minutes`,
        `Check interval:            ${alerts.checkIntervalSeconds} seconds`,
        `TLS handshake failures:    ${off(alerts.tlsFailureThreshold, `more than ${alerts.tlsFailureThreshold} in ${alerts.tlsFailureWindowMinutes} minutes`)}`,
        `Queue growth:              ${off(alerts.queueThreshold, `more than ${alerts.queueThreshold} messages`)}`,
      );
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
    .description('Set the From address of alert mail, the debounce interval (a repeating condition is not re-sent within it) and the alert thresholds.')
    .option('--from <address>', 'From address ("" for the default, gatehouse@<hostname>)')
    .option('--debounce-minutes <n>', 'minutes before the same alert is sent again', parseInteger)
    .option('--check-interval-seconds <n>', 'how often certificate expiry and queue size are checked', parseInteger)
    .option('--tls-failure-threshold <n>', 'alert when more than N inbound TLS handshakes fail within the window (0: off)', parseInteger)
    .option('--tls-failure-window-minutes <n>', 'the window of --tls-failure-threshold', parseInteger)
    .option('--queue-threshold <n>', 'alert when more than N messages are in the queue (0: off)', parseInteger)
    .addHelpText('after', examples('gatehouse alertconfig setup --from gatehouse@example.com --debounce-minutes 30', 'gatehouse alertconfig setup --tls-failure-threshold 50 --tls-failure-window-minutes 5 --queue-threshold 5000'))
    .action((opts: AlertSetup, cmd: Command) => {
      if (ALERT_SETUP_FIELDS.every((f) => opts[f] === undefined)) {
        throw nothingToChange('--from, --debounce-minutes, --check-interval-seconds, --tls-failure-threshold, --tls-failure-window-minutes, --queue-threshold');
      }
      runStagedEdit(cmd, 'alertconfig setup', (draft) => {
        const a = setupAlerts(draft, opts);
        return `Alert settings changed (from ${a.from ?? '(default)'}, debounce ${a.debounceMinutes} minutes)`;
      });
    });

  ac.command('history')
    .description('List the alerts raised, oldest first (those not sent say why; --json adds key and MID).')
    .option('--limit <n>', 'only the newest N', parseInteger)
    .addHelpText('after', examples('gatehouse alertconfig history', 'gatehouse alertconfig history --limit 20 --json'))
    .action((opts: { limit?: number }, cmd: Command) => {
      const { home, json } = globalOptions(cmd);
      const entries = readAlertHistory(openHome(home).layout, opts.limit !== undefined ? { limit: opts.limit } : {});
      if (json) return printJson(entries.map((e) => e.raw));
      if (entries.length === 0) return printLines('No alerts sent');
      printLines(
        ...formatTable(
          ['Time', 'Class', 'Severity', 'Subject', 'Recipients'],
          entries.map((e) => [e.time, e.class, e.severity, e.subject, e.sent ? e.recipients.join(', ') : `(not sent${e.note ? `: ${e.note}` : ''})`]),
        ),
      );
    });
}
