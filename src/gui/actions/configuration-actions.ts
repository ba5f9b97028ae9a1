/**
 * Configuration page and /api/config: commit (applied to the running gateway
 * the same way the CLI's commit is, through the injected applyCommitted),
 * clear, rollback, save and load; GUI settings; syslog forwarding of the mail
 * log; API tokens; the admin's password.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { UserError } from '../../core/errors.js';
import { createApiToken, revokeApiToken } from '../../services/api-tokens.js';
import { clearChanges, commitStaged, loadConfig, rollbackTo, saveConfig } from '../../services/config-lifecycle.js';
import { PASSWORD_MODES } from '../../services/config-export.js';
import { editGui, editTlsService, toTlsVersion } from '../../services/edit-settings.js';
import { describeSyslog, editSyslog } from '../../services/edit-logging.js';
import { setUserPassword } from '../../services/users.js';
import { defineAction, stagedEdit } from '../action.js';
import { content, int, name, optionalInt } from '../input.js';

const PAGE = () => '/configuration';

export const configurationActions = [
  defineAction({
    id: 'config-commit',
    method: 'POST',
    apiPath: '/config/commit',
    input: z.object({ comment: z.string().default('') }),
    page: PAGE,
    run: async ({ deps, user }, i) => {
      const r = commitStaged(deps.home, user, i.comment);
      if (!r.committed) return { message: 'No changes to commit', data: { committed: false } };
      const applied = await deps.applyCommitted();
      const data = { committed: true, version: r.info.version, changes: r.changes, warnings: r.warnings, applied: applied.ok, ...(applied.ok ? {} : { error: applied.error }) };
      if (!applied.ok) throw new UserError(`Committed configuration version ${r.info.version}, but the running gateway did not apply it: ${applied.error}`);
      return { message: `Committed configuration version ${r.info.version} and applied it to the running gateway; new sessions use it.`, warnings: r.warnings, data };
    },
  }),
  defineAction({
    id: 'config-clear',
    method: 'POST',
    apiPath: '/config/clear',
    input: z.object({}),
    page: PAGE,
    run: ({ deps, user }) => {
      const cleared = clearChanges(deps.home, user);
      return { message: cleared ? 'Staged changes cleared.' : 'No changes to clear.', data: { cleared } };
    },
  }),
  defineAction({
    id: 'config-rollback',
    method: 'POST',
    apiPath: '/config/rollback',
    input: z.object({ version: int().min(1, 'must be a version number') }),
    page: PAGE,
    run: ({ deps, user }, i) => {
      const r = rollbackTo(deps.home, i.version, user);
      return {
        message: r.staged ? `Staged configuration version ${i.version}: ${r.changes.length} change${r.changes.length === 1 ? '' : 's'}; review and commit.` : `Version ${i.version} is the committed configuration; nothing staged.`,
        data: { staged: r.staged, version: r.version, changes: r.changes },
      };
    },
  }),
  defineAction({
    id: 'config-save',
    method: 'POST',
    apiPath: '/config/save',
    input: z
      .object({ passwords: z.enum(PASSWORD_MODES).default('encrypt'), passphrase: z.string().optional() })
      .refine((i) => i.passwords !== 'encrypt' || (i.passphrase ?? '') !== '', { path: ['passphrase'], message: 'is required to encrypt the private keys' }),
    secretFields: ['passphrase'],
    page: PAGE,
    run: async ({ deps, user }, i) => {
      const r = await saveConfig(deps.home, { mode: i.passwords, passphrase: i.passphrase, user });
      const text = fs.readFileSync(r.file, 'utf8');
      return {
        message: `Saved configuration version ${r.version} to ${r.file}`,
        data: { file: r.file, version: r.version, passwords: r.mode, missingSecrets: r.missingSecrets, content: text },
        download: { filename: path.basename(r.file), contentType: 'application/yaml', body: text },
      };
    },
  }),
  defineAction({
    id: 'config-load',
    method: 'POST',
    apiPath: '/config/load',
    input: z.object({ file: content(), passphrase: z.string().optional() }),
    secretFields: ['file', 'passphrase'],
    page: PAGE,
    run: async ({ deps, user }, i) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-load-'));
      const file = path.join(dir, 'uploaded.yaml');
      try {
        fs.writeFileSync(file, i.file, { mode: 0o600 });
        const r = await loadConfig(deps.home, file, {
          user,
          passphrase: async () => {
            if (i.passphrase === undefined || i.passphrase === '') throw new UserError('the file holds encrypted private keys: give the passphrase');
            return i.passphrase;
          },
        });
        return {
          message: r.changes.length === 0 ? 'Loaded the file: identical to the committed configuration; nothing staged.' : `Loaded the file: ${r.changes.length} change${r.changes.length === 1 ? '' : 's'} staged.`,
          warnings: r.warnings,
          data: { staged: r.changes.length > 0, changes: r.changes, warnings: r.warnings },
        };
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  }),
  defineAction({
    id: 'gui-edit',
    method: 'PATCH',
    apiPath: '/config/gui',
    input: z.object({ address: z.string().optional(), port: optionalInt(), certificate: z.string().optional(), idleTimeoutMinutes: optionalInt(), minVersion: z.string().optional() }),
    page: PAGE,
    run: (ctx, i) =>
      stagedEdit(ctx, 'gui edit', (d) => {
        const g = editGui(d, i);
        if (i.minVersion !== undefined) editTlsService(d, 'gui', { minVersion: toTlsVersion(i.minVersion) });
        return `GUI set to https://${g.address.includes(':') ? `[${g.address}]` : g.address}:${g.port}/ with certificate ${g.certificate}, idle timeout ${g.idleTimeoutMinutes} minutes, TLS from ${d.ssl.gui.minVersion}`;
      }),
  }),
  defineAction({
    id: 'logging-edit',
    method: 'PATCH',
    apiPath: '/config/logging',
    // syslogTarget: udp:HOST:PORT, tcp:HOST:PORT, or off / empty.
    input: z.object({ syslogTarget: z.string().optional(), syslogFacility: z.string().optional(), syslogTag: z.string().optional(), syslogQueueLines: optionalInt() }),
    page: PAGE,
    run: (ctx, i) =>
      stagedEdit(ctx, 'logconfig edit', (d) => describeSyslog(editSyslog(d, { target: i.syslogTarget, facility: i.syslogFacility, tag: i.syslogTag, queueLines: i.syslogQueueLines }))),
  }),
  defineAction({
    id: 'password-change',
    method: 'POST',
    apiPath: '/config/password',
    input: z.object({ password: z.string().min(12, 'must be at least 12 characters'), confirm: z.string() }).refine((i) => i.password === i.confirm, { path: ['confirm'], message: 'does not match the new password' }),
    secretFields: ['password', 'confirm'],
    page: PAGE,
    run: (ctx, i) => stagedEdit(ctx, `passwd --user ${ctx.user}`, (d) => (setUserPassword(d, ctx.user, i.password), `Password of ${ctx.user} changed; it takes effect at commit`)),
  }),
  defineAction({
    id: 'token-new',
    method: 'POST',
    apiPath: '/tokens',
    input: z.object({ name: name('token name') }),
    page: PAGE,
    run: ({ deps, user }, i) => {
      const { token, summary } = createApiToken(deps.home.layout, user, i.name);
      return { message: `Created API token ${i.name}; copy it now, it is not shown again.`, data: { token, ...summary }, secret: { label: `API token ${i.name}`, value: token } };
    },
  }),
  defineAction({
    id: 'token-revoke',
    method: 'DELETE',
    apiPath: '/tokens/:name',
    input: z.object({ name: name('token name') }),
    page: PAGE,
    run: ({ deps, user }, i) => {
      revokeApiToken(deps.home.layout, user, i.name);
      return { message: `Revoked API token ${i.name}.`, data: { revoked: i.name } };
    },
  }),
];
