/**
 * Chain lint (SPEC §6.2): what is wrong with a certificate, its key and the
 * intermediates a profile serves. Each finding has a stable code, a severity
 * and one line saying what is wrong and how to fix it. Errors refuse an
 * upload, paste or import; warnings are shown and the change is kept.
 *
 * | code                    | severity | when |
 * |-------------------------|----------|------|
 * | key-mismatch            | error    | the profile's private key does not match the certificate |
 * | wrong-order             | error    | intermediates are not in issuing order (leaf, its issuer, that one's issuer...) — TLS 1.2 requires it |
 * | duplicate-intermediate  | warning  | a certificate is listed twice (served as given; strict verifiers such as the appliance's fail on it) |
 * | missing-intermediate    | error    | nothing supplied or trusted issued the leaf: the intermediate is missing |
 * | untrusted-root          | warning  | the chain is complete as supplied but ends at a root (or an issuer) that is in neither the system nor the custom CA list |
 * | unrelated-certificate   | warning  | a supplied certificate is not part of the leaf's chain |
 * | needless-root           | warning  | a self-signed root is supplied: peers must already have it |
 * | expired / not-yet-valid | error    | the leaf or a certificate on its path is outside its validity (warning for a certificate off the path) |
 * | weak-key                | error    | RSA or DSA below 2048 bits, DSA at all, or an EC curve TLS peers do not support |
 * | sha1-signature          | error    | the leaf or an intermediate is signed with SHA-1 (or MD5/MD2) — a root's self-signature does not matter |
 * | no-server-auth          | warning  | the extended key usage lacks serverAuth: TLS clients refuse it on a listener or the GUI |
 * | no-san                  | warning  | no subjectAltName: current clients ignore the CN |
 * | cn-not-fqdn             | warning  | the CN is not a fully qualified domain name |
 * | san-not-fqdn            | warning  | a SAN DNS name is not fully qualified |
 *
 * Self-signed leaves (the demo certificate, `certconfig new`, `rekey`) have no
 * path to a root by design: the path findings are skipped for them.
 * Path building is our own small builder over Node's `X509Certificate`
 * (`checkIssued` + `verify`), against Node's bundled roots plus the custom CA
 * list. Both lists count whether or not they are enabled for verification:
 * lint asks whether peers can verify our certificate, not whom we trust.
 */
import crypto from 'node:crypto';
import tls from 'node:tls';
import type { Config } from '../config/schema.js';
import { certificateLabel, describeCertificate, isIssuedBy, type CertificateInfo } from './certificate-info.js';

export type LintSeverity = 'error' | 'warning';
export type LintCode =
  | 'key-mismatch'
  | 'wrong-order'
  | 'duplicate-intermediate'
  | 'missing-intermediate'
  | 'untrusted-root'
  | 'unrelated-certificate'
  | 'needless-root'
  | 'expired'
  | 'not-yet-valid'
  | 'weak-key'
  | 'sha1-signature'
  | 'no-server-auth'
  | 'no-san'
  | 'cn-not-fqdn'
  | 'san-not-fqdn';

export interface LintFinding {
  code: LintCode;
  severity: LintSeverity;
  /** One line: what is wrong and how to fix it. */
  message: string;
  /** The certificate the finding is about (CN or subject), when it is about one. */
  certificate?: string;
}

export interface LintInput {
  /** Leaf certificate, PEM. */
  certificatePem: string;
  /** Intermediates in the order they will be served. */
  intermediatesPem: readonly string[];
  /** The key reference (`sha256:<SPKI hex>`) the certificate must match; omit to skip the check. */
  keyRef?: string;
  /** Trust anchors to build paths to (see `lintTrustAnchors`). */
  trustAnchors: readonly crypto.X509Certificate[];
  now: Date;
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const ANY_EKU = '2.5.29.37.0';
const MAX_PATH = 10;
/** A certificate that becomes valid within this margin is not "not yet valid": a fresh certificate and a clock a little behind. */
const CLOCK_SKEW_MS = 5 * 60_000;

let systemRoots: crypto.X509Certificate[] | undefined;

/** Node's bundled Mozilla roots, parsed once. */
export function systemRootCertificates(): crypto.X509Certificate[] {
  systemRoots ??= tls.rootCertificates.flatMap((pem) => {
    try {
      return [new crypto.X509Certificate(pem)];
    } catch {
      return [];
    }
  });
  return systemRoots;
}

/** Anchors for lint: Node's roots plus every custom CA (enabled or not: see the file comment). */
export function lintTrustAnchors(trust: Config['trustStore']): crypto.X509Certificate[] {
  const custom = trust.custom.flatMap((c) => {
    try {
      return [new crypto.X509Certificate(c.certificate)];
    } catch {
      return [];
    }
  });
  return [...systemRootCertificates(), ...custom];
}

const dnsLabel = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/** A fully qualified domain name: two or more LDH labels, a non-numeric TLD, an optional leading `*.` wildcard. */
export function isFqdn(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.replace(/\.$/, '').split('.');
  if (labels[0] === '*') labels.shift();
  if (labels.length < 2) return false;
  if (!labels.every((l) => dnsLabel.test(l))) return false;
  return !/^\d+$/.test(labels[labels.length - 1]!);
}

function keyRefOfCert(cert: crypto.X509Certificate): string {
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${crypto.createHash('sha256').update(spki).digest('hex')}`;
}

function sameCert(a: crypto.X509Certificate, b: crypto.X509Certificate): boolean {
  return a.raw.equals(b.raw);
}

/** The anchor that is the same CA as `cert` (identical, or same subject and key: a re-issued root). */
function matchingAnchor(cert: crypto.X509Certificate, anchors: readonly crypto.X509Certificate[]): crypto.X509Certificate | undefined {
  return anchors.find((a) => sameCert(a, cert) || (a.subject === cert.subject && a.publicKey.equals(cert.publicKey)));
}

type PathEnd =
  | { kind: 'anchor'; anchor: crypto.X509Certificate }
  | { kind: 'supplied-root' }
  | { kind: 'unknown-issuer' };

interface BuiltPath {
  /** Supplied certificates used, leaf first. */
  certs: CertificateInfo[];
  end: PathEnd;
}

/**
 * Depth-first path building from the leaf: an anchor that issued the current
 * certificate ends the path; otherwise each supplied issuer is tried in order.
 * Returns the first path that reaches an anchor, else the longest dead end.
 */
function buildPath(leaf: CertificateInfo, supplied: readonly CertificateInfo[], anchors: readonly crypto.X509Certificate[]): BuiltPath {
  let best: BuiltPath | undefined;
  const walk = (path: CertificateInfo[]): BuiltPath | undefined => {
    const current = path[path.length - 1]!;
    if (current.selfSigned) {
      const anchor = matchingAnchor(current.cert, anchors);
      const done: BuiltPath = { certs: path, end: anchor ? { kind: 'anchor', anchor } : { kind: 'supplied-root' } };
      if (anchor) return done;
      if (!best || path.length > best.certs.length || best.end.kind === 'unknown-issuer') best = done;
      return undefined;
    }
    const anchor = anchors.find((a) => isIssuedBy(current.cert, a));
    if (anchor) return { certs: path, end: { kind: 'anchor', anchor } };
    if (path.length < MAX_PATH) {
      for (const next of supplied) {
        if (path.includes(next)) continue;
        if (!isIssuedBy(current.cert, next.cert)) continue;
        const found = walk([...path, next]);
        if (found) return found;
      }
    }
    if (!best || (best.end.kind === 'unknown-issuer' && path.length > best.certs.length)) best = { certs: path, end: { kind: 'unknown-issuer' } };
    return undefined;
  };
  return walk([leaf]) ?? best ?? { certs: [leaf], end: { kind: 'unknown-issuer' } };
}

function validity(info: CertificateInfo, now: Date, severity: LintSeverity, role: string): LintFinding[] {
  const name = certificateLabel(info);
  if (now.getTime() > info.notAfter.getTime()) {
    return [{ code: 'expired', severity, certificate: name, message: `${role} "${name}" expired on ${info.validTo}: renew it (certconfig csr, then upload the new certificate)` }];
  }
  if (now.getTime() + CLOCK_SKEW_MS < info.notBefore.getTime()) {
    return [
      {
        code: 'not-yet-valid',
        severity,
        certificate: name,
        message: `${role} "${name}" is not valid before ${info.validFrom}: wait until then or check this machine's clock`,
      },
    ];
  }
  return [];
}

function keyStrength(info: CertificateInfo, role: string): LintFinding[] {
  const name = certificateLabel(info);
  const weak = (why: string): LintFinding[] => [{ code: 'weak-key', severity: 'error', certificate: name, message: `${role} "${name}" has ${why}: issue a new certificate with RSA 2048+ or ECDSA P-256/P-384` }];
  if (info.keyType === 'RSA' && (info.keyBits ?? 0) < 2048) return weak(`a ${info.keyBits ?? '?'}-bit RSA key`);
  if (info.keyType === 'DSA') return weak('a DSA key');
  if (info.keyType === 'EC' && info.keyBits === null) return weak(`an EC key on curve ${info.curve ?? 'unknown'}, which TLS peers do not support`);
  return [];
}

/** Lints a leaf, its intermediates and (optionally) its key. Pure apart from certificate parsing. */
export function lintChain(input: LintInput): LintFinding[] {
  const findings: LintFinding[] = [];
  const leaf = describeCertificate(input.certificatePem);
  const leafName = certificateLabel(leaf);
  const given = input.intermediatesPem.map((pem) => describeCertificate(pem));

  // Key
  if (input.keyRef !== undefined && keyRefOfCert(leaf.cert) !== input.keyRef) {
    findings.push({
      code: 'key-mismatch',
      severity: 'error',
      certificate: leafName,
      message: `key does not sign certificate "${leafName}": upload the certificate issued for this profile's CSR, or paste the matching key`,
    });
  }

  // Leaf properties
  findings.push(...validity(leaf, input.now, 'error', 'certificate'));
  findings.push(...keyStrength(leaf, 'certificate'));
  if (leaf.weakSignature && !leaf.selfSigned) {
    findings.push({
      code: 'sha1-signature',
      severity: 'error',
      certificate: leafName,
      message: `certificate "${leafName}" is signed with ${leaf.signatureAlgorithm}, which TLS peers reject: have it re-issued with SHA-256`,
    });
  }
  if (leaf.extendedKeyUsage !== null && !leaf.extendedKeyUsage.includes(SERVER_AUTH) && !leaf.extendedKeyUsage.includes(ANY_EKU)) {
    findings.push({
      code: 'no-server-auth',
      severity: 'warning',
      certificate: leafName,
      message: `certificate "${leafName}" is not for TLS servers (no serverAuth extended key usage): use it only as the outbound client certificate, or have it re-issued`,
    });
  }
  if (leaf.sanDns.length === 0 && leaf.sanIp.length === 0) {
    findings.push({ code: 'no-san', severity: 'warning', certificate: leafName, message: `certificate "${leafName}" has no subjectAltName: current TLS clients ignore the CN, have it re-issued with the host names as SAN` });
  }
  if (leaf.commonName !== '' && !isFqdn(leaf.commonName)) {
    findings.push({ code: 'cn-not-fqdn', severity: 'warning', certificate: leafName, message: `common name "${leaf.commonName}" is not a fully qualified domain name (like mail.example.com): peers checking names will not match it` });
  }
  const badSans = leaf.sanDns.filter((n) => !isFqdn(n));
  if (badSans.length > 0) {
    findings.push({
      code: 'san-not-fqdn',
      severity: 'warning',
      certificate: leafName,
      message: `subjectAltName ${badSans.map((n) => `"${n}"`).join(', ')} ${badSans.length === 1 ? 'is' : 'are'} not fully qualified: peers will not match ${badSans.length === 1 ? 'it' : 'them'}`,
    });
  }

  // Duplicates (also of the leaf)
  const unique: CertificateInfo[] = [];
  for (const c of given) {
    if (sameCert(c.cert, leaf.cert) || unique.some((u) => sameCert(u.cert, c.cert))) {
      const name = certificateLabel(c);
      if (!findings.some((f) => f.code === 'duplicate-intermediate' && f.certificate === name)) {
        findings.push({ code: 'duplicate-intermediate', severity: 'warning', certificate: name, message: `"${name}" is supplied more than once: list each intermediate once (strict verifiers fail on duplicates)` });
      }
      continue;
    }
    unique.push(c);
  }

  // Roots supplied
  for (const c of unique) {
    if (c.selfSigned) {
      const name = certificateLabel(c);
      findings.push({ code: 'needless-root', severity: 'warning', certificate: name, message: `root CA "${name}" is supplied as an intermediate: peers must already have it, leave it out` });
    }
  }

  // Path
  const path = leaf.selfSigned ? undefined : buildPath(leaf, unique, input.trustAnchors);
  const onPath = new Set(path?.certs.slice(1) ?? []);
  if (path) {
    if (path.end.kind === 'unknown-issuer') {
      const top = path.certs[path.certs.length - 1]!;
      if (top === leaf) {
        findings.push({
          code: 'missing-intermediate',
          severity: 'error',
          certificate: leafName,
          message: `no supplied or trusted certificate issued "${leafName}" (issuer "${leaf.issuerCommonName || leaf.issuer}"): add the intermediate with --intermediate, or import your private root CA with certconfig ca import`,
        });
      } else {
        const topName = certificateLabel(top);
        findings.push({
          code: 'untrusted-root',
          severity: 'warning',
          certificate: topName,
          message: `the chain ends at "${topName}", issued by "${top.issuerCommonName || top.issuer}", which is in neither the system nor the custom CA list: if that is your private root CA, import it with certconfig ca import; otherwise add the missing intermediate`,
        });
      }
    } else if (path.end.kind === 'supplied-root') {
      const top = path.certs[path.certs.length - 1]!;
      const topName = certificateLabel(top);
      findings.push({
        code: 'untrusted-root',
        severity: 'warning',
        certificate: topName,
        message: `the chain ends at root CA "${topName}", which is in neither the system nor the custom CA list: peers that do not trust it cannot verify; if it is your private CA, import it with certconfig ca import`,
      });
    } else {
      const anchor = describeCertificate(path.end.anchor.toString());
      findings.push(...validity(anchor, input.now, 'warning', 'root CA'));
    }
    // Order: the supplied certificates on the path must come in path order.
    const pathOrder = path.certs.slice(1);
    const givenOrder = unique.filter((c) => onPath.has(c));
    if (givenOrder.some((c, i) => c !== pathOrder[i])) {
      findings.push({
        code: 'wrong-order',
        severity: 'error',
        message: `intermediates are out of order: give them as ${pathOrder.map((c) => `"${certificateLabel(c)}"`).join(', then ')} (each must sign the one before it)`,
      });
    }
  }

  for (const c of unique) {
    const name = certificateLabel(c);
    const isOnPath = onPath.has(c);
    if (!isOnPath && !c.selfSigned) {
      findings.push({ code: 'unrelated-certificate', severity: 'warning', certificate: name, message: `"${name}" is not part of the chain of "${leafName}": leave it out` });
    }
    if (c.selfSigned) {
      findings.push(...validity(c, input.now, 'warning', 'root CA'));
      continue;
    }
    findings.push(...validity(c, input.now, isOnPath ? 'error' : 'warning', 'intermediate'));
    findings.push(...keyStrength(c, 'intermediate'));
    if (c.weakSignature) {
      findings.push({
        code: 'sha1-signature',
        severity: isOnPath ? 'error' : 'warning',
        certificate: name,
        message: `intermediate "${name}" is signed with ${c.signatureAlgorithm}, which TLS peers reject: use the CA's current SHA-256 intermediate`,
      });
    }
  }
  return findings;
}

/** True when any finding is an error (the change must be refused). */
export function hasErrors(findings: readonly LintFinding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

/** `error missing-intermediate: ...` / `warning needless-root: ...` */
export function formatFinding(f: LintFinding): string {
  return `${f.severity} ${f.code}: ${f.message}`;
}
