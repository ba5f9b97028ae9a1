/**
 * `gatehouse listenerconfig`: listeners, their recipient access table (RAT),
 * host access table sender groups and mail flow policies (SPEC §4, §12).
 * Thin over the edit services; every change is staged until `commit`.
 */
import { Option, type Command } from 'commander';
import type { Config, Listener, MailFlowPolicy } from '../../config/schema.js';
import { openHome } from '../../services/staging.js';
import { addListener, addRatEntry, deleteListener, deleteRatEntry, editListener, findListener, type ListenerType } from '../../services/edit-listeners.js';
import {
  addSenderGroup,
  addSenderGroupMember,
  deleteSenderGroup,
  deleteSenderGroupMember,
  editSenderGroup,
  moveSenderGroup,
} from '../../services/edit-sender-groups.js';
import { addPolicy, deletePolicy, editPolicy, type PolicyChanges } from '../../services/edit-mail-flow-policies.js';
import { globalOptions } from '../global-options.js';
import { examples, parseInteger, parseLimit, toLimit, parseList, parseOnOff } from '../option-parsers.js';
import { printJson, printLines } from '../output.js';
import { nothingToChange, runStagedEdit } from '../staged-edit.js';
import { formatTable } from '../text-table.js';

/** The working configuration (staged, else committed) and whether --json was given. */
function readWorking(cmd: Command): { config: Config; json: boolean } {
  const { home, json } = globalOptions(cmd);
  return { config: openHome(home).store.working(), json };
}

function formatBytes(n: number): string {
  const MiB = 1024 * 1024;
  if (n % MiB === 0) return `${n / MiB} MiB`;
  if (n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
}

const onOff = (b: boolean): string => (b ? 'on' : 'off');

interface ListenerFlags {
  type?: ListenerType;
  address?: string;
  port?: number;
  hostname?: string;
  certificate?: string[];
}

function registerListeners(lc: Command): void {
  lc.command('list')
    .description('List the listeners (from the staged configuration when changes are staged).')
    .addHelpText('after', examples('gatehouse listenerconfig list', 'gatehouse listenerconfig list --json'))
    .action((_opts: unknown, cmd: Command) => {
      const { config, json } = readWorking(cmd);
      if (json) return printJson(config.listeners);
      if (config.listeners.length === 0) return printLines('No listeners.');
      printLines(
        ...formatTable(
          ['Name', 'Type', 'Address', 'Port', 'Host name', 'Certificates', 'Sender groups', 'RAT'],
          config.listeners.map((l) => [
            l.name,
            l.type,
            l.address,
            String(l.port),
            l.hostname ?? `${config.hostname} (global)`,
            l.certificates.join(', '),
            String(l.senderGroups.length),
            l.type === 'public' ? (l.rat.length === 0 ? 'none (accepts no domain)' : String(l.rat.length)) : '-',
          ]),
        ),
      );
    });

  lc.command('new')
    .description('Add a listener with the default HAT of its type (a public listener accepts no recipient domain until one is added to its RAT).')
    .argument('<name>', 'listener name (letters, digits, _ or -)')
    .addOption(new Option('--type <type>', 'public (mail from the internet) or private (relay for internal hosts)').choices(['public', 'private']).makeOptionMandatory())
    .requiredOption('--address <ip>', 'IP address to listen on (0.0.0.0 or :: for all)')
    .requiredOption('--port <n>', 'TCP port (1-65535)', parseInteger)
    .option('--hostname <name>', 'banner and EHLO name (default: the global host name)')
    .option('--certificate <names>', 'certificate profiles, comma-separated; the first is the default, the others are chosen by SNI', parseList)
    .addHelpText('after', examples('gatehouse listenerconfig new Inbound2 --type public --address 0.0.0.0 --port 25 --hostname mx.example.com --certificate Main,Legacy'))
    .action((name: string, opts: ListenerFlags, cmd: Command) => {
      runStagedEdit(cmd, `listenerconfig new ${name}`, (draft) => {
        const l = addListener(draft, {
          name,
          type: opts.type ?? 'public',
          address: opts.address ?? '',
          port: opts.port ?? 0,
          hostname: opts.hostname,
          certificates: opts.certificate,
        });
        return `Listener ${l.name} (${l.type}) added on ${l.address}:${l.port}`;
      });
    });

  lc.command('edit')
    .description('Change a listener\'s address, port, host name or certificates.')
    .argument('<name>', 'listener name')
    .option('--address <ip>', 'IP address to listen on')
    .option('--port <n>', 'TCP port (1-65535)', parseInteger)
    .option('--hostname <name>', 'banner and EHLO name ("" uses the global host name)')
    .option('--certificate <names>', 'certificate profiles, comma-separated; the first is the default', parseList)
    .addHelpText('after', examples('gatehouse listenerconfig edit IncomingMail --address 0.0.0.0 --port 25', 'gatehouse listenerconfig edit IncomingMail --certificate Main,Legacy'))
    .action((name: string, opts: ListenerFlags, cmd: Command) => {
      if (opts.address === undefined && opts.port === undefined && opts.hostname === undefined && opts.certificate === undefined) {
        throw nothingToChange('--address, --port, --hostname, --certificate');
      }
      runStagedEdit(cmd, `listenerconfig edit ${name}`, (draft) => {
        const l = editListener(draft, name, { address: opts.address, port: opts.port, hostname: opts.hostname, certificates: opts.certificate });
        return `Listener ${l.name} changed`;
      });
    });

  lc.command('delete')
    .description('Remove a listener with its HAT, policies and RAT.')
    .argument('<name>', 'listener name')
    .addHelpText('after', examples('gatehouse listenerconfig delete Inbound2'))
    .action((name: string, _opts: unknown, cmd: Command) => {
      runStagedEdit(cmd, `listenerconfig delete ${name}`, (draft) => `Listener ${deleteListener(draft, name).name} deleted`);
    });
}

function registerRat(lc: Command): void {
  const rat = lc
    .command('rat')
    .description('The recipient access table of a public listener: example.com accepts that domain, .example.com its subdomains.')
    .addHelpText('after', examples('gatehouse listenerconfig rat add IncomingMail example.com', 'gatehouse listenerconfig rat list IncomingMail'));

  rat
    .command('list')
    .description('List the RAT entries of a listener.')
    .argument('<listener>', 'listener name')
    .addHelpText('after', examples('gatehouse listenerconfig rat list IncomingMail'))
    .action((listenerName: string, _opts: unknown, cmd: Command) => {
      const { config, json } = readWorking(cmd);
      const l = findListener(config, listenerName);
      if (json) return printJson({ listener: l.name, rat: l.rat });
      if (l.type !== 'public') return printLines(`Listener ${l.name} is private: it relays by sender group and has no recipient access table.`);
      if (l.rat.length === 0) return printLines(`No entries: listener ${l.name} accepts no recipient domain (postmaster@ of an accepted domain is always accepted).`);
      printLines(...formatTable(['Recipient domain', 'Matches'], l.rat.map((d) => [d, d.startsWith('.') ? `subdomains of ${d.slice(1)}` : 'exactly this domain'])));
    });

  rat
    .command('add')
    .description('Accept mail for a domain (example.com) or its subdomains (.example.com).')
    .argument('<listener>', 'public listener name')
    .argument('<domain>', 'example.com or .example.com')
    .addHelpText('after', examples('gatehouse listenerconfig rat add IncomingMail example.com', 'gatehouse listenerconfig rat add IncomingMail .example.com'))
    .action((listenerName: string, domain: string, _opts: unknown, cmd: Command) => {
      runStagedEdit(cmd, `listenerconfig rat add ${listenerName} ${domain}`, (draft) => `${addRatEntry(draft, listenerName, domain)} added to the RAT of ${findListener(draft, listenerName).name}`);
    });

  rat
    .command('delete')
    .description('Stop accepting mail for a RAT entry.')
    .argument('<listener>', 'public listener name')
    .argument('<domain>', 'the entry as listed')
    .addHelpText('after', examples('gatehouse listenerconfig rat delete IncomingMail example.com'))
    .action((listenerName: string, domain: string, _opts: unknown, cmd: Command) => {
      runStagedEdit(cmd, `listenerconfig rat delete ${listenerName} ${domain}`, (draft) => `${deleteRatEntry(draft, listenerName, domain)} removed from the RAT of ${findListener(draft, listenerName).name}`);
    });
}

interface GroupFlags {
  policy?: string;
  order?: number;
  comment?: string;
}

function registerSenderGroups(lc: Command): void {
  const sg = lc
    .command('sendergroup')
    .description('HAT sender groups of a listener: ordered; the first group with a member matching the connecting host names its mail flow policy.')
    .addHelpText(
      'after',
      examples('gatehouse listenerconfig sendergroup list IncomingMail', 'gatehouse listenerconfig sendergroup add-member OutgoingMail RELAYLIST 10.0.0.0/8'),
    );

  sg.command('list')
    .description('List the sender groups of a listener in match order.')
    .argument('<listener>', 'listener name')
    .addHelpText('after', examples('gatehouse listenerconfig sendergroup list IncomingMail', 'gatehouse listenerconfig sendergroup list IncomingMail --json'))
    .action((listenerName: string, _opts: unknown, cmd: Command) => {
      const { config, json } = readWorking(cmd);
      const l = findListener(config, listenerName);
      if (json) return printJson({ listener: l.name, senderGroups: l.senderGroups.map((g, i) => ({ order: i + 1, ...g })) });
      if (l.senderGroups.length === 0) return printLines(`Listener ${l.name} has no sender groups: every connection is refused.`);
      printLines(
        ...formatTable(
          ['Order', 'Sender group', 'Policy', 'Behavior', 'Members', 'Comment'],
          l.senderGroups.map((g, i) => [
            String(i + 1),
            g.name,
            g.policy,
            l.policies.find((p) => p.name === g.policy)?.behavior ?? '?',
            g.members.length === 0 ? '(none)' : g.members.join(', '),
            g.comment,
          ]),
        ),
      );
    });

  const groupCommand = (name: 'new' | 'edit'): Command =>
    sg
      .command(name)
      .argument('<listener>', 'listener name')
      .argument('<group>', 'sender group name (upper case; a leading $ is optional)')
      .addOption(new Option('--policy <policy>', 'mail flow policy of this listener').makeOptionMandatory(name === 'new'))
      .option('--order <n>', '1-based position in the HAT', parseInteger)
      .option('--comment <text>', 'description');

  groupCommand('new')
    .description('Add an empty sender group (add members with add-member). Without --order it goes just before a final catch-all (ALL) group.')
    .addHelpText('after', examples('gatehouse listenerconfig sendergroup new IncomingMail PARTNERS --policy TRUSTED --order 1 --comment "Partner relays"'))
    .action((listenerName: string, group: string, opts: GroupFlags, cmd: Command) => {
      runStagedEdit(cmd, `listenerconfig sendergroup new ${listenerName} ${group}`, (draft) => {
        const g = addSenderGroup(draft, listenerName, group, { policy: opts.policy ?? '', order: opts.order, comment: opts.comment });
        const l = findListener(draft, listenerName);
        return `Sender group ${g.name} added to ${l.name} at position ${l.senderGroups.indexOf(g) + 1} with policy ${g.policy}`;
      });
    });

  groupCommand('edit')
    .description('Change a sender group\'s policy, position or comment.')
    .addHelpText('after', examples('gatehouse listenerconfig sendergroup edit IncomingMail SUSPECTLIST --policy BLOCKED'))
    .action((listenerName: string, group: string, opts: GroupFlags, cmd: Command) => {
      if (opts.policy === undefined && opts.order === undefined && opts.comment === undefined) throw nothingToChange('--policy, --order, --comment');
      runStagedEdit(cmd, `listenerconfig sendergroup edit ${listenerName} ${group}`, (draft) => {
        const g = editSenderGroup(draft, listenerName, group, { policy: opts.policy, order: opts.order, comment: opts.comment });
        return `Sender group ${g.name} on ${findListener(draft, listenerName).name} changed`;
      });
    });

  sg.command('delete')
    .description('Remove a sender group.')
    .argument('<listener>', 'listener name')
    .argument('<group>', 'sender group name')
    .addHelpText('after', examples('gatehouse listenerconfig sendergroup delete IncomingMail PARTNERS'))
    .action((listenerName: string, group: string, _opts: unknown, cmd: Command) => {
      runStagedEdit(cmd, `listenerconfig sendergroup delete ${listenerName} ${group}`, (draft) => {
        const g = deleteSenderGroup(draft, listenerName, group);
        return `Sender group ${g.name} deleted from ${findListener(draft, listenerName).name}`;
      });
    });

  sg.command('move')
    .description('Move a sender group to another position (1 = matched first).')
    .argument('<listener>', 'listener name')
    .argument('<group>', 'sender group name')
    .requiredOption('--order <n>', '1-based position in the HAT', parseInteger)
    .addHelpText('after', examples('gatehouse listenerconfig sendergroup move IncomingMail PARTNERS --order 1'))
    .action((listenerName: string, group: string, opts: { order: number }, cmd: Command) => {
      runStagedEdit(cmd, `listenerconfig sendergroup move ${listenerName} ${group} --order ${opts.order}`, (draft) => {
        const g = moveSenderGroup(draft, listenerName, group, opts.order);
        return `Sender group ${g.name} moved to position ${opts.order} on ${findListener(draft, listenerName).name}`;
      });
    });

  const memberHelp = 'IP, CIDR (10.0.0.0/8), range (10.1.1.1-10.1.1.50), host name, .domain (verified reverse DNS), sbrs[a:b] or ALL';
  sg.command('add-member')
    .description(`Add a member to a sender group: ${memberHelp}.`)
    .argument('<listener>', 'listener name')
    .argument('<group>', 'sender group name')
    .argument('<member>', 'the member')
    .addHelpText(
      'after',
      examples(
        'gatehouse listenerconfig sendergroup add-member OutgoingMail RELAYLIST 10.0.0.0/8',
        'gatehouse listenerconfig sendergroup add-member IncomingMail ALLOWLIST .partner.example',
      ),
    )
    .action((listenerName: string, group: string, member: string, _opts: unknown, cmd: Command) => {
      runStagedEdit(cmd, `listenerconfig sendergroup add-member ${listenerName} ${group} ${member}`, (draft) => {
        const m = addSenderGroupMember(draft, listenerName, group, member);
        return `${m} added to sender group ${group.replace(/^\$/, '').toUpperCase()} on ${findListener(draft, listenerName).name}`;
      });
    });

  sg.command('delete-member')
    .description('Remove a member from a sender group (written as listed).')
    .argument('<listener>', 'listener name')
    .argument('<group>', 'sender group name')
    .argument('<member>', 'the member as listed')
    .addHelpText('after', examples('gatehouse listenerconfig sendergroup delete-member OutgoingMail RELAYLIST 10.0.0.0/8'))
    .action((listenerName: string, group: string, member: string, _opts: unknown, cmd: Command) => {
      runStagedEdit(cmd, `listenerconfig sendergroup delete-member ${listenerName} ${group} ${member}`, (draft) => {
        const m = deleteSenderGroupMember(draft, listenerName, group, member);
        return `${m} removed from sender group ${group.replace(/^\$/, '').toUpperCase()} on ${findListener(draft, listenerName).name}`;
      });
    });
}

interface PolicyFlags {
  behavior?: MailFlowPolicy['behavior'];
  tls?: MailFlowPolicy['tls'];
  verifyClientCert?: boolean;
  tlsMandatoryAddressList?: string[];
  maxMessageSize?: number;
  maxRecipientsPerMessage?: number;
  maxMessagesPerConnection?: number;
  maxConnectionsPerIp?: number;
  maxRecipientsPerHour?: number | 'unlimited';
}

function policyChanges(opts: PolicyFlags): PolicyChanges {
  const changes: PolicyChanges = {
    behavior: opts.behavior,
    tls: opts.tls,
    verifyClientCertificate: opts.verifyClientCert,
    tlsMandatoryAddressList: opts.tlsMandatoryAddressList,
    maxMessageSize: opts.maxMessageSize,
    maxRecipientsPerMessage: opts.maxRecipientsPerMessage,
    maxMessagesPerConnection: opts.maxMessagesPerConnection,
    maxConnectionsPerIp: opts.maxConnectionsPerIp,
    maxRecipientsPerHour: toLimit(opts.maxRecipientsPerHour),
  };
  return Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) as PolicyChanges;
}

function policyRow(l: Listener, p: MailFlowPolicy): string[] {
  const users = l.senderGroups.filter((g) => g.policy === p.name).map((g) => g.name);
  return [
    p.name,
    p.behavior,
    p.tls,
    onOff(p.verifyClientCertificate),
    formatBytes(p.maxMessageSize),
    String(p.maxRecipientsPerMessage),
    String(p.maxMessagesPerConnection),
    String(p.maxConnectionsPerIp),
    p.maxRecipientsPerHour === null ? 'unlimited' : String(p.maxRecipientsPerHour),
    p.tlsMandatoryAddressList.join(', ') || '-',
    users.join(', ') || '(unused)',
  ];
}

function registerPolicies(lc: Command): void {
  const pol = lc
    .command('policy')
    .description('Mail flow policies of a listener: behavior, TLS, client certificates and limits.')
    .addHelpText('after', examples('gatehouse listenerconfig policy list IncomingMail', 'gatehouse listenerconfig policy edit IncomingMail ACCEPTED --tls preferred'));

  pol
    .command('list')
    .description('List the mail flow policies of a listener and the sender groups using them.')
    .argument('<listener>', 'listener name')
    .addHelpText('after', examples('gatehouse listenerconfig policy list IncomingMail', 'gatehouse listenerconfig policy list IncomingMail --json'))
    .action((listenerName: string, _opts: unknown, cmd: Command) => {
      const { config, json } = readWorking(cmd);
      const l = findListener(config, listenerName);
      if (json) return printJson({ listener: l.name, policies: l.policies });
      if (l.policies.length === 0) return printLines(`Listener ${l.name} has no mail flow policies.`);
      printLines(
        ...formatTable(
          ['Policy', 'Behavior', 'TLS', 'Client cert', 'Max size', 'Rcpts/msg', 'Msgs/conn', 'Conns/IP', 'Rcpts/hour', 'TLS-mandatory senders', 'Used by'],
          l.policies.map((p) => policyRow(l, p)),
        ),
      );
    });

  const policyCommand = (name: 'new' | 'edit'): Command =>
    pol
      .command(name)
      .argument('<listener>', 'listener name')
      .argument('<policy>', 'mail flow policy name (upper case; a leading $ is optional)')
      .addOption(new Option('--behavior <behavior>', 'accept (RAT domains), relay (any recipient), reject (554), tcprefuse (close at once)').choices(['accept', 'relay', 'reject', 'tcprefuse']))
      .addOption(new Option('--tls <level>', 'STARTTLS: off (not offered), preferred (offered), required (530 until STARTTLS)').choices(['off', 'preferred', 'required']))
      .option('--verify-client-cert <on|off>', 'verify client certificates (with required TLS a valid one is mandatory)', parseOnOff)
      .option('--tls-mandatory-address-list <list>', 'senders that must use TLS when tls is preferred: a@b,@example.com,.example.com ("" clears)', parseList)
      .option('--max-message-size <bytes>', 'largest message in bytes', parseInteger)
      .option('--max-recipients-per-message <n>', 'recipients per message', parseInteger)
      .option('--max-messages-per-connection <n>', 'messages per connection', parseInteger)
      .option('--max-connections-per-ip <n>', 'concurrent connections per client IP', parseInteger)
      .option('--max-recipients-per-hour <n>', 'recipients per client IP per hour, or unlimited', parseLimit);

  policyCommand('new')
    .description('Add a mail flow policy; settings not given take the defaults (accept, TLS preferred, 20 MiB, 1000 recipients and messages, 50 connections per IP).')
    .addHelpText('after', examples('gatehouse listenerconfig policy new IncomingMail STRICT --behavior accept --tls required --max-message-size 10485760'))
    .action((listenerName: string, policy: string, opts: PolicyFlags, cmd: Command) => {
      runStagedEdit(cmd, `listenerconfig policy new ${listenerName} ${policy}`, (draft) => {
        const p = addPolicy(draft, listenerName, policy, policyChanges(opts));
        return `Mail flow policy ${p.name} added to ${findListener(draft, listenerName).name} (use it with sendergroup new|edit --policy ${p.name})`;
      });
    });

  policyCommand('edit')
    .description('Change settings of a mail flow policy.')
    .addHelpText(
      'after',
      examples(
        'gatehouse listenerconfig policy edit IncomingMail ACCEPTED --tls preferred --tls-mandatory-address-list @bank.example,.gov.example',
        'gatehouse listenerconfig policy edit OutgoingMail RELAYED --tls required --verify-client-cert on',
      ),
    )
    .action((listenerName: string, policy: string, opts: PolicyFlags, cmd: Command) => {
      const changes = policyChanges(opts);
      if (Object.keys(changes).length === 0) throw nothingToChange('--behavior, --tls, --verify-client-cert, --tls-mandatory-address-list or a --max-... limit');
      runStagedEdit(cmd, `listenerconfig policy edit ${listenerName} ${policy}`, (draft) => {
        const p = editPolicy(draft, listenerName, policy, changes);
        return `Mail flow policy ${p.name} on ${findListener(draft, listenerName).name} changed`;
      });
    });

  pol
    .command('delete')
    .description('Remove a mail flow policy no sender group uses.')
    .argument('<listener>', 'listener name')
    .argument('<policy>', 'mail flow policy name')
    .addHelpText('after', examples('gatehouse listenerconfig policy delete IncomingMail STRICT'))
    .action((listenerName: string, policy: string, _opts: unknown, cmd: Command) => {
      runStagedEdit(cmd, `listenerconfig policy delete ${listenerName} ${policy}`, (draft) => {
        const p = deletePolicy(draft, listenerName, policy);
        return `Mail flow policy ${p.name} deleted from ${findListener(draft, listenerName).name}`;
      });
    });
}

export function registerListenerconfig(program: Command): void {
  const lc = program
    .command('listenerconfig')
    .description('Listeners, their recipient access table (rat), HAT sender groups (sendergroup) and mail flow policies (policy).')
    .addHelpText(
      'after',
      examples(
        'gatehouse listenerconfig list',
        'gatehouse listenerconfig new Inbound2 --type public --address 0.0.0.0 --port 25',
        'gatehouse listenerconfig rat add IncomingMail example.com',
        'gatehouse listenerconfig sendergroup add-member OutgoingMail RELAYLIST 10.0.0.0/8',
        'gatehouse listenerconfig policy edit IncomingMail ACCEPTED --tls required',
      ),
    );
  registerListeners(lc);
  registerRat(lc);
  registerSenderGroups(lc);
  registerPolicies(lc);
}
