/** The `gatehouse` command tree (SPEC §12). Commands are thin: they parse flags and call services. */
import { Command } from 'commander';
import { registerInit } from './commands/init.js';
import { registerLifecycle } from './commands/lifecycle.js';
import { registerStart } from './commands/start.js';
import { registerStop } from './commands/stop.js';
import { registerAlertconfig } from './commands/alertconfig.js';
import { registerCertconfig } from './commands/certconfig.js';
import { registerDestconfig } from './commands/destconfig.js';
import { registerListenerconfig } from './commands/listenerconfig.js';
import { registerPasswd } from './commands/passwd.js';
import { registerSettings } from './commands/settings.js';
import { registerSmtproutes } from './commands/smtproutes.js';
import { registerSslconfig } from './commands/sslconfig.js';
import { registerLogconfig } from './commands/logconfig.js';
import { registerQueue } from './commands/queue.js';
import { registerMailLogs } from './commands/mail-logs.js';
import { registerReport } from './commands/report.js';
import { registerTlsverify } from './commands/tlsverify.js';
import { registerChecktls } from './commands/checktls.js';

/** Commander's own error lines read `gatehouse: ...` like ours; help text passes unchanged. */
function writeError(text: string): void {
  process.stderr.write(text.startsWith('error: ') ? `gatehouse: ${text.slice('error: '.length)}` : text);
}

export function buildProgram(): Command {
  const program = new Command('gatehouse')
    .description('Gatehouse email security gateway')
    .option('--home <dir>', 'home directory (default: $GATEHOUSE_HOME, else ./data)')
    .option('--json', 'print data as JSON')
    .showHelpAfterError(false)
    .configureOutput({ writeErr: writeError })
    .exitOverride();
  registerInit(program);
  registerStart(program);
  registerStop(program);
  registerLifecycle(program);
  registerPasswd(program);
  registerSettings(program);
  registerListenerconfig(program);
  registerSmtproutes(program);
  registerDestconfig(program);
  registerSslconfig(program);
  registerLogconfig(program);
  registerAlertconfig(program);
  registerCertconfig(program);
  registerQueue(program);
  registerMailLogs(program);
  registerReport(program);
  registerTlsverify(program);
  registerChecktls(program);
  for (const cmd of program.commands) {
    cmd.exitOverride();
    cmd.configureOutput({ writeErr: writeError });
  }
  return program;
}
