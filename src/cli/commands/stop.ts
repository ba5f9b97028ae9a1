/** `gatehouse stop`: ask the running gateway to stop gracefully (SIGTERM through the pidfile). */
import type { Command } from 'commander';
import { UserError } from '../../core/errors.js';
import { homeLayout } from '../../core/home-layout.js';
import { runningGatewayPid } from '../../app/run-gateway.js';
import { printLines } from '../output.js';
import { globalOptions } from '../global-options.js';

export function registerStop(program: Command): void {
  program
    .command('stop')
    .description('Stop the running gateway gracefully.\nExample: gatehouse --home ./data stop')
    .action(async (_opts: unknown, cmd: Command) => {
      const layout = homeLayout(globalOptions(cmd).home);
      const pid = runningGatewayPid(layout);
      if (pid === null) throw new UserError(`no gateway is running on ${layout.root}`);
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 600 && runningGatewayPid(layout) === pid; i++) await new Promise((r) => setTimeout(r, 100));
      if (runningGatewayPid(layout) === pid) throw new UserError(`gateway pid ${pid} did not stop within 60 s`);
      printLines(`Gateway stopped (pid ${pid}).`);
    });
}
