/**
 * Reading certificates and private keys as an administrator hands them over
 * (PEM bundles with CRLF, a BOM or text around the blocks, or one DER
 * certificate), and describing a certificate for `certconfig list|print` and
 * chain lint. Everything malformed is a one-line UserError without key
 * material (security catalogue §53).
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import crypto from 'node:crypto';
import { UserError } from '../core/errors.js';

x509.cryptoProvider.set(globalThis.crypto);

/** Largest certificate or key file accepted (bytes). */
export const PEM_MAX_BYTES = 1024 * 1024;

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/** Canonical PEM of a DER certificate (64-column base64, trailing newline). */
export function certificateToPem(der: Buffer | Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`;
}

/**
 * A DER certificate that Node can use: it parses, and so does its public key
 * (OpenSSL parses a certificate with a damaged SubjectPublicKeyInfo and only
 * fails when the key is read, later, with a raw library error). Throws on either.
 */
function parseCertificate(der: Buffer): crypto.X509Certificate {
  const cert = new crypto.X509Certificate(der);
  void cert.publicKey;
  return cert;
}

/**
 * The certificates of a PEM bundle (or a single DER certificate), as canonical
 * PEM in file order. `what` names the input in errors ("--cert FILE").
 * Refuses input with no certificate, a block that does not parse, or more
 * than `maxCount` certificates.
 */
export function readCertificates(input: string | Buffer, what: string, maxCount = 100): string[] {
  if (input.length > PEM_MAX_BYTES) throw new UserError(`${what}: larger than 1 MiB`);
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const text = buf.toString('latin1');
  const blocks = [...text.matchAll(CERT_BLOCK)];
  if (blocks.length === 0) {
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) throw new UserError(`${what}: holds a private key, not a certificate`);
    if (buf.length > 0 && buf[0] === 0x30) {
      try {
        return [certificateToPem(parseCertificate(buf).raw)];
      } catch {
        /* fall through */
      }
    }
    throw new UserError(`${what}: Could not read PEM data (no certificate found)`);
  }
  if (blocks.length > maxCount) throw new UserError(`${what}: more than ${maxCount} certificates`);
  return blocks.map((m, i) => {
    const body = m[1]!;
    if (!/^[A-Za-z0-9+/=\s]*$/.test(body)) throw new UserError(`${what}: certificate ${i + 1} is not valid base64`);
    try {
      return certificateToPem(parseCertificate(Buffer.from(body.replace(/\s+/g, ''), 'base64')).raw);
    } catch {
      throw new UserError(`${what}: certificate ${i + 1} could not be read`);
    }
  });
}

/**
 * A private key from PEM (PKCS#8, PKCS#1 or SEC1; unencrypted), as a
 * KeyObject. Encrypted keys are refused with how to decrypt them.
 */
export function readPrivateKey(input: string | Buffer, what: string): crypto.KeyObject {
  if (input.length > PEM_MAX_BYTES) throw new UserError(`${what}: larger than 1 MiB`);
  const text = (typeof input === 'string' ? input : input.toString('latin1')).replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(text) || /Proc-Type:\s*4,ENCRYPTED/.test(text)) {
    throw new UserError(`${what}: the private key is encrypted; decrypt it first (openssl pkey -in KEY -out plain-key.pem)`);
  }
  const block = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]*?-----END (?:RSA |EC )?PRIVATE KEY-----/.exec(text);
  if (!block) throw new UserError(`${what}: Invalid private key (no PEM private key block found)`);
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(block[0]);
  } catch {
    throw new UserError(`${what}: Invalid private key (malformed or unsupported)`);
  }
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ec') {
    throw new UserError(`${what}: unsupported key type ${String(key.asymmetricKeyType)} (use RSA or ECDSA P-256/P-384)`);
  }
  return key;
}

const SIGNATURE_ALGORITHMS: Record<string, { name: string; weak: boolean }> = {
  '1.2.840.113549.1.1.2': { name: 'md2WithRSAEncryption', weak: true },
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', weak: true },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', weak: true },
  '1.2.840.113549.1.1.10': { name: 'rsassaPss', weak: false },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', weak: false },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', weak: false },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', weak: false },
  '1.2.840.113549.1.1.14': { name: 'sha224WithRSAEncryption', weak: false },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', weak: true },
  '1.2.840.10045.4.3.1': { name: 'ecdsa-with-SHA224', weak: false },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', weak: false },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', weak: false },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', weak: false },
  '1.2.840.10040.4.3': { name: 'dsa-with-SHA1', weak: true },
  '2.16.840.1.101.3.4.3.2': { name: 'dsa_with_SHA256', weak: false },
  '1.3.101.112': { name: 'ED25519', weak: false },
  '1.3.101.113': { name: 'ED448', weak: false },
};

const CURVE_NAMES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

export interface CertificateInfo {
  /** The parsed certificate (Node). */
  cert: crypto.X509Certificate;
  pem: string;
  /** Distinguished name on one line, in certificate order: `C=US, O=Example, CN=mail.example.com`. */
  subject: string;
  issuer: string;
  /** First CN of the subject, or '' when there is none. */
  commonName: string;
  issuerCommonName: string;
  /** Serial number, upper-case hex. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** As OpenSSL prints them: `Jan  2 03:04:05 2026 GMT`. */
  validFrom: string;
  validTo: string;
  sanDns: string[];
  sanIp: string[];
  /** SAN entries as OpenSSL prints them: `DNS:a.example`, `IP Address:127.0.0.1`, `email:...`. */
  sanText: string[];
  keyType: 'RSA' | 'EC' | 'Ed25519' | 'Ed448' | 'DSA' | 'other';
  keyBits: number | null;
  /** `RSA 2048 bits`, `EC P-256 (256 bits)`. */
  keyDescription: string;
  curve: string | null;
  signatureAlgorithm: string;
  /** MD2, MD5 or SHA-1 signature. */
  weakSignature: boolean;
  isCa: boolean;
  /** Issued by itself and its signature verifies with its own key. */
  selfSigned: boolean;
  /** Extended key usage OIDs, or null when the extension is absent (any usage). */
  extendedKeyUsage: string[] | null;
  /** `AB:CD:...` as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint256: string;
}

function oneLine(dn: string): string {
  return dn.split('\n').filter((l) => l !== '').join(', ');
}

function firstCn(dn: string): string {
  const line = dn.split('\n').find((l) => l.startsWith('CN='));
  return line === undefined ? '' : line.slice(3);
}

function signatureAlgorithmOid(der: Buffer): string {
  try {
    const parsed = asn1js.fromBER(new Uint8Array(der));
    const top = parsed.result as asn1js.Sequence;
    const alg = (top.valueBlock.value[1] as asn1js.Sequence).valueBlock.value[0] as asn1js.ObjectIdentifier;
    return alg.valueBlock.toString();
  } catch {
    return 'unknown';
  }
}

const infoCache = new Map<string, CertificateInfo>();

/** Describes a certificate (PEM). Results are cached by content (certificates are immutable). */
export function describeCertificate(pem: string): CertificateInfo {
  const cached = infoCache.get(pem);
  if (cached) return cached;
  let cert: crypto.X509Certificate;
  try {
    cert = new crypto.X509Certificate(pem);
  } catch {
    throw new UserError('certificate could not be read');
  }
  const sanDns: string[] = [];
  const sanIp: string[] = [];
  const sanText: string[] = [];
  try {
    const names = new x509.X509Certificate(cert.raw).getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
    for (const n of names) {
      if (n.type === 'dns') {
        sanDns.push(n.value);
        sanText.push(`DNS:${n.value}`);
      } else if (n.type === 'ip') {
        sanIp.push(n.value);
        sanText.push(`IP Address:${n.value}`);
      } else if (n.type === 'email') sanText.push(`email:${n.value}`);
      else if (n.type === 'url') sanText.push(`URI:${n.value}`);
      else sanText.push(`${n.type}:${n.value}`);
    }
  } catch {
    /* an unparsable SAN extension reads as no SAN */
  }
  const pub = cert.publicKey;
  const details = pub.asymmetricKeyDetails ?? {};
  let keyType: CertificateInfo['keyType'] = 'other';
  let keyBits: number | null = null;
  let curve: string | null = null;
  let keyDescription: string;
  switch (pub.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      keyType = 'RSA';
      keyBits = details.modulusLength ?? null;
      keyDescription = `RSA ${keyBits ?? '?'} bits`;
      break;
    case 'ec': {
      keyType = 'EC';
      const named = details.namedCurve ?? 'unknown';
      curve = CURVE_NAMES[named] ?? named;
      keyBits = curve === 'P-256' ? 256 : curve === 'P-384' ? 384 : curve === 'P-521' ? 521 : null;
      keyDescription = `EC ${curve}${keyBits ? ` (${keyBits} bits)` : ''}`;
      break;
    }
    case 'ed25519':
      keyType = 'Ed25519';
      keyBits = 256;
      keyDescription = 'Ed25519';
      break;
    case 'ed448':
      keyType = 'Ed448';
      keyBits = 456;
      keyDescription = 'Ed448';
      break;
    case 'dsa':
      keyType = 'DSA';
      keyBits = details.modulusLength ?? null;
      keyDescription = `DSA ${keyBits ?? '?'} bits`;
      break;
    default:
      keyDescription = String(pub.asymmetricKeyType ?? 'unknown');
  }
  const sigOid = signatureAlgorithmOid(cert.raw);
  const sig = SIGNATURE_ALGORITHMS[sigOid] ?? { name: sigOid, weak: false };
  const selfSigned = isSelfSigned(cert);
  const info: CertificateInfo = {
    cert,
    pem: certificateToPem(cert.raw),
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    commonName: firstCn(cert.subject),
    issuerCommonName: firstCn(cert.issuer),
    serial: cert.serialNumber.toUpperCase(),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    validFrom: cert.validFrom,
    validTo: cert.validTo,
    sanDns,
    sanIp,
    sanText,
    keyType,
    keyBits,
    keyDescription,
    curve,
    signatureAlgorithm: sig.name,
    weakSignature: sig.weak,
    isCa: cert.ca,
    selfSigned,
    extendedKeyUsage: Array.isArray(cert.keyUsage) ? cert.keyUsage : null,
    fingerprint256: cert.fingerprint256,
  };
  if (infoCache.size > 2000) infoCache.clear();
  infoCache.set(pem, info);
  return info;
}

/** A short name for a certificate in messages: its CN, else its subject. */
export function certificateLabel(info: CertificateInfo): string {
  return info.commonName !== '' ? info.commonName : info.subject || `serial ${info.serial}`;
}

/** True when `child` names `parent` as issuer and `parent`'s key verifies its signature. */
export function isIssuedBy(child: crypto.X509Certificate, parent: crypto.X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

/**
 * Issued by itself: subject equals issuer and its own key verifies the
 * signature. (`checkIssued(itself)` is not enough: OpenSSL also wants
 * keyCertSign, which a self-signed leaf does not have.)
 */
export function isSelfSigned(cert: crypto.X509Certificate): boolean {
  try {
    return cert.subject === cert.issuer && cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}
