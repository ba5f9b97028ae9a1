/** The options every command accepts: `--home DIR` (before or after the command) and `--json`. */
import type { Command } from 'commander';
import { resolveHome } from '../core/home-layout.js';

export interface GlobalOptions {
  home: string;
  json: boolean;
}

export function globalOptions(cmd: Command): GlobalOptions {
  const all = cmd.optsWithGlobals<{ home?: string; json?: boolean }>();
  return { home: resolveHome(all.home), json: all.json === true };
}
