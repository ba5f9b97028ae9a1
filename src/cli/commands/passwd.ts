/**
 * `gatehouse passwd [--user NAME] [--password-file F]`: change an admin
 * user's password. The new password comes from F, else stdin (asked without
 * echo on a terminal); one trailing newline is stripped, an empty one is
 * refused. Like every edit it is staged: it takes effect at `commit`.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { UserError, errorMessage } from '../../core/errors.js';
import { openHome } from '../../services/staging.js';
import { findUser, passwordFromInput, setUserPassword } from '../../services/users.js';
import { globalOptions } from '../global-options.js';
import { examples } from '../option-parsers.js';
import { promptSecret } from '../secret-input.js';
import { runStagedEdit } from '../staged-edit.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function readNewPassword(file: string | undefined): Promise<string> {
  if (file !== undefined) {
    try {
      return passwordFromInput(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new UserError(`cannot read ${file}: ${errorMessage(err)}`);
    }
  }
  if (!process.stdin.isTTY) return passwordFromInput(await readStdin());
  const noTerminal = 'passwd needs the new password: give --password-file F or pipe it on stdin';
  const first = passwordFromInput(await promptSecret('New password: ', noTerminal));
  if ((await promptSecret('New password again: ', noTerminal)) !== first) throw new UserError('the two passwords differ; nothing changed');
  return first;
}

export function registerPasswd(program: Command): void {
  program
    .command('passwd')
    .description('Change the password of an admin user (GUI and API login). Staged: it takes effect at commit.')
    .option('--user <name>', 'user name', 'admin')
    .option('--password-file <file>', 'read the new password from this file (default: stdin); one trailing newline is stripped')
    .addHelpText('after', examples('gatehouse passwd --user admin --password-file /root/new-password', 'printf "%s" "$NEWPASS" | gatehouse passwd'))
    .action(async (opts: { user: string; passwordFile?: string }, cmd: Command) => {
      findUser(openHome(globalOptions(cmd).home).store.working(), opts.user);
      const password = await readNewPassword(opts.passwordFile);
      runStagedEdit(cmd, `passwd --user ${opts.user}`, (draft) => {
        setUserPassword(draft, opts.user, password);
        return `Password of ${opts.user} changed`;
      });
    });
}
