/** `gatehouse start [--config FILE]`: run the gateway in the foreground. */
import fs from 'node:fs';
import type { Command } from 'commander';
import YAML from 'yaml';
import { ConfigError, UserError, errorMessage } from '../../core/errors.js';
import { homeLayout } from '../../core/home-layout.js';
import { ConfigStore } from '../../config/config-store.js';
import { validateConfig } from '../../services/validate-config.js';
import { printLines } from '../output.js';
import { globalOptions } from '../global-options.js';

/** Reads a configuration file (YAML or JSON); sections it leaves out keep their committed values for certificates and users. */
function readConfigFile(file: string, committed: Record<string, unknown>): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${file}: ${errorMessage(err)}`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new ConfigError([`${file}: not valid YAML: ${errorMessage(err).split('\n')[0]}`]);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError([`${file}: must be a YAML mapping`]);
  const merged: Record<string, unknown> = { ...(doc as Record<string, unknown>) };
  for (const key of ['certificates', 'users', 'hostname']) if (!(key in merged)) merged[key] = committed[key];
  return merged;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('Run the gateway in the foreground (creates the home on first start).\nExample: gatehouse --home ./data start --config gatehouse.yaml')
    .option('--config <file>', 'commit this configuration file as a new version, then run it')
    .action(async (opts: { config?: string }, cmd: Command) => {
      const { home } = globalOptions(cmd);
      // Loaded on use: the gateway and the X.509 library are heavy for every other command.
      const { demoCertificateUsers, initHome } = await import('../../services/home-service.js');
      const { runGateway } = await import('../../app/run-gateway.js');
      const init = await initHome(home);
      if (init.created) printLines(`Initialised ${init.layout.root} with the embedded defaults.`, `Admin password: ${init.adminPassword}`);
      const layout = homeLayout(home);
      const store = new ConfigStore(layout);
      if (opts.config !== undefined) {
        const v = validateConfig(readConfigFile(opts.config, store.committed().config as unknown as Record<string, unknown>));
        if (!v.ok) throw new ConfigError(v.errors);
        for (const w of v.warnings) printLines(`Warning: ${w}`);
        const info = store.commit(v.config, 'admin', `start --config ${opts.config}`);
        printLines(`Committed ${opts.config} as configuration version ${info.version}.`);
      }
      const committed = store.committed();
      const v = validateConfig(committed.config);
      if (!v.ok) throw new ConfigError(v.errors);
      await runGateway(layout, v.config, (listeners, gui) => {
        const lines = [`Gatehouse running (pid ${process.pid}, home ${layout.root}, configuration version ${committed.version}, host name ${v.config.hostname})`];
        for (const l of listeners) lines.push(`  ${l.type.padEnd(7)} listener ${l.name} on ${l.address}:${l.port}`);
        lines.push('url' in gui ? `  GUI: ${gui.url} (user admin)` : `  GUI: not started: ${gui.error}`);
        lines.push(`  Mail log: ${layout.mailLogDir}/mail.current`);
        for (const user of demoCertificateUsers(v.config)) lines.push(`Warning: ${user} uses the demo certificate; install your own with certconfig.`);
        printLines(...lines);
      }, { version: committed.version });
    });
}
