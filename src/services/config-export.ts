/**
 * The saved-configuration file (`saveconfig` / `loadconfig`, SPEC §3): a YAML
 * document that carries the whole configuration plus, depending on
 * `passwords`, the secrets the configuration itself only references.
 *
 *   # comment header (what the file is, what was left out)
 *   gatehouseExport: 1            format of this wrapper
 *   schemaVersion: 1              configuration schema version
 *   exportedAt: <ISO time>
 *   exportedVersion: 7            committed version it was made from
 *   passwords: encrypt            mask | encrypt | plain
 *   config: { ...the Config... }  users' password hashes left out with `mask`
 *   secrets:
 *     privateKeys:                one entry per certificate profile
 *       Demo: { pkcs12: <base64> }     encrypt: PKCS#12 under the passphrase
 *       Demo: { privateKey: <PEM> }    plain
 *   missingSecrets: [...]         mask: what must be re-entered
 *
 * Password hashes (scrypt) travel as they are with `encrypt` and `plain`; they
 * are already one-way. `mask` leaves out every private key and hash.
 *
 * Reading checks everything before anything is written: YAML syntax, the
 * wrapper, the configuration (schema and cross references, every error with
 * its path), and that every secret is present — in the file, or for a `mask`
 * file already in this home (key store, users' password hashes).
 */
import crypto from 'node:crypto';
import YAML from 'yaml';
import { z } from 'zod';
import { formatConfigPath } from '../config/config-path.js';
import { CONFIG_SCHEMA_VERSION, schemaVersionProblem, type Config } from '../config/schema.js';
import { KeyStore, keyRefOf } from '../tls/key-store.js';
import { exportPkcs12, importPkcs12 } from '../tls/pkcs12.js';
import { validateConfig } from './validate-config.js';

export const PASSWORD_MODES = ['mask', 'encrypt', 'plain'] as const;
export type PasswordMode = (typeof PASSWORD_MODES)[number];
export const EXPORT_FORMAT = 1;

const privateKeyEntrySchema = z.union([z.object({ pkcs12: z.string().min(1, 'must not be empty') }).strict(), z.object({ privateKey: z.string().includes('PRIVATE KEY', { message: 'must be a PEM private key' }) }).strict()]);

/** Every refusal of `schemaVersion` names the version found and the one this release reads. */
const versionError = { error: (issue: { input?: unknown }) => schemaVersionProblem(issue.input) };

const exportSchema = z
  .object({
    gatehouseExport: z.literal(EXPORT_FORMAT, { error: `must be ${EXPORT_FORMAT} (this Gatehouse reads export format ${EXPORT_FORMAT})` }),
    schemaVersion: z.number(versionError).int(versionError).min(1, versionError).max(CONFIG_SCHEMA_VERSION, versionError),
    exportedAt: z.string().optional(),
    exportedVersion: z.number().int().optional(),
    passwords: z.enum(PASSWORD_MODES),
    config: z.record(z.string(), z.unknown(), { error: 'must be a mapping (the configuration)' }),
    secrets: z.object({ privateKeys: z.record(z.string(), privateKeyEntrySchema).default({}) }).strict().prefault({}),
    missingSecrets: z.array(z.string()).optional(),
  })
  .strict();

type ExportDocument = z.infer<typeof exportSchema>;
type PrivateKeyEntry = z.infer<typeof privateKeyEntrySchema>;

export interface BuiltExport {
  text: string;
  /** What a `mask` file leaves out, for the user to re-enter. */
  missingSecrets: string[];
}

/** Renders the export of `config` (committed version `version`). `passphrase` is required for `encrypt`. */
export async function buildExport(config: Config, options: { version: number; mode: PasswordMode; passphrase?: string; keyStore: KeyStore; now?: Date }): Promise<BuiltExport> {
  const { mode } = options;
  if (mode === 'encrypt' && (options.passphrase === undefined || options.passphrase === '')) throw new Error('a passphrase is required to encrypt the private keys');
  const exported: Record<string, unknown> = structuredClone(config);
  const privateKeys: Record<string, PrivateKeyEntry> = {};
  const missingSecrets: string[] = [];
  for (const profile of config.certificates) {
    if (mode === 'mask') {
      missingSecrets.push(`private key of certificate profile ${profile.name} (certificates[${profile.name}].key ${profile.key})`);
      continue;
    }
    const privateKeyPem = await options.keyStore.get(profile.key);
    if (mode === 'plain') privateKeys[profile.name] = { privateKey: privateKeyPem };
    else {
      const der = await exportPkcs12({ privateKeyPem, certificatePem: profile.certificate, chainPem: profile.intermediates, passphrase: options.passphrase!, friendlyName: profile.name });
      privateKeys[profile.name] = { pkcs12: der.toString('base64') };
    }
  }
  if (mode === 'mask') {
    exported['users'] = config.users.map(({ passwordHash: _hash, ...user }) => user);
    for (const user of config.users) missingSecrets.push(`password of user ${user.name} (users[${user.name}].passwordHash)`);
  }
  const body: Record<string, unknown> = {
    gatehouseExport: EXPORT_FORMAT,
    schemaVersion: config.schemaVersion,
    exportedAt: (options.now ?? new Date()).toISOString(),
    exportedVersion: options.version,
    passwords: mode,
    config: exported,
    secrets: { privateKeys },
  };
  if (mode === 'mask') body['missingSecrets'] = missingSecrets;
  const doc = new YAML.Document(body);
  doc.commentBefore = headerComment(mode, options.version, missingSecrets);
  return { text: doc.toString({ lineWidth: 0 }), missingSecrets };
}

function headerComment(mode: PasswordMode, version: number, missing: string[]): string {
  const lines = [
    ` Gatehouse configuration export (gatehouse saveconfig), from committed version ${version}.`,
    ' Load it with: gatehouse loadconfig FILE [--passphrase-file F]   (stages it; then commit)',
  ];
  if (mode === 'encrypt') lines.push(' Private keys are PKCS#12 (base64) protected by the passphrase given to saveconfig.');
  if (mode === 'plain') lines.push(' WARNING: this file holds private keys in clear text. Keep it secret (mode 0600).');
  if (mode === 'mask') {
    lines.push(' Secrets are left out. This file loads only where they can be found again', ' (the same home, or one whose key store and users already hold them):');
    for (const m of missing) lines.push(`   - ${m}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------- reading

export interface LoadedExport {
  config: Config;
  warnings: string[];
  /** Private keys to put into the key store before staging. */
  privateKeys: string[];
  /** What kind of file it was. */
  kind: 'export' | 'configuration';
  passwords: PasswordMode | null;
}

export type ReadResult = { ok: true; loaded: LoadedExport } | { ok: false; errors: string[]; missingSecrets: string[] };

export interface ReadContext {
  /** The working configuration of the home the file is loaded into (for users' hashes, certificates of a bare file). */
  working: Config;
  keyStore: KeyStore;
  /** Asked only when the file holds PKCS#12 keys. */
  passphrase: () => Promise<string>;
}

type RawObject = Record<string, unknown>;

function isRawObject(v: unknown): v is RawObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** YAML text → a document, or the syntax errors with line and column. */
export function parseYaml(text: string, fileLabel: string): { ok: true; value: unknown } | { ok: false; errors: string[] } {
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) return { ok: false, errors: doc.errors.map((e) => `${fileLabel}: not valid YAML: ${(e.message.split('\n')[0] ?? e.code).replace(/:$/, '')}`) };
  return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) as unknown };
}

/**
 * Checks a saved file (an export, or a bare configuration document as `start
 * --config` takes) against the home it is loaded into. Writes nothing.
 */
export async function readExport(text: string, fileLabel: string, ctx: ReadContext): Promise<ReadResult> {
  const parsed = parseYaml(text, fileLabel);
  if (!parsed.ok) return { ok: false, errors: parsed.errors, missingSecrets: [] };
  const doc = parsed.value;
  if (!isRawObject(doc)) return { ok: false, errors: [`${fileLabel}: must be a YAML mapping (a saved configuration)`], missingSecrets: [] };

  if (!('gatehouseExport' in doc)) return checkConfiguration(bareConfiguration(doc, ctx.working), {}, 'configuration', null, ctx);

  const wrapper = exportSchema.safeParse(doc);
  if (!wrapper.success) {
    const errors = wrapper.error.issues.flatMap((i) =>
      i.code === 'unrecognized_keys' ? i.keys.map((k) => `${formatConfigPath([...i.path, k])}: unknown setting`) : [`${formatConfigPath(i.path)}: ${i.message}`],
    );
    // Report the configuration's own errors too, so one run lists everything.
    if (isRawObject(doc['config'])) {
      const raw = structuredClone(doc['config']);
      fillPasswordHashes(raw, ctx.working);
      errors.push(...configErrors(raw));
    }
    return { ok: false, errors, missingSecrets: [] };
  }
  const w: ExportDocument = wrapper.data;
  return checkConfiguration(structuredClone(w.config), w.secrets.privateKeys, 'export', w.passwords, ctx);
}

/** A configuration file without wrapper: sections it leaves out (certificates, users, hostname) keep this home's values. */
function bareConfiguration(doc: RawObject, working: Config): RawObject {
  const merged: RawObject = { ...doc };
  for (const key of ['certificates', 'users', 'hostname'] as const) if (!(key in merged)) merged[key] = structuredClone(working[key]);
  return merged;
}

async function checkConfiguration(raw: RawObject, privateKeys: Record<string, PrivateKeyEntry>, kind: 'export' | 'configuration', passwords: PasswordMode | null, ctx: ReadContext): Promise<ReadResult> {
  const errors: string[] = [];
  const missingSecrets: string[] = [];
  const keysToStore: string[] = [];

  missingSecrets.push(...fillPasswordHashes(raw, ctx.working));

  // Private keys: from the file (PEM or PKCS#12), else already in this home's key store.
  const profiles = Array.isArray(raw['certificates']) ? raw['certificates'] : [];
  const profileNames = new Set<string>();
  let passphrase: string | undefined;
  for (const [i, p] of profiles.entries()) {
    if (!isRawObject(p) || typeof p['name'] !== 'string') continue;
    const name = p['name'];
    profileNames.add(name);
    const entry = privateKeys[name];
    const at = `secrets.privateKeys.${name}`;
    if (entry === undefined) {
      const ref = p['key'];
      if (typeof ref !== 'string' || !ctx.keyStore.has(ref)) {
        missingSecrets.push(`certificates[${name}].key: the private key of certificate profile ${name} is not in the file and not in this home's key store`);
      }
      continue;
    }
    let privateKeyPem: string;
    if ('privateKey' in entry) privateKeyPem = entry.privateKey;
    else {
      // No passphrase to be had (no file, no terminal) is a plain error: nothing is written.
      passphrase ??= await ctx.passphrase();
      try {
        privateKeyPem = (await importPkcs12(Buffer.from(entry.pkcs12, 'base64'), passphrase)).privateKeyPem;
      } catch {
        errors.push(`${at}: the PKCS#12 could not be decrypted (wrong passphrase, or the file is damaged)`);
        continue;
      }
    }
    let keyRef: string;
    try {
      keyRef = keyRefOf(crypto.createPrivateKey(privateKeyPem));
    } catch {
      errors.push(`${at}: the private key could not be read`);
      continue;
    }
    if (typeof p['certificate'] === 'string') {
      let certRef: string | null = null;
      try {
        certRef = keyRefOf(p['certificate']);
      } catch {
        // The configuration check below reports the unreadable certificate.
      }
      if (certRef !== null && certRef !== keyRef) {
        errors.push(`${at}: the private key does not match the certificate of profile ${name} (certificates[${i}].certificate)`);
        continue;
      }
    }
    p['key'] = keyRef;
    keysToStore.push(privateKeyPem);
  }
  for (const name of Object.keys(privateKeys)) {
    if (!profileNames.has(name)) errors.push(`secrets.privateKeys.${name}: no certificate profile named ${name} in config.certificates`);
  }

  const v = validateConfig(raw);
  if (!v.ok) errors.push(...v.errors, ...looseReferenceErrors(raw, v.errors));
  if (errors.length > 0 || missingSecrets.length > 0 || !v.ok) return { ok: false, errors, missingSecrets };
  return { ok: true, loaded: { config: v.config, warnings: v.warnings, privateKeys: keysToStore, kind, passwords } };
}

/** Users without a password hash (a `mask` file) get this home's hash for the same user name; returns the users that have none. */
function fillPasswordHashes(raw: RawObject, working: Config): string[] {
  const missing: string[] = [];
  if (!Array.isArray(raw['users'])) return missing;
  raw['users'].forEach((u: unknown, i) => {
    if (!isRawObject(u) || 'passwordHash' in u) return;
    const name = typeof u['name'] === 'string' ? u['name'] : `#${i}`;
    const local = working.users.find((x) => x.name === name);
    if (local) u['passwordHash'] = local.passwordHash;
    else missing.push(`users[${name}].passwordHash: the password of user ${name} is not in the file and this home has no such user`);
  });
  return missing;
}

function configErrors(raw: RawObject): string[] {
  const v = validateConfig(raw);
  return v.ok ? [] : [...v.errors, ...looseReferenceErrors(raw, v.errors)];
}

/**
 * Cross-reference errors found on a document that failed the schema (the full
 * check runs only on a valid one), so a single run names every problem:
 * listeners and services naming a missing certificate profile, sender groups
 * naming a missing mail flow policy. Paths already reported are skipped.
 */
export function looseReferenceErrors(raw: RawObject, already: readonly string[]): string[] {
  const reported = new Set(already.map((e) => e.split(': ')[0]));
  const out: string[] = [];
  const add = (path: string, message: string): void => {
    if (!reported.has(path)) out.push(`${path}: ${message}`);
  };
  const names = (list: unknown): Set<string> => new Set((Array.isArray(list) ? list : []).flatMap((x) => (isRawObject(x) && typeof x['name'] === 'string' ? [x['name']] : [])));
  const profiles = names(raw['certificates']);
  const listeners = Array.isArray(raw['listeners']) ? raw['listeners'] : [];
  listeners.forEach((l: unknown, li) => {
    if (!isRawObject(l)) return;
    const at = `listeners[${li}]`;
    if (Array.isArray(l['certificates'])) {
      l['certificates'].forEach((c: unknown, ci) => {
        if (typeof c === 'string' && !profiles.has(c)) add(`${at}.certificates[${ci}]`, `no certificate profile named ${c}`);
      });
    } else if (!('certificates' in l) && !profiles.has('Demo')) add(`${at}.certificates`, 'no certificate profile named Demo (the default)');
    const policies = names(l['policies']);
    const groups = Array.isArray(l['senderGroups']) ? l['senderGroups'] : [];
    groups.forEach((g: unknown, gi) => {
      if (isRawObject(g) && typeof g['policy'] === 'string' && !policies.has(g['policy'])) {
        add(`${at}.senderGroups[${gi}].policy`, `no mail flow policy named ${g['policy']} on listener ${typeof l['name'] === 'string' ? l['name'] : li}`);
      }
    });
  });
  const gui = raw['gui'];
  if (isRawObject(gui) && typeof gui['certificate'] === 'string' && !profiles.has(gui['certificate'])) add('gui.certificate', `no certificate profile named ${gui['certificate']}`);
  const dest = raw['destinationControls'];
  if (isRawObject(dest) && typeof dest['certificate'] === 'string' && !profiles.has(dest['certificate'])) add('destinationControls.certificate', `no certificate profile named ${dest['certificate']}`);
  return out;
}
