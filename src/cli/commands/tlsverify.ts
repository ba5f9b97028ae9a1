/**
 * `gatehouse tlsverify DOMAIN [HOST[:PORT]] [--json]` (SPEC §7): prints each
 * step as it happens, ending `TLS verification completed.` (exit 0) or
 * `TLS verification failed: <reason>` (exit 1); `--json` prints the whole
 * result with the same steps as data.
 */
import type { Command } from 'commander';
import { UserError } from '../../core/errors.js';
import { parseHostPort } from '../../smtp/outbound/next-hops.js';
import { openHome } from '../../services/staging.js';
import { runTlsVerify } from '../../services/tls-verify.js';
import { globalOptions } from '../global-options.js';
import { examples } from '../option-parsers.js';
import { printJson, printLines } from '../output.js';

export function registerTlsverify(program: Command): void {
  program
    .command('tlsverify')
    .description('Connect to the next hop of DOMAIN (or HOST), STARTTLS, and verify its certificate chain and name as delivery would, step by step.')
    .argument('<domain>', 'the recipient domain to verify against')
    .argument('[host]', 'HOST[:PORT] to connect to instead of the SMTP route or MX (default port 25); [v6]:PORT for IPv6')
    .option('--json', 'print the result and its steps as JSON')
    .addHelpText('after', examples('gatehouse tlsverify example.com', 'gatehouse tlsverify example.com mx1.example.com:25', 'gatehouse tlsverify example.com --json'))
    .action(async (domain: string, hostArg: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const json = opts.json === true || g.json;
      const home = openHome(g.home);
      let host: string | undefined;
      let port: number | undefined;
      if (hostArg !== undefined) {
        const hp = parseHostPort(hostArg.trim());
        if (hp.host === '') throw new UserError(`host "${hostArg}" is empty`, 2);
        host = hp.host;
        port = hp.port;
      }
      const result = await runTlsVerify(home, { domain, ...(host !== undefined ? { host } : {}), ...(port !== undefined ? { port } : {}) }, json ? {} : { onStep: (s) => printLines(s.text) });
      if (json) printJson(result);
      if (!result.verified) process.exitCode = 1;
    });
}
