/**
 * The configuration lifecycle of SPEC §3, shared by the CLI and (later) the
 * GUI: show the staged changes, commit them as a numbered version, clear them,
 * roll back to a version, save the committed configuration to a file and load
 * one back (staged). Telling a running gateway about a commit is the caller's
 * job (the CLI uses the control socket; the GUI runs inside the gateway).
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../core/atomic-file.js';
import { ConfigError, UserError, errorMessage } from '../core/errors.js';
import type { VersionInfo } from '../config/config-store.js';
import type { Config } from '../config/schema.js';
import { localAddressProblem } from '../smtp/outbound/source-address.js';
import { KeyStore } from '../tls/key-store.js';
import { appendAudit } from './audit-log.js';
import { diffConfigs } from './config-diff.js';
import type { PasswordMode } from './config-export.js';
import type { Home } from './staging.js';
import { validateConfig } from './validate-config.js';

/** The change lines of staged vs committed; empty when nothing is staged. */
export function showChanges(home: Home): string[] {
  if (!home.store.hasStagedChanges()) return [];
  return diffConfigs(home.store.committed().config, home.store.working());
}

/** Errors for certificate profiles whose private key is not in the key store. */
function missingKeyErrors(config: Config, keyStore: KeyStore): string[] {
  return config.certificates.flatMap((p) => (keyStore.has(p.key) ? [] : [`certificates[${p.name}].key: the private key ${p.key} is not in the key store of this home`]));
}

/**
 * Errors for outbound source addresses this machine does not have. Only a
 * value the commit changes is checked: a committed address that disappeared
 * later must not block unrelated changes (delivery then logs a Connection
 * Error and defers).
 */
function sourceAddressErrors(staged: Config, committed: Config): string[] {
  const keys = ['sourceAddressV4', 'sourceAddressV6'] as const;
  return keys.flatMap((key) => {
    const address = staged.destinationControls[key];
    if (address === null || address === committed.destinationControls[key]) return [];
    const problem = localAddressProblem(address);
    return problem === null ? [] : [`destinationControls.${key}: ${problem}`];
  });
}

export type CommitResult = { committed: false } | { committed: true; info: VersionInfo; warnings: string[]; changes: string[] };

/**
 * Validates the staged document and stores it as the next version. With
 * nothing staged, nothing happens. Serialised with other processes through the
 * configuration lock, so two racing commits leave a consistent history (the
 * second finds nothing left to commit).
 */
export function commitStaged(home: Home, user: string, comment: string): CommitResult {
  return home.store.locked(() => {
    const { store } = home;
    if (!store.hasStagedChanges()) {
      store.clearStaged();
      return { committed: false };
    }
    const committed = store.committed();
    const staged = store.working();
    const v = validateConfig(staged);
    if (!v.ok) throw new ConfigError(v.errors);
    const keyErrors = missingKeyErrors(v.config, new KeyStore(home.layout.keysDir));
    if (keyErrors.length > 0) throw new ConfigError(keyErrors);
    const addressErrors = sourceAddressErrors(v.config, committed.config);
    if (addressErrors.length > 0) throw new UserError(`cannot commit: ${addressErrors.join('; ')}`);
    const warnings = [...v.warnings];
    const basedOn = store.stagedInfo()?.basedOn;
    if (basedOn !== undefined && basedOn !== committed.version) {
      warnings.push(`the staged changes were made on version ${basedOn}; version ${committed.version} was committed since, and this commit replaces it`);
    }
    const changes = diffConfigs(committed.config, v.config);
    const info = store.commit(v.config, user, comment);
    appendAudit(home.layout, { user, action: `commit version ${info.version}`, detail: comment });
    return { committed: true, info, warnings, changes };
  });
}

/** Drops the staged document. Returns whether there was anything to drop. */
export function clearChanges(home: Home, user: string): boolean {
  return home.store.locked(() => {
    const had = home.store.hasStagedChanges();
    home.store.clearStaged();
    if (had) appendAudit(home.layout, { user, action: 'clearchanges' });
    return had;
  });
}

export function listVersions(home: Home): { versions: VersionInfo[]; current: number } {
  return { versions: home.store.versions(), current: home.store.committed().version };
}

export interface RollbackResult {
  version: VersionInfo;
  /** False when version N is what is committed already (any staged changes are dropped). */
  staged: boolean;
  changes: string[];
}

/** Stages version `n` — the whole document, certificate contents included. */
export function rollbackTo(home: Home, n: number, user: string): RollbackResult {
  return home.store.locked(() => {
    const { store } = home;
    const target = store.version(n);
    const v = validateConfig(target.config);
    if (!v.ok) throw new ConfigError(v.errors.map((e) => `version ${n}: ${e}`));
    const keyErrors = missingKeyErrors(v.config, new KeyStore(home.layout.keysDir));
    if (keyErrors.length > 0) throw new ConfigError(keyErrors.map((e) => `version ${n}: ${e}`));
    const { config: _c, ...info } = target;
    const changes = diffConfigs(store.committed().config, v.config);
    if (changes.length === 0) {
      store.clearStaged();
      return { version: info, staged: false, changes };
    }
    store.stage(v.config, user);
    appendAudit(home.layout, { user, action: `rollbackconfig ${n}` });
    return { version: info, staged: true, changes };
  });
}

export interface SaveResult {
  file: string;
  mode: PasswordMode;
  version: number;
  missingSecrets: string[];
}

function exportFileName(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `config-${stamp}.yaml`;
}

/**
 * Writes the committed configuration to `output` (or a new file in
 * `<home>/configuration/`), mode 0600. `encrypt` needs `passphrase`.
 */
export async function saveConfig(home: Home, options: { mode: PasswordMode; passphrase?: string; output?: string; user: string; now?: Date }): Promise<SaveResult> {
  const committed = home.store.committed();
  const now = options.now ?? new Date();
  // Loaded on demand: PKCS#12 and YAML are needed only here and in loadConfig.
  const { buildExport } = await import('./config-export.js');
  let built;
  try {
    built = await buildExport(committed.config, { version: committed.version, mode: options.mode, passphrase: options.passphrase, keyStore: new KeyStore(home.layout.keysDir), now });
  } catch (err) {
    throw new UserError(`cannot export configuration version ${committed.version}: ${errorMessage(err)}`);
  }
  let file: string;
  if (options.output !== undefined) {
    file = path.resolve(options.output);
    try {
      writeFileAtomicSync(file, built.text, 0o600);
      fs.chmodSync(file, 0o600);
    } catch (err) {
      throw new UserError(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
    }
  } else {
    fs.mkdirSync(home.layout.exportsDir, { recursive: true, mode: 0o700 });
    const base = exportFileName(now).replace(/\.yaml$/, '');
    for (let i = 1; ; i++) {
      file = path.join(home.layout.exportsDir, i === 1 ? `${base}.yaml` : `${base}-${i}.yaml`);
      try {
        fs.writeFileSync(file, built.text, { mode: 0o600, flag: 'wx' });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }
  appendAudit(home.layout, { user: options.user, action: `saveconfig version ${committed.version} (passwords ${options.mode})`, detail: file });
  return { file, mode: options.mode, version: committed.version, missingSecrets: built.missingSecrets };
}

export interface LoadResult {
  file: string;
  /** Differences from the committed configuration now staged (empty: nothing staged). */
  changes: string[];
  warnings: string[];
}

/**
 * Stages a saved file. Everything is checked first (syntax, schema, cross
 * references, secrets); an invalid file changes nothing and every problem is
 * reported with its path.
 */
export async function loadConfig(home: Home, file: string, options: { user: string; passphrase: () => Promise<string> }): Promise<LoadResult> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
  }
  const keyStore = new KeyStore(home.layout.keysDir);
  const { readExport } = await import('./config-export.js');
  const result = await readExport(text, file, { working: home.store.working(), keyStore, passphrase: options.passphrase });
  if (!result.ok) {
    const lines: string[] = [];
    if (result.errors.length > 0) lines.push(`${file} is not a valid configuration; nothing changed:`, ...result.errors.map((e) => `  ${e}`));
    if (result.missingSecrets.length > 0) {
      lines.push(
        `${file} leaves out secrets this home does not have; nothing changed (load an export made with --passwords encrypt or plain, or install the keys and users first):`,
        ...result.missingSecrets.map((e) => `  ${e}`),
      );
    }
    throw new UserError(lines.join('\n'));
  }
  const { loaded } = result;
  for (const pem of loaded.privateKeys) await keyStore.put(pem);
  return home.store.locked(() => {
    const changes = diffConfigs(home.store.committed().config, loaded.config);
    if (changes.length === 0) home.store.clearStaged();
    else home.store.stage(loaded.config, options.user);
    appendAudit(home.layout, { user: options.user, action: 'loadconfig', detail: file });
    return { file, changes, warnings: loaded.warnings };
  });
}
