/**
 * Destination Controls page and /api/destinations: entries, the default entry
 * and the global settings, through services/edit-destinations.ts.
 */
import { z } from 'zod';
import { OUTBOUND_TLS_LEVELS } from '../../core/tls-levels.js';
import {
  addDestination,
  deleteDestination,
  editDefaultDestination,
  editDestination,
  importDestinations,
  describeSetup,
  parseSourceAddressText,
  setupDestinations,
  type DestinationChanges,
} from '../../services/edit-destinations.js';
import { defineAction, stagedEdit } from '../action.js';
import { bool, content, int, name, optionalInt } from '../input.js';

const PAGE = () => '/destinations';

const settingFields = {
  tls: z.enum(OUTBOUND_TLS_LEVELS).optional(),
  maxConcurrency: optionalInt(),
  maxMessagesPerConnection: optionalInt(),
  /** Blank or 0: no limit. */
  maxRecipientsPerPeriod: z.preprocess((v) => (v === '' || v === null ? 0 : v), int()).optional(),
  periodMinutes: optionalInt(),
  ipPreference: z.enum(['prefer-v4', 'prefer-v6', 'require-v4', 'require-v6']).optional(),
};
type SettingInput = { [K in keyof typeof settingFields]?: z.infer<(typeof settingFields)[K]> };

function changesOf(i: SettingInput): DestinationChanges {
  const { maxRecipientsPerPeriod, ...rest } = i;
  const changes: DestinationChanges = {};
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) (changes as Record<string, unknown>)[k] = v;
  if (maxRecipientsPerPeriod !== undefined) changes.maxRecipientsPerPeriod = maxRecipientsPerPeriod === 0 ? null : maxRecipientsPerPeriod;
  return changes;
}

export const destinationActions = [
  defineAction({
    id: 'destination-new',
    method: 'POST',
    apiPath: '/destinations',
    input: z.object({ domain: name('domain'), ...settingFields }),
    page: PAGE,
    run: (ctx, { domain, ...rest }) =>
      stagedEdit(ctx, `destconfig new ${domain}`, (d) => {
        const e = addDestination(d, domain, changesOf(rest));
        return `Destination control ${e.domain} added (tls ${e.tls})`;
      }),
  }),
  defineAction({
    id: 'destination-edit',
    method: 'PATCH',
    apiPath: '/destinations/:domain',
    input: z.object({ domain: name('domain'), ...settingFields }),
    keepBlank: ['maxRecipientsPerPeriod'],
    page: PAGE,
    run: (ctx, { domain, ...rest }) => stagedEdit(ctx, `destconfig edit ${domain}`, (d) => `Destination control ${editDestination(d, domain, changesOf(rest)).domain} changed`),
  }),
  defineAction({
    id: 'destination-delete',
    method: 'DELETE',
    apiPath: '/destinations/:domain',
    input: z.object({ domain: name('domain') }),
    page: PAGE,
    run: (ctx, i) => stagedEdit(ctx, `destconfig delete ${i.domain}`, (d) => `Destination control ${deleteDestination(d, i.domain).domain} deleted`),
  }),
  defineAction({
    id: 'destination-default',
    method: 'PATCH',
    apiPath: '/destination-settings/default',
    input: z.object(settingFields),
    keepBlank: ['maxRecipientsPerPeriod'],
    page: PAGE,
    run: (ctx, i) => stagedEdit(ctx, 'destconfig default', (d) => `Default destination control changed (tls ${editDefaultDestination(d, changesOf(i)).tls})`),
  }),
  defineAction({
    id: 'destination-setup',
    method: 'PATCH',
    apiPath: '/destination-settings',
    input: z.object({
      certificate: z.string().optional(),
      alertOnRequiredTlsFailure: bool().optional(),
      /** Blank or `none`: the OS chooses (JSON may also send null). */
      sourceAddressV4: z.string().nullable().optional(),
      sourceAddressV6: z.string().nullable().optional(),
    }),
    keepBlank: ['sourceAddressV4', 'sourceAddressV6'],
    page: PAGE,
    run: (ctx, i) =>
      stagedEdit(ctx, 'destconfig setup', (d) => {
        const certificate = i.certificate === undefined ? undefined : i.certificate === '' || i.certificate === 'none' ? null : i.certificate;
        const source = (v: string | null | undefined): string | null | undefined => (v === undefined || v === null ? v : parseSourceAddressText(v));
        setupDestinations(d, { certificate, alertOnRequiredTlsFailure: i.alertOnRequiredTlsFailure, sourceAddressV4: source(i.sourceAddressV4), sourceAddressV6: source(i.sourceAddressV6) });
        return `Destination settings changed (${describeSetup(d.destinationControls)})`;
      }),
  }),
  defineAction({
    id: 'destination-import',
    method: 'POST',
    apiPath: '/destinations/import',
    input: z.object({ file: content() }),
    secretFields: ['file'],
    page: PAGE,
    run: (ctx, i) =>
      stagedEdit(ctx, 'destconfig import', (d) => {
        const { domains } = importDestinations(d, i.file.toString(), 'uploaded file');
        return `Destination controls replaced (default entry and ${domains} domain entr${domains === 1 ? 'y' : 'ies'})`;
      }),
  }),
];
