/**
 * How an editing command runs: open the home, apply a pure edit to the working
 * configuration through `editStaged` (full validation, staged until commit),
 * and say what changed. A refused edit changes nothing; a single validation
 * error is one line naming the field.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { ConfigError, UserError } from '../core/errors.js';
import type { Config } from '../config/schema.js';
import { editStaged, openHome } from '../services/staging.js';
import { validateConfig } from '../services/validate-config.js';
import { globalOptions } from './global-options.js';
import { printJson, printLines } from './output.js';

/** Who runs the CLI, for the staged document and the audit log: the operating system user. */
export function cliUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env['USER'] ?? 'admin';
  }
}

/**
 * Stages `edit` (which returns a sentence saying what it did) and prints that
 * sentence, or `{ staged, message, warnings }` with --json. Only warnings the
 * edit brought in are shown (earlier ones were shown when they came in, and
 * commit shows them all).
 * `action` is the audit-log entry: the command without secrets.
 */
export function runStagedEdit(cmd: Command, action: string, edit: (draft: Config) => string): void {
  const { home: root, json } = globalOptions(cmd);
  const home = openHome(root);
  const before = validateConfig(home.store.working());
  const known = new Set(before.ok ? before.warnings : []);
  let message = '';
  let warnings: string[];
  try {
    warnings = editStaged(home, cliUser(), action, (draft) => {
      message = edit(draft);
    }).warnings.filter((w) => !known.has(w));
  } catch (err) {
    if (err instanceof ConfigError && err.issues.length === 1) throw new UserError(`invalid configuration: ${err.issues[0] ?? ''}`);
    throw err;
  }
  if (json) printJson({ staged: true, message, warnings });
  else printLines(`${message} (staged; "gatehouse commit" applies it).`, ...warnings.map((w) => `Warning: ${w}`));
}

/** A usage error (exit 2) for an edit command given nothing to change. */
export function nothingToChange(flags: string): UserError {
  return new UserError(`nothing to change: give at least one of ${flags}`, 2);
}
