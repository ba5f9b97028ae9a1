/**
 * Listeners & HAT page and /api/listeners: listeners, RAT, sender groups (with
 * members and order) and mail flow policies, through the pure edits of
 * services/edit-listeners.ts, edit-sender-groups.ts, edit-mail-flow-policies.ts.
 */
import { z } from 'zod';
import { INBOUND_TLS_LEVELS } from '../../core/tls-levels.js';
import { addListener, addRatEntry, deleteListener, deleteRatEntry, editListener } from '../../services/edit-listeners.js';
import { addPolicy, deletePolicy, editPolicy, type PolicyChanges } from '../../services/edit-mail-flow-policies.js';
import { addSenderGroup, addSenderGroupMember, deleteSenderGroup, deleteSenderGroupMember, editSenderGroup, moveSenderGroup } from '../../services/edit-sender-groups.js';
import { defineAction, stagedEdit } from '../action.js';
import { bool, int, list, name, optionalInt } from '../input.js';

const listenerPage = (i: Record<string, string>) => `/listeners/${encodeURIComponent(i['listener'] ?? i['name'] ?? '')}`;

const policyFields = {
  behavior: z.enum(['accept', 'relay', 'reject', 'tcprefuse']).optional(),
  tls: z.enum(INBOUND_TLS_LEVELS).optional(),
  verifyClientCertificate: bool().optional(),
  tlsMandatoryAddressList: list().optional(),
  maxMessageSize: optionalInt(),
  maxRecipientsPerMessage: optionalInt(),
  maxMessagesPerConnection: optionalInt(),
  maxConnectionsPerIp: optionalInt(),
  /** 0 or empty: unlimited. */
  maxRecipientsPerHour: z.preprocess((v) => (v === '' || v === null ? 'unlimited' : v), z.union([z.literal('unlimited'), int()])).optional(),
};
type PolicyInput = { [K in keyof typeof policyFields]?: z.infer<(typeof policyFields)[K]> };

function policyChanges(i: PolicyInput): PolicyChanges {
  const { maxRecipientsPerHour, ...rest } = i;
  const changes: PolicyChanges = {};
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) (changes as Record<string, unknown>)[k] = v;
  if (maxRecipientsPerHour !== undefined) changes.maxRecipientsPerHour = maxRecipientsPerHour === 'unlimited' || maxRecipientsPerHour === 0 ? null : maxRecipientsPerHour;
  return changes;
}

export const listenerActions = [
  defineAction({
    id: 'listener-new',
    method: 'POST',
    apiPath: '/listeners',
    input: z.object({ name: name(), type: z.enum(['public', 'private']), address: name('address'), port: int(), hostname: z.string().optional(), certificates: list().optional() }),
    page: () => '/listeners',
    run: (ctx, i) =>
      stagedEdit(ctx, `listenerconfig new ${i.name}`, (d) => {
        const l = addListener(d, { ...i, certificates: i.certificates && i.certificates.length > 0 ? i.certificates : undefined });
        return `Created ${l.type} listener ${l.name} on ${l.address}:${l.port}`;
      }),
  }),
  defineAction({
    id: 'listener-edit',
    method: 'PATCH',
    apiPath: '/listeners/:name',
    input: z.object({ name: name(), address: z.string().optional(), port: optionalInt(), hostname: z.string().optional(), certificates: list().optional() }),
    keepBlank: ['hostname'],
    page: listenerPage,
    run: (ctx, i) =>
      stagedEdit(ctx, `listenerconfig edit ${i.name}`, (d) => {
        const l = editListener(d, i.name, { address: i.address, port: i.port, hostname: i.hostname, certificates: i.certificates });
        return `Changed listener ${l.name}: ${l.address}:${l.port}, certificates ${l.certificates.join(', ')}`;
      }),
  }),
  defineAction({
    id: 'listener-delete',
    method: 'DELETE',
    apiPath: '/listeners/:name',
    input: z.object({ name: name() }),
    page: () => '/listeners',
    run: (ctx, i) => stagedEdit(ctx, `listenerconfig delete ${i.name}`, (d) => `Deleted listener ${deleteListener(d, i.name).name}`),
  }),
  defineAction({
    id: 'rat-add',
    method: 'POST',
    apiPath: '/listeners/:listener/rat',
    input: z.object({ listener: name(), domain: name('domain') }),
    page: listenerPage,
    run: (ctx, i) => stagedEdit(ctx, `listenerconfig rat add ${i.listener} ${i.domain}`, (d) => `Added ${addRatEntry(d, i.listener, i.domain)} to the RAT of ${i.listener}`),
  }),
  defineAction({
    id: 'rat-delete',
    method: 'DELETE',
    apiPath: '/listeners/:listener/rat/:domain',
    input: z.object({ listener: name(), domain: name('domain') }),
    page: listenerPage,
    run: (ctx, i) => stagedEdit(ctx, `listenerconfig rat delete ${i.listener} ${i.domain}`, (d) => `Removed ${deleteRatEntry(d, i.listener, i.domain)} from the RAT of ${i.listener}`),
  }),
  defineAction({
    id: 'sendergroup-new',
    method: 'POST',
    apiPath: '/listeners/:listener/sendergroups',
    input: z.object({ listener: name(), group: name('group'), policy: name('policy'), order: optionalInt(), comment: z.string().optional(), members: list().optional() }),
    page: listenerPage,
    run: (ctx, i) =>
      stagedEdit(ctx, `listenerconfig sendergroup new ${i.listener} ${i.group}`, (d) => {
        const g = addSenderGroup(d, i.listener, i.group, { policy: i.policy, order: i.order, comment: i.comment });
        for (const m of i.members ?? []) addSenderGroupMember(d, i.listener, g.name, m);
        return `Created sender group ${g.name} (policy ${g.policy}) on ${i.listener}`;
      }),
  }),
  defineAction({
    id: 'sendergroup-edit',
    method: 'PATCH',
    apiPath: '/listeners/:listener/sendergroups/:group',
    input: z.object({ listener: name(), group: name('group'), policy: z.string().optional(), order: optionalInt(), comment: z.string().optional() }),
    keepBlank: ['comment'],
    page: listenerPage,
    run: (ctx, i) =>
      stagedEdit(ctx, `listenerconfig sendergroup edit ${i.listener} ${i.group}`, (d) => {
        const g = editSenderGroup(d, i.listener, i.group, { policy: i.policy, order: i.order, comment: i.comment });
        return `Changed sender group ${g.name} on ${i.listener}`;
      }),
  }),
  defineAction({
    id: 'sendergroup-move',
    method: 'POST',
    apiPath: '/listeners/:listener/sendergroups/:group/move',
    input: z.object({ listener: name(), group: name('group'), order: int() }),
    page: listenerPage,
    run: (ctx, i) => stagedEdit(ctx, `listenerconfig sendergroup move ${i.listener} ${i.group} --order ${i.order}`, (d) => `Moved sender group ${moveSenderGroup(d, i.listener, i.group, i.order).name} to position ${i.order}`),
  }),
  defineAction({
    id: 'sendergroup-delete',
    method: 'DELETE',
    apiPath: '/listeners/:listener/sendergroups/:group',
    input: z.object({ listener: name(), group: name('group') }),
    page: listenerPage,
    run: (ctx, i) => stagedEdit(ctx, `listenerconfig sendergroup delete ${i.listener} ${i.group}`, (d) => `Deleted sender group ${deleteSenderGroup(d, i.listener, i.group).name} from ${i.listener}`),
  }),
  defineAction({
    id: 'member-add',
    method: 'POST',
    apiPath: '/listeners/:listener/sendergroups/:group/members',
    input: z.object({ listener: name(), group: name('group'), member: name('member') }),
    page: listenerPage,
    run: (ctx, i) => stagedEdit(ctx, `listenerconfig sendergroup add-member ${i.listener} ${i.group} ${i.member}`, (d) => `Added ${addSenderGroupMember(d, i.listener, i.group, i.member)} to ${i.group}`),
  }),
  defineAction({
    id: 'member-delete',
    method: 'DELETE',
    apiPath: '/listeners/:listener/sendergroups/:group/members/:member',
    input: z.object({ listener: name(), group: name('group'), member: name('member') }),
    page: listenerPage,
    run: (ctx, i) => stagedEdit(ctx, `listenerconfig sendergroup delete-member ${i.listener} ${i.group} ${i.member}`, (d) => `Removed ${deleteSenderGroupMember(d, i.listener, i.group, i.member)} from ${i.group}`),
  }),
  defineAction({
    id: 'policy-new',
    method: 'POST',
    apiPath: '/listeners/:listener/policies',
    input: z.object({ listener: name(), policy: name('policy'), ...policyFields }),
    page: listenerPage,
    run: (ctx, { listener, policy, ...rest }) =>
      stagedEdit(ctx, `listenerconfig policy new ${listener} ${policy}`, (d) => `Created mail flow policy ${addPolicy(d, listener, policy, policyChanges(rest)).name} on ${listener}`),
  }),
  defineAction({
    id: 'policy-edit',
    method: 'PATCH',
    apiPath: '/listeners/:listener/policies/:policy',
    input: z.object({ listener: name(), policy: name('policy'), ...policyFields }),
    keepBlank: ['tlsMandatoryAddressList', 'maxRecipientsPerHour'],
    page: listenerPage,
    run: (ctx, { listener, policy, ...rest }) =>
      stagedEdit(ctx, `listenerconfig policy edit ${listener} ${policy}`, (d) => `Changed mail flow policy ${editPolicy(d, listener, policy, policyChanges(rest)).name} on ${listener}`),
  }),
  defineAction({
    id: 'policy-delete',
    method: 'DELETE',
    apiPath: '/listeners/:listener/policies/:policy',
    input: z.object({ listener: name(), policy: name('policy') }),
    page: listenerPage,
    run: (ctx, i) => stagedEdit(ctx, `listenerconfig policy delete ${i.listener} ${i.policy}`, (d) => `Deleted mail flow policy ${deletePolicy(d, i.listener, i.policy).name} from ${i.listener}`),
  }),
];
