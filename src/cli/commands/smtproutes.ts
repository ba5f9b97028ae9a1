/** `gatehouse smtproutes`: SMTP routes (SPEC §5.1), domain → hosts tried in order, overriding DNS. */
import type { Command } from 'commander';
import { openHome } from '../../services/staging.js';
import { addRoute, deleteRoute } from '../../services/edit-routes.js';
import { globalOptions } from '../global-options.js';
import { examples } from '../option-parsers.js';
import { printJson, printLines } from '../output.js';
import { runStagedEdit } from '../staged-edit.js';
import { formatTable } from '../text-table.js';

export function registerSmtproutes(program: Command): void {
  const routes = program
    .command('smtproutes')
    .description('SMTP routes: deliver a domain to fixed hosts instead of its MX (example.com, .example.com for subdomains, ALL for everything else).')
    .addHelpText('after', examples('gatehouse smtproutes new example.com mx1.internal:25 mx2.internal', 'gatehouse smtproutes list'));

  routes
    .command('list')
    .description('List the SMTP routes (from the staged configuration when changes are staged).')
    .addHelpText('after', examples('gatehouse smtproutes list', 'gatehouse smtproutes list --json'))
    .action((_opts: unknown, cmd: Command) => {
      const { home, json } = globalOptions(cmd);
      const config = openHome(home).store.working();
      if (json) return printJson(config.smtpRoutes);
      if (config.smtpRoutes.length === 0) return printLines('No SMTP routes: every domain is delivered to its MX hosts.');
      printLines(...formatTable(['Domain', 'Hosts (in order)'], config.smtpRoutes.map((r) => [r.domain, r.hosts.join(', ')])));
    });

  routes
    .command('new')
    .description('Add a route: mail for DOMAIN goes to the hosts in order (the first that answers).')
    .argument('<domain>', 'example.com, .example.com (its subdomains) or ALL')
    .argument('<hosts...>', 'HOST[:PORT] (default port 25); [v6]:PORT for IPv6')
    .addHelpText('after', examples('gatehouse smtproutes new example.com mx1.internal:25 10.0.0.7', 'gatehouse smtproutes new ALL smarthost.example.net:587'))
    .action((domain: string, hosts: string[], _opts: unknown, cmd: Command) => {
      runStagedEdit(cmd, `smtproutes new ${domain} ${hosts.join(' ')}`, (draft) => {
        const r = addRoute(draft, domain, hosts);
        return `Route ${r.domain} -> ${r.hosts.join(', ')} added`;
      });
    });

  routes
    .command('delete')
    .description('Remove the route of a domain (it goes back to MX delivery).')
    .argument('<domain>', 'the route domain as listed')
    .addHelpText('after', examples('gatehouse smtproutes delete example.com'))
    .action((domain: string, _opts: unknown, cmd: Command) => {
      runStagedEdit(cmd, `smtproutes delete ${domain}`, (draft) => `Route ${deleteRoute(draft, domain).domain} deleted`);
    });
}
