/**
 * Why a peer's certificate chain does or does not verify, in the precise words
 * of `tlsverify` (SPEC §7): `duplicate intermediate <subject>`, `untrusted
 * root <subject>`, `missing intermediate for <subject>`, `certificate expired
 * <subject> since <date>`, `certificate not yet valid <subject>`.
 *
 * Input is the chain as the server sent it (from the TLS 1.2 probe, or Node's
 * rebuilt chain when the server speaks TLS 1.3 only) and the trust anchors
 * (the home's enabled trust lists). The checks, in this order:
 *
 * 1. a certificate sent twice → duplicate intermediate (strict verifiers,
 *    the appliance's among them, fail on it even when OpenSSL does not);
 * 2. path building from the leaf over the sent certificates (issuer name and
 *    signature, `X509Certificate.checkIssued` + `verify`) to an anchor:
 *    * the path ends at a self-signed certificate that is not trusted →
 *      untrusted root <that certificate>;
 *    * nothing sent or trusted issued the leaf → missing intermediate for
 *      <leaf>;
 *    * the path ends at a sent CA whose issuer is neither sent nor trusted →
 *      untrusted root <that issuer's name> (servers leave the root out, so the
 *      certificate missing from the trust store is the root; the same
 *      convention as chain lint's `untrusted-root`);
 * 3. validity of every certificate on the path, the anchor included, at
 *    `now` (leaf first) → expired / not yet valid.
 *
 * Dates are ISO 8601 UTC without milliseconds. Subjects are the one-line
 * distinguished name (`O=Example, CN=mx.example.com`).
 */
import crypto from 'node:crypto';
import { isIssuedBy, isSelfSigned } from '../tls/certificate-info.js';

export type ChainFailure =
  | { code: 'no-certificate' }
  | { code: 'duplicate-intermediate'; subject: string }
  | { code: 'untrusted-root'; subject: string }
  | { code: 'missing-intermediate'; subject: string }
  | { code: 'expired'; subject: string; since: string }
  | { code: 'not-yet-valid'; subject: string };

export type ChainVerdict =
  | { ok: true; anchor: crypto.X509Certificate; path: crypto.X509Certificate[] }
  | { ok: false; failure: ChainFailure };

const MAX_PATH = 10;

/** `O=Example, CN=mx.example.com` from Node's multi-line form. */
export function oneLineName(dn: string): string {
  return dn
    .split('\n')
    .filter((l) => l !== '')
    .join(', ');
}

/** `2026-01-02T03:04:05Z`. */
export function isoDate(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The reason as `tlsverify` prints it after `TLS verification failed: `. */
export function chainFailureText(f: ChainFailure): string {
  switch (f.code) {
    case 'no-certificate':
      return 'no certificate presented';
    case 'duplicate-intermediate':
      return `duplicate intermediate ${f.subject}`;
    case 'untrusted-root':
      return `untrusted root ${f.subject}`;
    case 'missing-intermediate':
      return `missing intermediate for ${f.subject}`;
    case 'expired':
      return `certificate expired ${f.subject} since ${f.since}`;
    case 'not-yet-valid':
      return `certificate not yet valid ${f.subject}`;
  }
}

function sameCert(a: crypto.X509Certificate, b: crypto.X509Certificate): boolean {
  return a.raw.equals(b.raw);
}

/** The anchor that is this very CA (identical, or same subject and key: a re-issued root). */
function anchorFor(cert: crypto.X509Certificate, anchors: readonly crypto.X509Certificate[]): crypto.X509Certificate | undefined {
  return anchors.find((a) => sameCert(a, cert) || (a.subject === cert.subject && a.publicKey.equals(cert.publicKey)));
}

type PathEnd = { kind: 'anchor'; anchor: crypto.X509Certificate } | { kind: 'untrusted-self-signed' } | { kind: 'unknown-issuer' };

interface BuiltPath {
  certs: crypto.X509Certificate[];
  end: PathEnd;
}

function buildPath(leaf: crypto.X509Certificate, supplied: readonly crypto.X509Certificate[], anchors: readonly crypto.X509Certificate[]): BuiltPath {
  let best: BuiltPath | undefined;
  const better = (p: BuiltPath): boolean => !best || p.certs.length > best.certs.length;
  const walk = (path: crypto.X509Certificate[]): BuiltPath | undefined => {
    const current = path[path.length - 1]!;
    const self = anchorFor(current, anchors);
    if (self) return { certs: path, end: { kind: 'anchor', anchor: self } };
    const issuer = anchors.find((a) => isIssuedBy(current, a));
    if (issuer) return { certs: path, end: { kind: 'anchor', anchor: issuer } };
    if (isSelfSigned(current)) {
      const done: BuiltPath = { certs: path, end: { kind: 'untrusted-self-signed' } };
      if (better(done)) best = done;
      return undefined;
    }
    if (path.length < MAX_PATH) {
      for (const next of supplied) {
        if (path.some((p) => sameCert(p, next))) continue;
        if (!isIssuedBy(current, next)) continue;
        const found = walk([...path, next]);
        if (found) return found;
      }
    }
    const dead: BuiltPath = { certs: path, end: { kind: 'unknown-issuer' } };
    if (better(dead)) best = dead;
    return undefined;
  };
  return walk([leaf]) ?? best ?? { certs: [leaf], end: { kind: 'unknown-issuer' } };
}

/** Parses DER or PEM certificates; one that does not parse is skipped (and so cannot help a path). */
export function parseCertificates(items: readonly (Buffer | string)[]): crypto.X509Certificate[] {
  return items.flatMap((item) => {
    try {
      return [new crypto.X509Certificate(item)];
    } catch {
      return [];
    }
  });
}

/** Analyses a chain as sent (leaf first) against the trust anchors at `now`. */
export function analyseChain(sent: readonly crypto.X509Certificate[], anchors: readonly crypto.X509Certificate[], now: Date): ChainVerdict {
  const leaf = sent[0];
  if (!leaf) return { ok: false, failure: { code: 'no-certificate' } };
  const unique: crypto.X509Certificate[] = [];
  for (const c of sent) {
    if (unique.some((u) => sameCert(u, c))) return { ok: false, failure: { code: 'duplicate-intermediate', subject: oneLineName(c.subject) } };
    unique.push(c);
  }
  const path = buildPath(leaf, unique.slice(1), anchors);
  if (path.end.kind === 'untrusted-self-signed') {
    const top = path.certs[path.certs.length - 1]!;
    return { ok: false, failure: { code: 'untrusted-root', subject: oneLineName(top.subject) } };
  }
  if (path.end.kind === 'unknown-issuer') {
    const top = path.certs[path.certs.length - 1]!;
    if (path.certs.length === 1) return { ok: false, failure: { code: 'missing-intermediate', subject: oneLineName(top.subject) } };
    return { ok: false, failure: { code: 'untrusted-root', subject: oneLineName(top.issuer) } };
  }
  const anchor = path.end.anchor;
  const onPath = path.certs.some((c) => sameCert(c, anchor)) ? path.certs : [...path.certs, anchor];
  for (const c of onPath) {
    if (now.getTime() > new Date(c.validTo).getTime()) {
      return { ok: false, failure: { code: 'expired', subject: oneLineName(c.subject), since: isoDate(new Date(c.validTo)) } };
    }
    if (now.getTime() < new Date(c.validFrom).getTime()) return { ok: false, failure: { code: 'not-yet-valid', subject: oneLineName(c.subject) } };
  }
  return { ok: true, anchor, path: path.certs };
}
