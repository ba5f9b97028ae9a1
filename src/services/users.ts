/**
 * Admin users (GUI and API logins): changing a password. The password is
 * stored only as a scrypt hash in the configuration's `users`; like every
 * edit it is staged and takes effect at commit.
 */
import { UserError } from '../core/errors.js';
import type { Config } from '../config/schema.js';
import { hashPassword } from './password-hash.js';

/**
 * The new password as read from a file or stdin: one trailing newline
 * (`\n` or `\r\n`) is stripped; empty or multi-line text is refused.
 */
export function passwordFromInput(input: string): string {
  const password = input.replace(/\r?\n$/, '');
  if (password === '') throw new UserError('the new password is empty: give it in --password-file or on stdin');
  if (/[\r\n]/.test(password)) throw new UserError('the new password spans more than one line: give one line only');
  return password;
}

export type User = Config['users'][number];

/** The user called `userName`, or a refusal listing the users there are. */
export function findUser(config: Config, userName: string): User {
  const user = config.users.find((u) => u.name === userName);
  if (user === undefined) throw new UserError(`no user named ${userName} (users: ${config.users.map((u) => u.name).join(', ') || 'none'})`);
  return user;
}

/** Replaces the password hash of `userName` (refuses an unknown user and an empty password). */
export function setUserPassword(draft: Config, userName: string, password: string): void {
  const user = findUser(draft, userName);
  if (password === '') throw new UserError('the new password is empty');
  user.passwordHash = hashPassword(password);
}
