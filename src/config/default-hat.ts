/**
 * The default host access table of each listener type (SPEC §4.2), with
 * bias-free names. A new listener starts from these.
 */
import { mailFlowPolicySchema, senderGroupSchema, type MailFlowPolicy, type SenderGroup } from './schema.js';

export interface HostAccessTable {
  senderGroups: SenderGroup[];
  policies: MailFlowPolicy[];
}

const group = (name: string, policy: string, members: string[], comment: string): SenderGroup =>
  senderGroupSchema.parse({ name, policy, members, comment });
const policy = (fields: Partial<MailFlowPolicy> & { name: string }): MailFlowPolicy => mailFlowPolicySchema.parse(fields);

export function defaultHat(type: 'public' | 'private'): HostAccessTable {
  if (type === 'public') {
    return {
      senderGroups: [
        group('ALLOWLIST', 'TRUSTED', ['sbrs[8.0:10.0]'], 'Trusted senders: add their hosts or networks here'),
        group('BLOCKLIST', 'BLOCKED', ['sbrs[-10.0:-3.0]'], 'Senders to refuse'),
        group('SUSPECTLIST', 'THROTTLED', ['sbrs[-3.0:-1.0]'], 'Suspicious senders: throttled'),
        group('UNKNOWNLIST', 'ACCEPTED', ['sbrs[-1.0:8.0]'], 'Senders of unknown reputation'),
        group('ALL', 'ACCEPTED', ['ALL'], 'Everyone else'),
      ],
      policies: [
        policy({ name: 'TRUSTED', behavior: 'accept', maxMessageSize: 100 * 1024 * 1024, maxConnectionsPerIp: 600, comment: 'No rate limits for trusted senders' }),
        policy({ name: 'BLOCKED', behavior: 'reject', comment: 'Refuse mail' }),
        policy({
          name: 'THROTTLED',
          behavior: 'accept',
          maxRecipientsPerMessage: 10,
          maxConnectionsPerIp: 5,
          maxMessagesPerConnection: 10,
          maxRecipientsPerHour: 20,
          comment: 'Strong rate limits',
        }),
        policy({ name: 'ACCEPTED', behavior: 'accept', comment: 'Accept mail for the recipient access table' }),
      ],
    };
  }
  return {
    senderGroups: [
      group('RELAYLIST', 'RELAYED', ['127.0.0.0/8', '::1'], 'Hosts allowed to relay through this listener'),
      group('ALL', 'BLOCKED', ['ALL'], 'Everyone else'),
    ],
    policies: [
      policy({ name: 'RELAYED', behavior: 'relay', comment: 'Relay mail to any destination' }),
      policy({ name: 'BLOCKED', behavior: 'reject', comment: 'Refuse mail' }),
    ],
  };
}
