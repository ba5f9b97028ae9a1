/**
 * `gatehouse queue list [--json] | flush | delete|bounce|hold|release MID`
 * (SPEC §12). A running gateway is asked through its control socket; `list`
 * also works without one (the spool is read directly), the others need one.
 */
import type { Command } from 'commander';
import { UserError } from '../../core/errors.js';
import { homeLayout, type HomeLayout } from '../../core/home-layout.js';
import type { ControlResponse, QueueAction, QueueListEntry } from '../../core/control-protocol.js';
import { listQueueOffline } from '../../services/queue-service.js';
import { gatewayPid, sendControl } from '../control-client.js';
import { globalOptions } from '../global-options.js';
import { printJson, printLines } from '../output.js';

async function ask(layout: HomeLayout, action: QueueAction, mid?: number): Promise<Extract<ControlResponse, { command: 'queue' }> | null> {
  const r = await sendControl(layout, 'queue', undefined, { queue: mid === undefined ? { action } : { action, mid } });
  if (r === null) return null;
  if (!r.ok) throw new UserError(r.error);
  if (r.command !== 'queue') throw new UserError('the gateway sent an unexpected reply');
  return r;
}

function parseMid(text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new UserError(`MID must be a number, got "${text}"`, 2);
  return Number(text);
}

function formatList(messages: QueueListEntry[]): string[] {
  if (messages.length === 0) return ['The queue is empty.'];
  const lines = [`${messages.length} message${messages.length === 1 ? '' : 's'} in the queue:`];
  for (const m of messages) {
    lines.push(`MID ${m.mid}  from <${m.from}>  ${m.size} bytes  received ${new Date(m.receivedAt).toISOString()}${m.held ? '  HELD' : ''}`);
    for (const r of m.recipients) {
      const next = r.state === 'pending' ? `  next attempt ${new Date(r.nextAttemptAt).toISOString()}` : '';
      lines.push(`  RID ${r.rid} <${r.address}>  ${r.state}  attempts ${r.attempts}${next}${r.lastReply ? `  last: ${r.lastReply}` : ''}`);
    }
  }
  return lines;
}

export function registerQueue(program: Command): void {
  const queue = program.command('queue').description('The delivery queue: list, flush, delete, bounce, hold, release.');
  queue
    .command('list')
    .description('List queued messages and the state of each recipient (works with or without a running gateway).\nExample: gatehouse queue list --json')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const layout = homeLayout(g.home);
      let messages: QueueListEntry[];
      const r = await ask(layout, 'list');
      if (r) messages = r.messages ?? [];
      else {
        if (gatewayPid(layout) !== null) throw new UserError(`the gateway on ${layout.root} runs but its control socket does not answer; try again`);
        messages = await listQueueOffline(layout);
      }
      if (opts.json || g.json) printJson(messages);
      else printLines(...formatList(messages));
    });
  queue
    .command('flush')
    .description('Make every queued recipient due now (needs a running gateway).\nExample: gatehouse queue flush')
    .action(async (_opts: unknown, cmd: Command) => {
      const layout = homeLayout(globalOptions(cmd).home);
      if ((await ask(layout, 'flush')) === null) throw new UserError(`no gateway is running on ${layout.root}`);
      printLines('Queue flushed: every pending recipient is being retried now.');
    });
  const single: [QueueAction, string, string][] = [
    ['delete', 'Remove a message from the queue without a notification', 'deleted'],
    ['bounce', 'Bounce every pending recipient of a message now (DSN to the sender)', 'bounced'],
    ['hold', 'Keep a message in the queue without delivering it', 'held'],
    ['release', 'Deliver a held message again', 'released'],
  ];
  for (const [action, description, done] of single) {
    queue
      .command(`${action} <mid>`)
      .description(`${description} (needs a running gateway).\nExample: gatehouse queue ${action} 42`)
      .action(async (midText: string, _opts: unknown, cmd: Command) => {
        const mid = parseMid(midText);
        const layout = homeLayout(globalOptions(cmd).home);
        if ((await ask(layout, action, mid)) === null) throw new UserError(`no gateway is running on ${layout.root}`);
        printLines(`MID ${mid} ${done}.`);
      });
  }
  for (const cmd of queue.commands) {
    cmd.exitOverride();
    cmd.configureOutput({ writeErr: (text) => process.stderr.write(`gatehouse: ${text.replace(/^error: /, '')}`) });
  }
}
