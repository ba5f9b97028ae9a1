/** `gatehouse init`: create the home with the embedded defaults (SPEC §2). */
import type { Command } from 'commander';
import { printJson, printLines } from '../output.js';
import { globalOptions } from '../global-options.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('Create the home directory with the embedded defaults and print the admin password once.\nExample: gatehouse --home /var/lib/gatehouse init')
    .option('--hostname <name>', 'host name for banners and EHLO (default: this machine\'s name)')
    .action(async (opts: { hostname?: string }, cmd: Command) => {
      const { home, json } = globalOptions(cmd);
      // Loaded on use: certificate generation pulls in the X.509 library, which other commands need not pay for.
      const { initHome } = await import('../../services/home-service.js');
      const result = await initHome(home, { hostname: opts.hostname });
      if (!result.created) {
        if (json) printJson({ created: false, home: result.layout.root });
        else printLines(`${result.layout.root} is already initialised; nothing changed.`);
        return;
      }
      if (json) printJson({ created: true, home: result.layout.root, version: result.version, adminPassword: result.adminPassword });
      else printLines(`Initialised ${result.layout.root} (configuration version ${result.version}).`, `Admin password: ${result.adminPassword}`);
    });
}
