/**
 * Sender group and mail flow policy names (SPEC §4.2): upper case, no `$`.
 * What people type is forgiving: a leading `$` is stripped and lower case is
 * upper-cased, so `$relaylist` names RELAYLIST.
 */
import { UserError } from '../core/errors.js';

const TABLE_NAME = /^[A-Z0-9][A-Z0-9_-]{0,63}$/;

export type TableNameKind = 'sender group' | 'mail flow policy';

export function toTableName(input: string, kind: TableNameKind): string {
  const name = input.trim().replace(/^\$/, '').toUpperCase();
  if (!TABLE_NAME.test(name)) {
    throw new UserError(`"${input}" is not a valid ${kind} name: use letters, digits, _ or - (at most 64, upper case; a leading $ is optional)`);
  }
  return name;
}
