/** Alerts page and /api/alerts: recipients and settings through services/edit-alerts.ts. */
import { z } from 'zod';
import { addAlertRecipient, deleteAlertRecipient, setupAlerts } from '../../services/edit-alerts.js';
import { defineAction, stagedEdit } from '../action.js';
import { list, name, optionalInt } from '../input.js';

const PAGE = () => '/alerts';

export const alertActions = [
  defineAction({
    id: 'alert-recipient-new',
    method: 'POST',
    apiPath: '/alerts/recipients',
    input: z.object({ address: name('address'), classes: list().optional(), severities: list().optional() }),
    page: PAGE,
    run: (ctx, i) =>
      stagedEdit(ctx, `alertconfig new ${i.address}`, (d) => {
        const r = addAlertRecipient(d, i.address, {
          classes: i.classes && i.classes.length > 0 ? i.classes : undefined,
          severities: i.severities && i.severities.length > 0 ? i.severities : undefined,
        });
        return `Alert recipient ${r.address} added (classes ${r.classes.join(', ')}; severities ${r.severities.join(', ')})`;
      }),
  }),
  defineAction({
    id: 'alert-recipient-delete',
    method: 'DELETE',
    apiPath: '/alerts/recipients/:address',
    input: z.object({ address: name('address') }),
    page: PAGE,
    run: (ctx, i) => stagedEdit(ctx, `alertconfig delete ${i.address}`, (d) => `Alert recipient ${deleteAlertRecipient(d, i.address).address} deleted`),
  }),
  defineAction({
    id: 'alert-setup',
    method: 'PATCH',
    apiPath: '/alerts/settings',
    input: z.object({
      from: z.string().optional(),
      debounceMinutes: optionalInt(),
      checkIntervalSeconds: optionalInt(),
      tlsFailureThreshold: optionalInt(),
      tlsFailureWindowMinutes: optionalInt(),
      queueThreshold: optionalInt(),
    }),
    keepBlank: ['from'],
    page: PAGE,
    run: (ctx, i) =>
      stagedEdit(ctx, 'alertconfig setup', (d) => {
        const a = setupAlerts(d, i);
        return `Alert settings changed (from ${a.from ?? 'the default address'}, debounce ${a.debounceMinutes} minutes, TLS failures > ${a.tlsFailureThreshold} in ${a.tlsFailureWindowMinutes} minutes, queue > ${a.queueThreshold})`;
      }),
  }),
];
