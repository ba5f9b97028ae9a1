/**
 * `gatehouse stop`: ask the running gateway to stop gracefully through its
 * control socket (SIGTERM through the pidfile when the socket does not answer),
 * then wait until it has exited.
 */
import type { Command } from 'commander';
import { UserError } from '../../core/errors.js';
import { homeLayout } from '../../core/home-layout.js';
import { gatewayPid, isAlive, sendControl } from '../control-client.js';
import { printJson, printLines } from '../output.js';
import { globalOptions } from '../global-options.js';

export function registerStop(program: Command): void {
  program
    .command('stop')
    .description('Stop the running gateway gracefully: stop accepting, let open sessions finish, exit.\nExample: gatehouse --home ./data stop')
    .action(async (_opts: unknown, cmd: Command) => {
      const { home, json } = globalOptions(cmd);
      const layout = homeLayout(home);
      const pidBefore = gatewayPid(layout);
      const response = await sendControl(layout, 'stop').catch(() => null);
      let pid: number;
      if (response?.ok === true && 'pid' in response) pid = response.pid;
      else {
        if (pidBefore === null) throw new UserError(`no gateway is running on ${layout.root}`);
        pid = pidBefore;
        process.kill(pid, 'SIGTERM');
      }
      // The gateway removes its pidfile when it has stopped; also watch the process itself.
      const stopped = (): boolean => gatewayPid(layout) !== pid || !isAlive(pid);
      for (let i = 0; i < 600 && !stopped(); i++) await new Promise((r) => setTimeout(r, 100));
      if (!stopped()) throw new UserError(`gateway pid ${pid} did not stop within 60 s`);
      if (json) printJson({ stopped: true, pid });
      else printLines(`Gateway stopped (pid ${pid}).`);
    });
}

