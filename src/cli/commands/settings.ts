/** Global settings: `hostname edit`, `dns edit`, `reputation edit`, `gui edit` (SPEC §12). */
import type { Command } from 'commander';
import { editGui, setDnsblZones, setDnsServers, setHostname } from '../../services/edit-settings.js';
import { examples, parseInteger, parseList } from '../option-parsers.js';
import { nothingToChange, runStagedEdit } from '../staged-edit.js';

function registerHostname(program: Command): void {
  program
    .command('hostname')
    .description('The global host name used in banners, EHLO, Received: and bounces (a listener may override it).')
    .addHelpText('after', examples('gatehouse hostname edit mail.example.com'))
    .command('edit')
    .description('Set the global host name.')
    .argument('<name>', 'fully qualified host name')
    .addHelpText('after', examples('gatehouse hostname edit mail.example.com'))
    .action((name: string, _opts: unknown, cmd: Command) => {
      runStagedEdit(cmd, `hostname edit ${name}`, (draft) => `Host name set to ${setHostname(draft, name)}`);
    });
}

function registerDns(program: Command): void {
  program
    .command('dns')
    .description('DNS servers used for MX, A/AAAA, PTR and DNSBL lookups (none: the system resolver).')
    .addHelpText('after', examples('gatehouse dns edit --servers 127.0.0.1:5353,192.0.2.53'))
    .command('edit')
    .description('Set the DNS servers, tried in order ("" uses the system resolver).')
    .requiredOption('--servers <list>', 'IP[:PORT],... ([v6]:PORT for IPv6)', parseList)
    .addHelpText('after', examples('gatehouse dns edit --servers 127.0.0.1:5353', 'gatehouse dns edit --servers ""'))
    .action((opts: { servers: string[] }, cmd: Command) => {
      runStagedEdit(cmd, `dns edit --servers ${opts.servers.join(',')}`, (draft) => {
        const servers = setDnsServers(draft, opts.servers);
        return servers.length === 0 ? 'DNS servers cleared: the system resolver is used' : `DNS servers set to ${servers.join(', ')}`;
      });
    });
}

function registerReputation(program: Command): void {
  program
    .command('reputation')
    .description('Sender reputation (SBRS) from DNSBL zones: a host listed in ZONE gets SCORE; with no zones SBRS is None.')
    .addHelpText('after', examples('gatehouse reputation edit --dnsbl zen.spamhaus.org=-8,bl.example.net=-4'))
    .command('edit')
    .description('Set the DNSBL zones and the score a listed host gets (-10 to 10); "" clears them (SBRS None).')
    .requiredOption('--dnsbl <list>', 'ZONE=SCORE,...', parseList)
    .addHelpText('after', examples('gatehouse reputation edit --dnsbl zen.spamhaus.org=-8', 'gatehouse reputation edit --dnsbl ""'))
    .action((opts: { dnsbl: string[] }, cmd: Command) => {
      runStagedEdit(cmd, `reputation edit --dnsbl ${opts.dnsbl.join(',')}`, (draft) => {
        const zones = setDnsblZones(draft, opts.dnsbl);
        return zones.length === 0 ? 'DNSBL zones cleared: SBRS is None' : `DNSBL zones set to ${zones.map((z) => `${z.zone}=${z.score}`).join(', ')}`;
      });
    });
}

function registerGui(program: Command): void {
  program
    .command('gui')
    .description('The admin GUI (HTTPS): address, port and certificate.')
    .addHelpText('after', examples('gatehouse gui edit --address 0.0.0.0 --port 8443 --certificate Main'))
    .command('edit')
    .description('Change where the admin GUI listens and which certificate it presents.')
    .option('--address <ip>', 'IP address to listen on')
    .option('--port <n>', 'TCP port (1-65535)', parseInteger)
    .option('--certificate <profile>', 'certificate profile')
    .option('--idle-timeout <minutes>', 'log a GUI session out after this many idle minutes (1-1440, default 30)', parseInteger)
    .addHelpText('after', examples('gatehouse gui edit --address 0.0.0.0 --port 8443', 'gatehouse gui edit --certificate Main', 'gatehouse gui edit --idle-timeout 15'))
    .action((opts: { address?: string; port?: number; certificate?: string; idleTimeout?: number }, cmd: Command) => {
      if (opts.address === undefined && opts.port === undefined && opts.certificate === undefined && opts.idleTimeout === undefined) {
        throw nothingToChange('--address, --port, --certificate, --idle-timeout');
      }
      runStagedEdit(cmd, 'gui edit', (draft) => {
        const g = editGui(draft, { address: opts.address, port: opts.port, certificate: opts.certificate, idleTimeoutMinutes: opts.idleTimeout });
        return `GUI set to https://${g.address.includes(':') ? `[${g.address}]` : g.address}:${g.port}/ with certificate ${g.certificate}, idle timeout ${g.idleTimeoutMinutes} minutes`;
      });
    });
}

export function registerSettings(program: Command): void {
  registerHostname(program);
  registerDns(program);
  registerReputation(program);
  registerGui(program);
}
