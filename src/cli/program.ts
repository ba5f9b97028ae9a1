/** The `gatehouse` command tree (SPEC §12). Commands are thin: they parse flags and call services. */
import { Command } from 'commander';
import { registerInit } from './commands/init.js';
import { registerStart } from './commands/start.js';
import { registerStop } from './commands/stop.js';

export function buildProgram(): Command {
  const program = new Command('gatehouse')
    .description('Gatehouse email security gateway')
    .option('--home <dir>', 'home directory (default: $GATEHOUSE_HOME, else ./data)')
    .option('--json', 'print data as JSON')
    .showHelpAfterError(false)
    .configureOutput({ writeErr: (text) => process.stderr.write(`gatehouse: ${text.replace(/^error: /, '')}`) })
    .exitOverride();
  registerInit(program);
  registerStart(program);
  registerStop(program);
  for (const cmd of program.commands) {
    cmd.exitOverride();
    cmd.configureOutput({ writeErr: (text) => process.stderr.write(`gatehouse: ${text.replace(/^error: /, '')}`) });
  }
  return program;
}
