/**
 * Editing a listener's mail flow policies (SPEC §4.2) as pure functions over a
 * configuration draft. A new policy starts from the schema defaults; numbers
 * are range-checked by full validation, which names the field.
 */
import { UserError } from '../core/errors.js';
import { mailFlowPolicySchema, type Config, type Listener, type MailFlowPolicy } from '../config/schema.js';
import { validateAddressListEntry } from '../policy/address-list.js';
import { findListener } from './edit-listeners.js';
import { toTableName } from './table-name.js';

/** What `policy new|edit` may set (SMTP AUTH stays off until its issue). */
export type PolicyChanges = Partial<
  Pick<
    MailFlowPolicy,
    | 'behavior'
    | 'tls'
    | 'verifyClientCertificate'
    | 'tlsMandatoryAddressList'
    | 'maxMessageSize'
    | 'maxRecipientsPerMessage'
    | 'maxMessagesPerConnection'
    | 'maxConnectionsPerIp'
    | 'maxRecipientsPerHour'
  >
>;

export function findPolicy(listener: Listener, name: string): MailFlowPolicy {
  const policyName = toTableName(name, 'mail flow policy');
  const policy = listener.policies.find((p) => p.name === policyName);
  if (policy === undefined) {
    throw new UserError(`listener ${listener.name} has no mail flow policy ${policyName} (policies: ${listener.policies.map((p) => p.name).join(', ') || 'none'})`);
  }
  return policy;
}

function apply(policy: MailFlowPolicy, changes: PolicyChanges): void {
  if (changes.tlsMandatoryAddressList !== undefined) {
    const entries = changes.tlsMandatoryAddressList.map((e) => e.trim());
    for (const e of entries) {
      const problem = validateAddressListEntry(e);
      if (problem !== null) throw new UserError(`bad TLS-mandatory address list entry ${problem} (forms: a@b, @example.com, .example.com, user@)`);
    }
    policy.tlsMandatoryAddressList = entries;
  }
  for (const [key, value] of Object.entries(changes) as [keyof PolicyChanges, unknown][]) {
    if (key !== 'tlsMandatoryAddressList' && value !== undefined) (policy as Record<string, unknown>)[key] = value;
  }
}

export function addPolicy(draft: Config, listenerName: string, policyName: string, changes: PolicyChanges): MailFlowPolicy {
  const listener = findListener(draft, listenerName);
  const name = toTableName(policyName, 'mail flow policy');
  if (listener.policies.some((p) => p.name === name)) throw new UserError(`listener ${listener.name} already has a mail flow policy ${name} (use policy edit)`);
  const policy = mailFlowPolicySchema.parse({ name });
  apply(policy, changes);
  listener.policies.push(policy);
  return policy;
}

export function editPolicy(draft: Config, listenerName: string, policyName: string, changes: PolicyChanges): MailFlowPolicy {
  const policy = findPolicy(findListener(draft, listenerName), policyName);
  apply(policy, changes);
  return policy;
}

/** Removes a policy no sender group uses; otherwise refuses, naming the groups. */
export function deletePolicy(draft: Config, listenerName: string, policyName: string): MailFlowPolicy {
  const listener = findListener(draft, listenerName);
  const policy = findPolicy(listener, policyName);
  const users = listener.senderGroups.filter((g) => g.policy === policy.name).map((g) => g.name);
  if (users.length > 0) {
    throw new UserError(
      `mail flow policy ${policy.name} is used by sender group${users.length > 1 ? 's' : ''} ${users.join(', ')} on listener ${listener.name}: give them another policy (sendergroup edit --policy) or delete them first`,
    );
  }
  listener.policies = listener.policies.filter((p) => p !== policy);
  return policy;
}
