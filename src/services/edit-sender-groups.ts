/**
 * Editing a listener's host access table (SPEC §4.2): ordered sender groups,
 * each naming a mail flow policy of the same listener. Pure functions over a
 * configuration draft. Positions (`order`) are 1-based, as the HAT is shown.
 */
import { UserError } from '../core/errors.js';
import type { Config, Listener, SenderGroup } from '../config/schema.js';
import { validateMember } from '../policy/host-access-table.js';
import { findListener } from './edit-listeners.js';
import { toTableName } from './table-name.js';

export function findSenderGroup(listener: Listener, name: string): SenderGroup {
  const groupName = toTableName(name, 'sender group');
  const group = listener.senderGroups.find((g) => g.name === groupName);
  if (group === undefined) {
    throw new UserError(`listener ${listener.name} has no sender group ${groupName} (groups: ${listener.senderGroups.map((g) => g.name).join(', ') || 'none'})`);
  }
  return group;
}

function existingPolicy(listener: Listener, name: string): string {
  const policy = toTableName(name, 'mail flow policy');
  if (!listener.policies.some((p) => p.name === policy)) {
    throw new UserError(
      `listener ${listener.name} has no mail flow policy ${policy} (policies: ${listener.policies.map((p) => p.name).join(', ') || 'none'}; create it with listenerconfig policy new)`,
    );
  }
  return policy;
}

/** Index for a 1-based position among `count` slots, or a refusal naming the range. */
function positionIndex(order: number, count: number): number {
  if (!Number.isInteger(order) || order < 1 || order > count) throw new UserError(`order ${order} is out of range: must be 1-${count}`);
  return order - 1;
}

/** Where a group goes when no order is given: before a catch-all (`ALL`) group at the end, else last. */
function defaultIndex(listener: Listener): number {
  const last = listener.senderGroups[listener.senderGroups.length - 1];
  return last?.members.includes('ALL') ? listener.senderGroups.length - 1 : listener.senderGroups.length;
}

export interface NewSenderGroup {
  policy: string;
  /** 1-based position; absent: just before a trailing catch-all group, else last. */
  order?: number | undefined;
  comment?: string | undefined;
}

/** Adds an empty sender group (members come with `addSenderGroupMember`). */
export function addSenderGroup(draft: Config, listenerName: string, groupName: string, spec: NewSenderGroup): SenderGroup {
  const listener = findListener(draft, listenerName);
  const name = toTableName(groupName, 'sender group');
  if (listener.senderGroups.some((g) => g.name === name)) throw new UserError(`listener ${listener.name} already has a sender group ${name} (use sendergroup edit)`);
  const group: SenderGroup = { name, policy: existingPolicy(listener, spec.policy), members: [], comment: spec.comment ?? '' };
  const index = spec.order === undefined ? defaultIndex(listener) : positionIndex(spec.order, listener.senderGroups.length + 1);
  listener.senderGroups.splice(index, 0, group);
  return group;
}

export interface SenderGroupChanges {
  policy?: string | undefined;
  order?: number | undefined;
  comment?: string | undefined;
}

export function editSenderGroup(draft: Config, listenerName: string, groupName: string, changes: SenderGroupChanges): SenderGroup {
  const listener = findListener(draft, listenerName);
  const group = findSenderGroup(listener, groupName);
  if (changes.policy !== undefined) group.policy = existingPolicy(listener, changes.policy);
  if (changes.comment !== undefined) group.comment = changes.comment;
  if (changes.order !== undefined) moveSenderGroup(draft, listener.name, group.name, changes.order);
  return group;
}

export function deleteSenderGroup(draft: Config, listenerName: string, groupName: string): SenderGroup {
  const listener = findListener(draft, listenerName);
  const group = findSenderGroup(listener, groupName);
  listener.senderGroups = listener.senderGroups.filter((g) => g !== group);
  return group;
}

/** Moves a group to a 1-based position; the others keep their relative order. */
export function moveSenderGroup(draft: Config, listenerName: string, groupName: string, order: number): SenderGroup {
  const listener = findListener(draft, listenerName);
  const group = findSenderGroup(listener, groupName);
  const index = positionIndex(order, listener.senderGroups.length);
  listener.senderGroups = listener.senderGroups.filter((g) => g !== group);
  listener.senderGroups.splice(index, 0, group);
  return group;
}

/** Adds a member (IP, CIDR, range, host name, .domain, sbrs[a:b], ALL), refusing a malformed one with the reason. */
export function addSenderGroupMember(draft: Config, listenerName: string, groupName: string, member: string): string {
  const listener = findListener(draft, listenerName);
  const group = findSenderGroup(listener, groupName);
  const text = member.trim();
  const problem = validateMember(text);
  if (problem !== null) throw new UserError(`bad sender group member ${problem}`);
  if (group.members.includes(text)) throw new UserError(`${text} is already a member of ${group.name} on listener ${listener.name}`);
  group.members.push(text);
  return text;
}

export function deleteSenderGroupMember(draft: Config, listenerName: string, groupName: string, member: string): string {
  const listener = findListener(draft, listenerName);
  const group = findSenderGroup(listener, groupName);
  const text = member.trim();
  if (!group.members.includes(text)) {
    throw new UserError(`${text} is not a member of ${group.name} on listener ${listener.name} (members: ${group.members.join(', ') || 'none'})`);
  }
  group.members = group.members.filter((m) => m !== text);
  return text;
}
