/**
 * Key generation and self-signed certificates (SPEC §2 demo certificate, §6.1
 * `certconfig new`). Keys are generated natively by Node's OpenSSL; the
 * certificate is assembled and signed with @peculiar/x509 over WebCrypto.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import crypto, { type webcrypto } from 'node:crypto';
import net from 'node:net';
import { promisify } from 'node:util';
import { UserError } from '../core/errors.js';

x509.cryptoProvider.set(globalThis.crypto);

export type KeyAlgorithm = 'rsa2048' | 'rsa3072' | 'rsa4096' | 'ec-p256' | 'ec-p384';
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['rsa2048', 'rsa3072', 'rsa4096', 'ec-p256', 'ec-p384'];

/** Hash used for a certificate signature. SHA-1 exists only for test fixtures (chain lint). */
export type SignatureHash = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

const generateKeyPairAsync = promisify(crypto.generateKeyPair);

/** A new key pair, generated natively. The private key is PKCS#8 PEM. */
export async function generateKeyPair(alg: KeyAlgorithm): Promise<{ privateKeyPem: string; publicKey: crypto.KeyObject }> {
  let pair: { publicKey: crypto.KeyObject; privateKey: crypto.KeyObject };
  switch (alg) {
    case 'rsa2048':
    case 'rsa3072':
    case 'rsa4096':
      pair = await generateKeyPairAsync('rsa', { modulusLength: Number(alg.slice(3)), publicExponent: 0x10001 });
      break;
    case 'ec-p256':
    case 'ec-p384':
      pair = await generateKeyPairAsync('ec', { namedCurve: alg === 'ec-p256' ? 'P-256' : 'P-384' });
      break;
    default:
      throw new UserError(`unknown key algorithm "${String(alg)}" (use ${KEY_ALGORITHMS.join(', ')})`, 2);
  }
  const privateKeyPem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  return { privateKeyPem, publicKey: pair.publicKey };
}

/** Which `KeyAlgorithm` a key is, or null (RSA of another size, other curves, RSA-PSS, Ed25519...). */
export function keyAlgorithmOf(key: crypto.KeyObject): KeyAlgorithm | null {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength;
    return bits === 2048 ? 'rsa2048' : bits === 3072 ? 'rsa3072' : bits === 4096 ? 'rsa4096' : null;
  }
  if (key.asymmetricKeyType === 'ec') {
    return details.namedCurve === 'prime256v1' ? 'ec-p256' : details.namedCurve === 'secp384r1' ? 'ec-p384' : null;
  }
  return null;
}

/** A signer usable by @peculiar/x509: the WebCrypto private key plus the algorithm parameters. */
export interface CertificateSigner {
  signingKey: webcrypto.CryptoKey;
  signingAlgorithm: webcrypto.Algorithm | webcrypto.EcdsaParams;
}

/**
 * Imports a PKCS#8 (or PKCS#1 / SEC1) private key PEM into WebCrypto for
 * certificate signing with the given hash. RSA (PKCS#1 v1.5) and EC P-256/P-384/P-521.
 */
export async function importSigner(privateKeyPem: string, hash: SignatureHash = 'SHA-256'): Promise<CertificateSigner> {
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(privateKeyPem);
  } catch {
    throw new Error('private key could not be read (malformed or encrypted)');
  }
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  if (key.asymmetricKeyType === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash };
    const signingKey = await globalThis.crypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
    return { signingKey, signingAlgorithm: algorithm };
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : curve === 'secp521r1' ? 'P-521' : null;
    if (!namedCurve) throw new Error(`unsupported EC curve ${String(curve)}`);
    const signingKey = await globalThis.crypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve }, false, ['sign']);
    return { signingKey, signingAlgorithm: { name: 'ECDSA', hash } };
  }
  throw new Error(`unsupported key type ${String(key.asymmetricKeyType)}`);
}

/** A random 16-byte positive serial number, hex (first byte 0x01-0x7f: positive and minimally encoded). */
export function randomSerialHex(): string {
  const bytes = crypto.randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) || 0x01;
  return bytes.toString('hex');
}

export interface SubjectInput {
  cn: string;
  org?: string;
  ou?: string;
  city?: string;
  state?: string;
  /** 2-letter ISO 3166-1 code; validated (case-insensitive, stored upper case). */
  country?: string;
  /** DNS names (wildcards allowed) or IP addresses; default `[cn]`. */
  san?: string[];
}

/** ISO 3166-1 alpha-2 codes (officially assigned). */
const ISO_COUNTRIES = new Set(
  (
    'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ ' +
    'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR ' +
    'GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP ' +
    'KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT ' +
    'MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW ' +
    'SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG ' +
    'UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW'
  ).split(' '),
);

/** Validates and normalises a country code; throws a UserError when it is not ISO 3166-1 alpha-2. */
export function normalizeCountry(country: string): string {
  const cc = country.trim().toUpperCase();
  if (!ISO_COUNTRIES.has(cc)) throw new UserError(`country must be a 2-letter ISO 3166 code (e.g. US, DE, GB), got "${country}"`, 2);
  return cc;
}

const dnsLabel = /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$/;

/** True for a DNS name usable in a SAN: labels of letters/digits/-/_, optional leading `*.` wildcard. */
export function isDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.replace(/\.$/, '').split('.');
  if (labels[0] === '*') {
    if (labels.length < 3) return false; // no `*.com` or bare `*`
    labels.shift();
  }
  return labels.every((l) => dnsLabel.test(l));
}

/** SAN entries as GeneralNames: IPs as iPAddress, everything else must be a DNS name. */
export function sanEntries(names: readonly string[]): x509.JsonGeneralNames {
  if (names.length === 0) throw new UserError('at least one SAN entry is required', 2);
  return names.map((raw) => {
    const name = raw.trim();
    const ip = name.replace(/^\[(.*)\]$/, '$1');
    if (net.isIP(ip)) return { type: 'ip', value: ip };
    if (!isDnsName(name)) throw new UserError(`SAN entry "${raw}" is not a DNS name or IP address`, 2);
    return { type: 'dns', value: name.replace(/\.$/, '').toLowerCase() };
  });
}

/** Builds the distinguished name (C, ST, L, O, OU, CN order). C is PrintableString, the rest UTF8String. */
export function subjectName(subject: SubjectInput): x509.Name {
  const parts: x509.JsonNameParams = [];
  const add = (type: string, value: string | undefined, max: number): void => {
    if (value === undefined || value === '') return;
    if (value.length > max) throw new UserError(`${type} must be at most ${max} characters`, 2);
    parts.push({ [type]: [type === 'C' ? { printableString: value } : { utf8String: value }] });
  };
  if (subject.country !== undefined && subject.country !== '') add('C', normalizeCountry(subject.country), 2);
  add('ST', subject.state, 128);
  add('L', subject.city, 128);
  add('O', subject.org, 64);
  add('OU', subject.ou, 64);
  if (!subject.cn || subject.cn.trim() === '') throw new UserError('common name (cn) is required', 2);
  add('CN', subject.cn, 64);
  return new x509.Name(parts);
}

/** Leaf extensions shared by self-signed and (test) CA-issued certificates. */
export async function leafExtensions(
  publicKeySpki: Buffer,
  options: { rsa: boolean; san: x509.JsonGeneralNames; eku: readonly ('serverAuth' | 'clientAuth')[] },
): Promise<x509.Extension[]> {
  const usages = options.rsa ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment : x509.KeyUsageFlags.digitalSignature;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(usages, true),
    new x509.SubjectAlternativeNameExtension(options.san, false),
    await x509.SubjectKeyIdentifierExtension.create(toArrayBuffer(publicKeySpki)),
  ];
  if (options.eku.length > 0) {
    extensions.splice(2, 0, new x509.ExtendedKeyUsageExtension(options.eku.map((u) => x509.ExtendedKeyUsage[u]), false));
  }
  return extensions;
}

/** Copies a Node Buffer into a standalone ArrayBuffer (WebCrypto-friendly). */
export function toArrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

const DAY_MS = 86_400_000;

/**
 * A self-signed server certificate with a new key: serverAuth+clientAuth EKU,
 * keyUsage digitalSignature (+keyEncipherment for RSA), SAN DNS/IP entries
 * (default `[cn]`), random 16-byte serial, SHA-256 signature.
 * Validity: `now` (to the second) to `now + days`.
 */
export async function createSelfSigned(
  subject: SubjectInput,
  options: { key: KeyAlgorithm; days: number; now?: Date },
): Promise<{ certificatePem: string; privateKeyPem: string }> {
  if (!Number.isInteger(options.days) || options.days < 1 || options.days > 36_500) {
    throw new UserError('days must be a whole number from 1 to 36500', 2);
  }
  const name = subjectName(subject);
  const san = sanEntries(subject.san && subject.san.length > 0 ? subject.san : [subject.cn]);
  const { privateKeyPem, publicKey } = await generateKeyPair(options.key);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const signer = await importSigner(privateKeyPem, 'SHA-256');
  const notBefore = new Date(Math.floor((options.now ?? new Date()).getTime() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + options.days * DAY_MS);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: name,
    issuer: name,
    notBefore,
    notAfter,
    publicKey: toArrayBuffer(spki),
    signingKey: signer.signingKey,
    signingAlgorithm: signer.signingAlgorithm,
    extensions: await leafExtensions(spki, { rsa: publicKey.asymmetricKeyType === 'rsa', san, eku: ['serverAuth', 'clientAuth'] }),
  });
  return { certificatePem: cert.toString('pem') + '\n', privateKeyPem };
}

export const DEMO_CERTIFICATE_CN = 'Gatehouse Demo Certificate';
export const DEMO_CERTIFICATE_DAYS = 3652;

/**
 * The demo certificate (SPEC §2): CN `Gatehouse Demo Certificate`, RSA 2048,
 * SAN [hostname, localhost, 127.0.0.1], 10 years. Flagged as demo by the
 * profile's `source: 'demo'`, not by the certificate.
 */
export async function createDemoCertificate(hostname: string): Promise<{ certificatePem: string; privateKeyPem: string }> {
  const host = hostname.trim().replace(/\.$/, '').toLowerCase();
  const usable = isDnsName(host) || net.isIP(host) !== 0;
  const san = [...new Set([...(usable ? [host] : []), 'localhost', '127.0.0.1'])];
  return createSelfSigned({ cn: DEMO_CERTIFICATE_CN, san }, { key: 'rsa2048', days: DEMO_CERTIFICATE_DAYS });
}
