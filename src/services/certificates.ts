/**
 * Certificate profiles and the trust store as use cases (SPEC §6), shared by
 * the CLI (`certconfig`) and, later, the web GUI. Inputs are contents (PEM
 * text, PKCS#12 bytes, passphrases), never file names: reading files is the
 * caller's job.
 *
 * Lifecycle: a profile is part of the configuration document, so every change
 * is staged through `editStaged` and reaches the running gateway at commit. A
 * new private key is written to the key store (0600) when it is created, before
 * the profile that references it is staged; a key is never deleted here,
 * because committed versions (rollback) may still reference it.
 *
 * Chain lint runs on upload, paste and import: errors refuse the change
 * (`LintRefusedError`), warnings are returned and the change is kept.
 * Nothing returned or thrown here contains private key material.
 */
import crypto from 'node:crypto';
import { UserError } from '../core/errors.js';
import { certificateProfileSchema, type CertificateProfile, type Config } from '../config/schema.js';
import { certificateLabel, describeCertificate, isIssuedBy, readCertificates, readPrivateKey } from '../tls/certificate-info.js';
import { formatFinding, hasErrors, lintChain, lintTrustAnchors, systemRootCertificates, type LintFinding } from '../tls/chain-lint.js';
import { createCsr } from '../tls/csr.js';
import { daysRemaining, EXPIRY_STATUS_LABEL, expiryStatus, timeRemainingText, type ExpiryStatus } from '../tls/expiry.js';
import { KeyStore, keyRefOf } from '../tls/key-store.js';
import { exportPkcs12, importPkcs12 } from '../tls/pkcs12.js';
import { createSelfSigned, keyAlgorithmOf, type KeyAlgorithm, type SubjectInput } from '../tls/self-signed.js';
import { appendAudit } from './audit-log.js';
import { demoCertificateUsers } from './home-service.js';
import { editStaged, type Home } from './staging.js';

/** The exact refusal of a certificate that does not belong to the key (appliance wording, SPEC §6.1). */
export const KEY_MISMATCH_MESSAGE = 'key does not sign certificate';

/** A change refused by chain lint: the findings (errors and warnings) travel with it. */
export class LintRefusedError extends UserError {
  constructor(readonly findings: readonly LintFinding[]) {
    const errors = findings.filter((f) => f.severity === 'error');
    super(`certificate refused: ${errors.map(formatFinding).join('; ')}`);
    this.name = 'LintRefusedError';
  }
}

export interface ProfileSummary {
  name: string;
  source: CertificateProfile['source'];
  commonName: string;
  issuedBy: string;
  /** SAN DNS names and IPs, else the CN. */
  domains: string[];
  /** `unreadable`: the stored certificate does not parse (list only). */
  status: ExpiryStatus | 'unreadable';
  /** `Valid`, `Expires soon`, `Expired`, `Not yet valid`. */
  statusLabel: string;
  daysRemaining: number;
  timeRemaining: string;
  /** As OpenSSL prints it: `Jan  2 03:04:05 2027 GMT`. */
  expirationDate: string;
  notAfter: string;
  usedBy: string[];
  demo: boolean;
  /** True when the profile differs from the committed configuration (staged change). */
  staged: boolean;
}

export interface ChainEntry {
  subject: string;
  issuer: string;
  expirationDate: string;
  status: ExpiryStatus;
  fingerprint256: string;
}

export interface ProfileDetail extends ProfileSummary {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: string;
  validFrom: string;
  subjectAltNames: string[];
  key: string;
  keyRef: string;
  signatureAlgorithm: string;
  chain: ChainEntry[];
  fingerprint256: string;
  /** Leaf then intermediates, PEM (public material only). */
  pem: string;
}

export interface CertificateChangeResult {
  /** One sentence: what was staged. */
  message: string;
  /** Lint warnings (kept) and configuration warnings. */
  warnings: string[];
  findings: LintFinding[];
}

// ---------------------------------------------------------------------------
// Helpers

const profileName = certificateProfileSchema.shape.name;

function validateProfileName(name: string): void {
  const r = profileName.safeParse(name);
  if (!r.success) throw new UserError(`certificate profile name "${name}": must be letters, digits, _ . or - (at most 64), starting with a letter or digit`, 2);
}

function keyStoreOf(home: Home): KeyStore {
  return new KeyStore(home.layout.keysDir);
}

function findProfile(config: Config, name: string): CertificateProfile {
  const p = config.certificates.find((c) => c.name === name);
  if (!p) throw new UserError(`no certificate profile named ${name} (see certconfig list)`);
  return p;
}

/** Who uses a profile: `listener IncomingMail`, `GUI`, `outbound client certificate`. */
export function profileUsers(config: Config, name: string): string[] {
  const users: string[] = [];
  for (const l of config.listeners) if (l.certificates.includes(name)) users.push(`listener ${l.name}`);
  if (config.gui.certificate === name) users.push('GUI');
  if (config.destinationControls.certificate === name) users.push('outbound client certificate');
  return users;
}

/** Warnings while services use the demo certificate (same wording as the start banner). */
export function demoWarnings(config: Config): string[] {
  return demoCertificateUsers(config).map((u) => `${u} uses the demo certificate; install your own with certconfig.`);
}

function splitFindings(findings: LintFinding[]): string[] {
  return findings.filter((f) => f.severity === 'warning').map(formatFinding);
}

function stage(home: Home, user: string, action: string, edit: (draft: Config) => void): string[] {
  return editStaged(home, user, action, edit).warnings;
}

function putProfile(draft: Config, profile: CertificateProfile): boolean {
  const i = draft.certificates.findIndex((c) => c.name === profile.name);
  if (i === -1) {
    draft.certificates.push(profile);
    return false;
  }
  draft.certificates[i] = profile;
  return true;
}

/** Lint for a certificate about to be stored; refuses on errors. */
function lintOrRefuse(config: Config, leafPem: string, chainPem: string[], keyRef: string, now: Date): LintFinding[] {
  const findings = lintChain({ certificatePem: leafPem, intermediatesPem: chainPem, keyRef, trustAnchors: lintTrustAnchors(config.trustStore), now });
  if (hasErrors(findings)) throw new LintRefusedError(findings);
  return findings;
}

function summarize(config: Config, committed: Config | undefined, profile: CertificateProfile, now: Date): ProfileSummary {
  const info = describeCertificate(profile.certificate);
  const status = expiryStatus(info.notBefore, info.notAfter, now);
  const before = committed?.certificates.find((c) => c.name === profile.name);
  return {
    name: profile.name,
    source: profile.source,
    commonName: info.commonName,
    issuedBy: info.selfSigned ? `${info.issuerCommonName || info.issuer} (self-signed)` : info.issuerCommonName || info.issuer,
    domains: info.sanDns.length + info.sanIp.length > 0 ? [...info.sanDns, ...info.sanIp] : info.commonName ? [info.commonName] : [],
    status,
    statusLabel: EXPIRY_STATUS_LABEL[status],
    daysRemaining: daysRemaining(info.notAfter, now),
    timeRemaining: timeRemainingText(info.notAfter, now),
    expirationDate: info.validTo,
    notAfter: info.notAfter.toISOString(),
    usedBy: profileUsers(config, profile.name),
    demo: profile.source === 'demo',
    staged: committed !== undefined && JSON.stringify(before) !== JSON.stringify(profile),
  };
}

function committedConfig(home: Home): Config | undefined {
  try {
    return home.store.committed().config;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// Profiles

export interface NewProfileInput {
  name: string;
  subject: SubjectInput;
  days?: number;
  key?: KeyAlgorithm;
}

/** `certconfig new`: a self-signed certificate with a new key (written to the key store now), staged. */
export async function createProfile(home: Home, user: string, input: NewProfileInput, now = new Date()): Promise<CertificateChangeResult> {
  validateProfileName(input.name);
  if (home.store.working().certificates.some((c) => c.name === input.name)) throw new UserError(`Certificate profile ${input.name} already exists.`);
  const created = await createSelfSigned(input.subject, { key: input.key ?? 'rsa2048', days: input.days ?? 365, now });
  const keyRef = await keyStoreOf(home).put(created.privateKeyPem);
  const warnings = stage(home, user, `certconfig new ${input.name}`, (draft) => {
    if (draft.certificates.some((c) => c.name === input.name)) throw new UserError(`Certificate profile ${input.name} already exists.`);
    draft.certificates.push({ name: input.name, source: 'self-signed', certificate: created.certificatePem, intermediates: [], key: keyRef });
  });
  return { message: `Created self-signed certificate profile ${input.name}`, warnings, findings: [] };
}

/** `certconfig csr`: a PEM CSR from the profile's key and its certificate's subject and SAN (works on staged profiles). */
export async function profileCsr(home: Home, name: string): Promise<string> {
  const profile = findProfile(home.store.working(), name);
  const privateKeyPem = await keyStoreOf(home).get(profile.key);
  return createCsr({ privateKeyPem, certificatePem: profile.certificate });
}

export interface UploadInput {
  /** The certificate file's content: the leaf first; further certificates in it count as intermediates. */
  certificate: string | Buffer;
  /** Intermediate files' contents, in order (each may hold several certificates). */
  intermediates?: (string | Buffer)[];
}

function readChainInput(input: UploadInput): { leafPem: string; chainPem: string[] } {
  const certs = readCertificates(input.certificate, '--cert');
  const chainPem = [...certs.slice(1), ...(input.intermediates ?? []).flatMap((i, n) => readCertificates(i, `--intermediate #${n + 1}`))];
  return { leafPem: certs[0]!, chainPem };
}

/**
 * `certconfig upload`: installs a CA-signed certificate (and chain) into an
 * existing profile whose key it must match; staged, so the old certificate
 * serves until commit.
 */
export async function uploadCertificate(home: Home, user: string, name: string, input: UploadInput, now = new Date()): Promise<CertificateChangeResult> {
  const config = home.store.working();
  const profile = findProfile(config, name);
  const { leafPem, chainPem } = readChainInput(input);
  if (keyRefOf(leafPem) !== profile.key) throw new UserError(KEY_MISMATCH_MESSAGE);
  const findings = lintOrRefuse(config, leafPem, chainPem, profile.key, now);
  const warnings = stage(home, user, `certconfig upload ${name}`, (draft) => {
    const current = findProfile(draft, name);
    if (current.key !== profile.key) throw new UserError(`certificate profile ${name} changed meanwhile; try again`);
    putProfile(draft, { ...current, source: 'imported', certificate: leafPem, intermediates: chainPem });
  });
  return { message: `Uploaded the certificate for profile ${name}`, warnings: [...splitFindings(findings), ...warnings], findings };
}

async function storeKeyAndCertificate(
  home: Home,
  user: string,
  action: string,
  name: string,
  key: crypto.KeyObject,
  leafPem: string,
  chainPem: string[],
  now: Date,
): Promise<CertificateChangeResult> {
  validateProfileName(name);
  const keyRef = keyRefOf(key);
  if (keyRefOf(leafPem) !== keyRef) throw new UserError(KEY_MISMATCH_MESSAGE);
  const findings = lintOrRefuse(home.store.working(), leafPem, chainPem, keyRef, now);
  await keyStoreOf(home).put(key.export({ type: 'pkcs8', format: 'pem' }) as string);
  let replaced = false;
  const warnings = stage(home, user, action, (draft) => {
    replaced = putProfile(draft, { name, source: 'imported', certificate: leafPem, intermediates: chainPem, key: keyRef });
  });
  return {
    message: `${replaced ? 'Replaced' : 'Created'} certificate profile ${name}`,
    warnings: [...splitFindings(findings), ...warnings],
    findings,
  };
}

export interface PasteInput extends UploadInput {
  name: string;
  /** The private key file's content (PEM, unencrypted). */
  privateKey: string | Buffer;
}

/** `certconfig paste`: a certificate, its key and chain as a new profile (or replacing one of that name). */
export async function pasteProfile(home: Home, user: string, input: PasteInput, now = new Date()): Promise<CertificateChangeResult> {
  validateProfileName(input.name);
  const key = readPrivateKey(input.privateKey, '--key');
  const { leafPem, chainPem } = readChainInput(input);
  return storeKeyAndCertificate(home, user, `certconfig paste ${input.name}`, input.name, key, leafPem, chainPem, now);
}

/** `certconfig import`: a PKCS#12 file as a new profile (or replacing one of that name). */
export async function importProfile(home: Home, user: string, input: { name: string; pkcs12: Buffer; passphrase: string }, now = new Date()): Promise<CertificateChangeResult> {
  validateProfileName(input.name);
  const content = await importPkcs12(input.pkcs12, input.passphrase);
  const key = readPrivateKey(content.privateKeyPem, 'PKCS#12 file');
  return storeKeyAndCertificate(home, user, `certconfig import ${input.name}`, input.name, key, content.certificatePem, content.chainPem, now);
}

/**
 * `certconfig export`: the profile's key, certificate and chain as PKCS#12
 * under `passphrase` (not empty). A private key leaves the gateway, so the
 * export is written to the audit log (without the passphrase).
 */
export async function exportProfile(home: Home, user: string, name: string, passphrase: string): Promise<Buffer> {
  const profile = findProfile(home.store.working(), name);
  const privateKeyPem = await keyStoreOf(home).get(profile.key);
  const der = await exportPkcs12({ privateKeyPem, certificatePem: profile.certificate, chainPem: profile.intermediates, passphrase, friendlyName: profile.name });
  appendAudit(home.layout, { user, action: `certconfig export ${name}`, detail: 'PKCS#12 with the private key' });
  return der;
}

/** `certconfig list`: every profile of the working configuration, and the demo-certificate warnings. */
export function listProfiles(home: Home, now = new Date()): { profiles: ProfileSummary[]; warnings: string[] } {
  const config = home.store.working();
  const committed = committedConfig(home);
  const profiles = config.certificates.map((p) => {
    try {
      return summarize(config, committed, p, now);
    } catch {
      // A certificate that does not parse (a hand-edited configuration file) is still listed, so it can be fixed or deleted.
      return {
        name: p.name,
        source: p.source,
        commonName: '',
        issuedBy: '-',
        domains: [],
        status: 'unreadable' as const,
        statusLabel: 'Unreadable certificate',
        daysRemaining: 0,
        timeRemaining: '-',
        expirationDate: '-',
        notAfter: '',
        usedBy: profileUsers(config, p.name),
        demo: p.source === 'demo',
        staged: false,
      };
    }
  });
  return { profiles, warnings: demoWarnings(config) };
}

/** `certconfig print`: everything about one profile (public material only). */
export function describeProfile(home: Home, name: string, now = new Date()): ProfileDetail {
  const config = home.store.working();
  const profile = findProfile(config, name);
  const info = describeCertificate(profile.certificate);
  return {
    ...summarize(config, committedConfig(home), profile, now),
    subject: info.subject,
    issuer: info.issuer,
    serial: info.serial,
    notBefore: info.notBefore.toISOString(),
    validFrom: info.validFrom,
    subjectAltNames: info.sanText,
    key: info.keyDescription,
    keyRef: profile.key,
    signatureAlgorithm: info.signatureAlgorithm,
    chain: profile.intermediates.map((pem) => {
      const c = describeCertificate(pem);
      return { subject: c.subject, issuer: c.issuer, expirationDate: c.validTo, status: expiryStatus(c.notBefore, c.notAfter, now), fingerprint256: c.fingerprint256 };
    }),
    fingerprint256: info.fingerprint256,
    pem: [profile.certificate, ...profile.intermediates].map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join(''),
  };
}

/** `certconfig lint`: the findings for a stored profile (its key, certificate and chain). */
export function lintProfile(home: Home, name: string, now = new Date()): LintFinding[] {
  const config = home.store.working();
  const profile = findProfile(config, name);
  return lintChain({
    certificatePem: profile.certificate,
    intermediatesPem: profile.intermediates,
    keyRef: profile.key,
    trustAnchors: lintTrustAnchors(config.trustStore),
    now,
  });
}

/** `certconfig delete`: refused while a listener, the GUI or outbound delivery uses the profile. */
export function deleteProfile(home: Home, user: string, name: string): CertificateChangeResult {
  const config = home.store.working();
  findProfile(config, name);
  const refuseIfUsed = (c: Config): void => {
    const users = profileUsers(c, name);
    if (users.length > 0) throw new UserError(`certificate profile ${name} is in use by ${users.join(', ')}; choose another certificate there first`);
  };
  refuseIfUsed(config);
  const warnings = stage(home, user, `certconfig delete ${name}`, (draft) => {
    refuseIfUsed(draft);
    draft.certificates = draft.certificates.filter((c) => c.name !== name);
  });
  return { message: `Deleted certificate profile ${name}`, warnings, findings: [] };
}

/** The subject of a certificate as `SubjectInput` (C, ST, L, O, OU, CN and SAN), for re-keying. */
function subjectOf(certificatePem: string): SubjectInput {
  const info = describeCertificate(certificatePem);
  const field = (key: string): string | undefined => {
    const line = info.cert.subject.split('\n').find((l) => l.startsWith(`${key}=`));
    return line === undefined ? undefined : line.slice(key.length + 1);
  };
  const san = [...info.sanDns, ...info.sanIp];
  return {
    cn: info.commonName || info.sanDns[0] || 'localhost',
    org: field('O'),
    ou: field('OU'),
    city: field('L'),
    state: field('ST'),
    country: field('C'),
    san: san.length > 0 ? san : undefined,
  };
}

/**
 * `certconfig rekey`: a new key (written to the key store now) and a
 * self-signed certificate with the same subject and names, staged; the old key
 * and certificate serve until commit. Then `csr` and `upload` as for a new profile.
 */
export async function rekeyProfile(home: Home, user: string, name: string, options: { key?: KeyAlgorithm; days?: number } = {}, now = new Date()): Promise<CertificateChangeResult> {
  const profile = findProfile(home.store.working(), name);
  let alg = options.key;
  if (alg === undefined) {
    try {
      alg = keyAlgorithmOf(describeCertificate(profile.certificate).cert.publicKey) ?? 'rsa2048';
    } catch {
      alg = 'rsa2048';
    }
  }
  const created = await createSelfSigned(subjectOf(profile.certificate), { key: alg, days: options.days ?? 365, now });
  const keyRef = await keyStoreOf(home).put(created.privateKeyPem);
  const warnings = stage(home, user, `certconfig rekey ${name}`, (draft) => {
    const current = findProfile(draft, name);
    putProfile(draft, { ...current, source: current.source === 'demo' ? 'demo' : 'self-signed', certificate: created.certificatePem, intermediates: [], key: keyRef });
  });
  return { message: `Re-keyed certificate profile ${name} with a new ${alg} key and a self-signed certificate`, warnings, findings: [] };
}

// ---------------------------------------------------------------------------
// Trust store

export interface CustomCaSummary {
  name: string;
  subject: string;
  issuer: string;
  expirationDate: string;
  status: ExpiryStatus;
  statusLabel: string;
  timeRemaining: string;
  daysRemaining: number;
  fingerprint256: string;
}

export interface TrustStoreSummary {
  systemEnabled: boolean;
  systemCount: number;
  customEnabled: boolean;
  custom: CustomCaSummary[];
}

/** `certconfig ca list`. */
export function listTrustStore(home: Home, now = new Date()): TrustStoreSummary {
  const trust = home.store.working().trustStore;
  return {
    systemEnabled: trust.systemEnabled,
    systemCount: systemRootCertificates().length,
    customEnabled: trust.customEnabled,
    custom: trust.custom.map((c) => {
      const info = describeCertificate(c.certificate);
      const status = expiryStatus(info.notBefore, info.notAfter, now);
      return {
        name: c.name,
        subject: info.subject,
        issuer: info.issuer,
        expirationDate: info.validTo,
        status,
        statusLabel: EXPIRY_STATUS_LABEL[status],
        timeRemaining: timeRemainingText(info.notAfter, now),
        daysRemaining: daysRemaining(info.notAfter, now),
        fingerprint256: info.fingerprint256,
      };
    }),
  };
}

/**
 * `certconfig ca import`: adds every certificate of a PEM bundle to the custom
 * list, or none: each must be a CA (basicConstraints CA:TRUE), valid now, not
 * already present, and its issuer must be in the bundle, the custom list or
 * the system list. Names come from the CN (made unique with a number).
 */
export function importCustomCas(home: Home, user: string, bundle: string | Buffer, now = new Date()): CertificateChangeResult & { added: string[] } {
  const pems = readCertificates(bundle, 'CA bundle', 1000);
  const trust = home.store.working().trustStore;
  const existing = trust.custom.map((c) => new crypto.X509Certificate(c.certificate));
  const incoming = pems.map((pem) => describeCertificate(pem));
  const problems: string[] = [];
  incoming.forEach((c, i) => {
    const label = `"${certificateLabel(c)}"`;
    if (!c.isCa) problems.push(`${label} is not a CA certificate (basicConstraints CA:TRUE is missing)`);
    if (now.getTime() > c.notAfter.getTime()) problems.push(`${label} expired on ${c.validTo}`);
    else if (now.getTime() < c.notBefore.getTime()) problems.push(`${label} is not valid before ${c.validFrom}`);
    if (existing.some((e) => e.raw.equals(c.cert.raw))) problems.push(`${label} is already in the custom CA list`);
    else if (incoming.findIndex((o) => o.cert.raw.equals(c.cert.raw)) !== i) problems.push(`${label} is in the bundle twice`);
    if (!c.selfSigned) {
      const issuers = [...incoming.filter((o) => o !== c).map((o) => o.cert), ...existing, ...systemRootCertificates()];
      if (!issuers.some((p) => isIssuedBy(c.cert, p))) problems.push(`the issuer "${c.issuerCommonName || c.issuer}" of ${label} is missing: include its root CA in the bundle`);
    }
  });
  if (problems.length > 0) throw new UserError(`CA bundle refused: ${problems.join('; ')}`);
  const taken = new Set(trust.custom.map((c) => c.name));
  const entries = incoming.map((c) => {
    const base = certificateLabel(c);
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base} ${n}`;
    taken.add(name);
    return { name, certificate: c.pem };
  });
  const warnings = stage(home, user, `certconfig ca import (${entries.length} certificates)`, (draft) => {
    draft.trustStore.custom.push(...entries);
  });
  const added = entries.map((e) => e.name);
  return { message: `Added ${added.length} CA certificate${added.length === 1 ? '' : 's'} to the custom list: ${added.join(', ')}`, warnings, findings: [], added };
}

/** `certconfig ca export`: the custom list as one PEM bundle. */
export function exportCustomCas(home: Home): string {
  return home.store
    .working()
    .trustStore.custom.map((c) => (c.certificate.endsWith('\n') ? c.certificate : `${c.certificate}\n`))
    .join('');
}

/** `certconfig ca delete`. */
export function deleteCustomCa(home: Home, user: string, name: string): CertificateChangeResult {
  if (!home.store.working().trustStore.custom.some((c) => c.name === name)) throw new UserError(`no custom CA named "${name}" (see certconfig ca list)`);
  const warnings = stage(home, user, `certconfig ca delete ${name}`, (draft) => {
    draft.trustStore.custom = draft.trustStore.custom.filter((c) => c.name !== name);
  });
  return { message: `Deleted custom CA "${name}"`, warnings, findings: [] };
}

/** `certconfig ca enable|disable system|custom`. */
export function setTrustList(home: Home, user: string, list: 'system' | 'custom', enabled: boolean): CertificateChangeResult {
  const warnings = stage(home, user, `certconfig ca ${enabled ? 'enable' : 'disable'} ${list}`, (draft) => {
    if (list === 'system') draft.trustStore.systemEnabled = enabled;
    else draft.trustStore.customEnabled = enabled;
  });
  const extra: string[] = [];
  const after = home.store.working().trustStore;
  if (!after.systemEnabled && !after.customEnabled) extra.push('both CA lists are disabled: outbound verification and client-certificate checks will trust no certificate');
  return { message: `${enabled ? 'Enabled' : 'Disabled'} the ${list} CA list`, warnings: [...extra, ...warnings], findings: [] };
}
